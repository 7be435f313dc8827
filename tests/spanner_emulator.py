"""A private Cloud Spanner emulator for the tests: one process per test session, a fresh database per test.

The emulator (Debian package ``google-cloud-cli-spanner-emulator``; its
``emulator_main``, or the binary ``SQLSPEC_ADK_SPANNER_EMULATOR`` names) is
started on a free 127.0.0.1 port the first time a test needs it (:func:`require`
or :func:`problem`), and stopped by :func:`stop` (the session fixture in
tests/conftest.py) or, if this process dies first, by a watchdog shell.
Starting it sets ``SPANNER_EMULATOR_HOST`` in this process's environment, so
google-cloud-spanner clients here and in worker subprocesses reach it with
anonymous credentials, from a connection config that is plain JSON
(``project``, ``instance_id``, ``database_id``).

The emulator holds every database in memory and refuses a 101st database on an
instance (as Spanner's quota does): :func:`connection` creates one database per
test directory and :func:`discard` drops it when the test's backend closes; a
full instance is replaced by a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = "sqlspec-adk-test"
PACKAGE = "google-cloud-cli-spanner-emulator"
KNOWN_PATH = Path("/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main")
START_SECONDS = 30.0
GOOGLESQL = "GOOGLE_STANDARD_SQL"
POSTGRESQL = "POSTGRESQL"


def binary() -> Path | None:
    """The emulator's ``emulator_main``: ``$SQLSPEC_ADK_SPANNER_EMULATOR``, the package's file, or on PATH."""
    named = os.environ.get("SQLSPEC_ADK_SPANNER_EMULATOR")
    if named:
        return Path(named) if Path(named).is_file() else None
    if shutil.which("dpkg"):
        listing = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=False).stdout
        for line in listing.splitlines():
            if line.endswith("/emulator_main") and Path(line).is_file():
                return Path(line)
    if KNOWN_PATH.is_file():
        return KNOWN_PATH
    found = shutil.which("emulator_main")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Emulator:
    """One running emulator process and the databases made on it."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    watchdog: subprocess.Popen[bytes] | None = None
    instance_number: int = 0
    databases: dict[str, tuple[str, str]] = field(default_factory=dict)  #: key -> (instance, database)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _client: Any = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def instance_id(self) -> str:
        return f"test-{self.instance_number}"

    @classmethod
    def start(cls, path: Path) -> Emulator:
        directory = Path(tempfile.mkdtemp(prefix="sqlspec-adk-spanner-"))
        last = ""
        for _ in range(3):  # a port taken between the probe and the bind: try another one
            port = _free_port()
            log = (directory / "emulator.log").open("wb")
            process = subprocess.Popen(
                [str(path), f"--host_port=127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the test run reaches pytest, which stops it in order
            )
            log.close()
            emulator = cls(process, port, directory)
            if emulator._wait_listening():
                emulator.watchdog = emulator._watch()
                return emulator
            last = (directory / "emulator.log").read_text(errors="replace")[-2000:]
            emulator.stop()
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"the Spanner emulator did not start: {last}")

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def _watch(self) -> subprocess.Popen[bytes]:
        """A detached shell that kills the emulator if this process dies without stopping it."""
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null && kill -0 {self.process.pid} 2>/dev/null; do sleep 1; done; "
            f"kill -9 {self.process.pid} 2>/dev/null; rm -rf {self.directory}"
        )
        return subprocess.Popen(
            ["/bin/sh", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def client(self) -> Any:
        """An admin client of this emulator (anonymous credentials: ``SPANNER_EMULATOR_HOST`` is set)."""
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import spanner

            self._client = spanner.Client(project=PROJECT, credentials=AnonymousCredentials())
        return self._client

    def create_instance(self) -> None:
        instance = self.client().instance(
            self.instance_id,
            configuration_name=f"projects/{PROJECT}/instanceConfigs/emulator-config",
            display_name=self.instance_id,
            node_count=1,
        )
        instance.create().result(START_SECONDS)

    def create_database(self, database_id: str, dialect: str = GOOGLESQL) -> dict[str, Any]:
        """A new empty database (``dialect``: GoogleSQL or PostgreSQL); its connection config."""
        from google.api_core import exceptions
        from google.cloud.spanner_admin_database_v1.types import DatabaseDialect

        while True:
            instance = self.client().instance(self.instance_id)
            database = instance.database(database_id, database_dialect=getattr(DatabaseDialect, dialect))
            try:
                database.create().result(START_SECONDS)
            except exceptions.ResourceExhausted:  # 100 databases on the instance: start another one
                self.instance_number += 1
                self.create_instance()
                continue
            return {"project": PROJECT, "instance_id": self.instance_id, "database_id": database_id}

    def drop_database(self, instance_id: str, database_id: str) -> None:
        from google.api_core import exceptions

        with contextlib.suppress(exceptions.NotFound):  # already gone
            self.client().instance(instance_id).database(database_id).drop()

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.kill()
            self.watchdog.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


_lock = threading.Lock()
_emulator: Emulator | None = None
_problem: str | None = None
_previous_host: str | None = None


def problem() -> str | None:
    """Start the emulator if it is not running yet; None when it runs, else why it cannot."""
    global _emulator, _problem, _previous_host
    with _lock:
        if _emulator is not None or _problem is not None:
            return _problem
        path = binary()
        if path is None:
            _problem = f"no Spanner emulator binary (package {PACKAGE}, or $SQLSPEC_ADK_SPANNER_EMULATOR)"
            return _problem
        try:
            import google.cloud.spanner  # noqa: F401 - the driver is what talks to the emulator
        except ImportError as error:
            _problem = f"google-cloud-spanner is not installed ({error})"
            return _problem
        try:
            emulator = Emulator.start(path)
        except (OSError, RuntimeError) as error:
            _problem = f"the Spanner emulator at {path} did not start: {error}"
            return _problem
        _previous_host = os.environ.get("SPANNER_EMULATOR_HOST")
        os.environ["SPANNER_EMULATOR_HOST"] = emulator.host
        try:
            emulator.create_instance()
        except Exception as error:
            emulator.stop()
            _problem = f"the Spanner emulator at {path} refused an instance: {error}"
            return _problem
        _emulator = emulator
        return None


def running() -> Emulator:
    """The running emulator (started by :func:`problem` first)."""
    reason = problem()
    if _emulator is None:
        raise RuntimeError(reason or "the Spanner emulator is not running")
    return _emulator


def _database_id(key: str) -> str:
    # 2-30 characters, a lowercase letter first.
    return "t" + hashlib.sha1(key.encode()).hexdigest()[:20]


def connection(tmp_path: Path, dialect: str = GOOGLESQL) -> dict[str, Any]:
    """The connection config of the test directory's own database, created on first use."""
    emulator = running()
    key = f"{tmp_path.resolve()}:{dialect}"
    with emulator.lock:
        if key not in emulator.databases:
            config = emulator.create_database(_database_id(key), dialect)
            emulator.databases[key] = (config["instance_id"], config["database_id"])
        instance_id, database_id = emulator.databases[key]
    return {"project": PROJECT, "instance_id": instance_id, "database_id": database_id}


def uri(tmp_path: Path) -> str:
    """The ``sqlspec+spanner:///projects/...`` URI of the test directory's database."""
    found = connection(tmp_path)
    return f"sqlspec+spanner:///projects/{found['project']}/instances/{found['instance_id']}/databases/{found['database_id']}"


def discard(tmp_path: Path) -> None:
    """Drop the test directory's databases (the emulator keeps every database in memory until then)."""
    if _emulator is None:
        return
    prefix = f"{tmp_path.resolve()}:"
    with _emulator.lock:
        keys = [key for key in _emulator.databases if key.startswith(prefix)]
        for key in keys:
            _emulator.drop_database(*_emulator.databases.pop(key))


def stop() -> None:
    """Stop the emulator if it was started (the end of the test session)."""
    global _emulator, _problem
    with _lock:
        if _emulator is not None:
            _emulator.stop()
            if _previous_host is None:
                os.environ.pop("SPANNER_EMULATOR_HOST", None)
            else:
                os.environ["SPANNER_EMULATOR_HOST"] = _previous_host
        _emulator, _problem = None, None
