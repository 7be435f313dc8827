"""Fault injection: dropped connections, a private PostgreSQL cluster to restart, statement-level hooks.

Nothing here touches a server other tests use: connection kills target only the
backends of one test (PostgreSQL: by its unique table names; MySQL: by a
dedicated account), and restarts happen on a private cluster in a temp dir.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlspec_adk.protocol import Op, Operation, Stmt
from tests.backends import MYSQL_DSN, PG_DSN
from tests.helpers import intercept

Fault = Callable[[], None]


# ------------------------------------------------------------------ statement hook
class Injector:
    """Hooks a store's config: once armed, the next write operation runs ``fault`` after its ``after``-th statement.

    The hook runs inside the transaction, between statements (``after`` < statement count) or after
    the last statement and before the driver's COMMIT (``after`` == count). A retried operation is
    built anew; the fault fires once.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.fired = False
        self._armed: tuple[int, Fault] | None = None
        self._target: int | None = None
        self.restore = intercept(store.config, self._wrap)

    def arm(self, after: int, fault: Fault) -> None:
        self.fired = False
        self._armed = (after, fault)

    def _wrap(self, op: Op[Any], operation: Operation[Any]) -> Op[Any]:
        if self._armed is None or not operation.write:  # reads pass through: the fault is for the next write
            return op
        if self._target is None:
            self._target = id(operation)
        if self._target != id(operation):
            return op
        after, fault = self._armed
        return self._faulty(op, after, fault)

    def _faulty(self, op: Op[Any], after: int, fault: Fault) -> Op[Any]:
        count = 0
        try:
            stmt: Stmt = next(op)
            while True:
                result = yield stmt
                count += 1
                if count == after and not self.fired:
                    self.fired = True
                    self._armed, self._target = None, None
                    fault()
                stmt = op.send(result)
        except StopIteration as stop:
            return stop.value


# ------------------------------------------------------------------ connection killers
def table_prefix(tables: dict[str, str]) -> str:
    """The unique prefix of one test's table names (``t1a2b3c4d_``)."""
    return tables["session_table"].rsplit("_", 1)[0] + "_"


class PostgresKiller:
    """Terminates the backends of one test (those whose last query names its tables) from another connection."""

    def __init__(self, dsn: str, prefix: str) -> None:
        import psycopg

        self.pattern = f"%{prefix}%"
        self.connection = psycopg.connect(dsn, autocommit=True)
        self.kills = 0
        self.spare: set[int] = set()  #: backend pids never killed (a test's own lock holder)

    def __call__(self) -> None:
        rows = self.connection.execute(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE %s "
            "AND NOT pid = ANY(%s)",
            (self.pattern, sorted(self.spare)),
        ).fetchall()
        pids = [row[0] for row in rows]
        self.kills += len(pids)
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            alive = self.connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            if not alive or not alive[0]:
                return
            time.sleep(0.01)

    def close(self) -> None:
        self.connection.close()


def mysql_admin_connection(dsn: str = MYSQL_DSN) -> Any:
    import pymysql

    parsed = urlparse(dsn)
    return pymysql.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=(parsed.path or "/test").lstrip("/") or "test",
        autocommit=True,
    )


class MysqlKiller:
    """A dedicated MySQL account for one test, and ``KILL`` of every connection it has open."""

    def __init__(self, dsn: str = MYSQL_DSN) -> None:
        self.admin = mysql_admin_connection(dsn)
        self.user = f"rel_{uuid.uuid4().hex[:10]}"
        self.password = uuid.uuid4().hex
        database = (urlparse(dsn).path or "/test").lstrip("/") or "test"
        with self.admin.cursor() as cursor:
            for host in ("%", "localhost"):
                cursor.execute(f"CREATE USER '{self.user}'@'{host}' IDENTIFIED BY '{self.password}'")
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{self.user}'@'{host}'")
        self.kills = 0

    def connection(self, base: dict[str, Any]) -> dict[str, Any]:
        """``base`` (an adapter's connection config) logged in as the dedicated account."""
        return {**base, "user": self.user, "password": self.password}

    def __call__(self) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (self.user,))
            ids = [row[0] for row in cursor.fetchall()]
            for thread_id in ids:
                with contextlib.suppress(Exception):  # it may have gone already
                    cursor.execute(f"KILL CONNECTION {int(thread_id)}")
            self.kills += len(ids)
            deadline = time.monotonic() + 5
            while ids and time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM information_schema.processlist WHERE user = %s", (self.user,))
                row = cursor.fetchone()
                if not row or not row[0]:
                    return
                time.sleep(0.01)

    def close(self) -> None:
        with self.admin.cursor() as cursor:
            for host in ("%", "localhost"):
                cursor.execute(f"DROP USER IF EXISTS '{self.user}'@'{host}'")
        self.admin.close()


# ------------------------------------------------------------------ a private PostgreSQL cluster
def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]), reverse=True)
    if found:
        return Path(found[0]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ScratchPostgres:
    """A throwaway PostgreSQL cluster (initdb in a temp dir, own port), safe to restart and crash.

    As root the cluster runs as ``postgres`` (initdb refuses root). :meth:`stop` always removes it.
    """

    bin_dir: Path
    directory: Path
    port: int
    restarts: int = 0
    watchdog: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def available(cls) -> str | None:
        """None when a private cluster can be made here, else the reason it cannot."""
        bin_dir = _pg_bin()
        if bin_dir is None or not (bin_dir / "initdb").exists():
            return "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        if os.geteuid() == 0:
            import pwd

            if shutil.which("runuser") is None:
                return "running as root without runuser to start PostgreSQL as another user"
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root without a 'postgres' user to run a private cluster"
        return None

    @classmethod
    def start(cls) -> ScratchPostgres:
        bin_dir = _pg_bin()
        assert bin_dir is not None
        directory = Path(tempfile.mkdtemp(prefix="sqlspec-adk-pg-"))
        cluster = cls(bin_dir, directory, _free_port())
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        try:
            cluster._run("initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8")
            cluster._run(
                "pg_ctl",
                "-D",
                str(directory / "data"),
                "-l",
                str(directory / "log"),
                "-o",
                f"-p {cluster.port} -k {directory} -c listen_addresses=127.0.0.1 "
                + os.environ.get("SQLSPEC_ADK_SCRATCH_PG_OPTIONS", ""),
                "-w",
                "start",
            )
        except BaseException:
            cluster.stop()
            raise
        cluster.watchdog = cluster._watchdog()
        return cluster

    def _watchdog(self) -> subprocess.Popen[bytes]:
        """A detached shell that stops and removes the cluster if this process dies without doing so."""
        stop = [str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"]
        if os.geteuid() == 0:
            stop = ["runuser", "-u", "postgres", "--", *stop]
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{' '.join(stop)} >/dev/null 2>&1; rm -rf {self.directory}"
        )
        return subprocess.Popen(
            ["/bin/sh", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def restart(self, mode: str = "immediate") -> None:
        """Restart the server; ``immediate`` is a crash (no shutdown checkpoint, WAL replay at start)."""
        # -l: the new postmaster must not inherit our output pipes (run() would wait for them forever).
        data, log = str(self.directory / "data"), str(self.directory / "log")
        self._run("pg_ctl", "-D", data, "-l", log, "-m", mode, "-w", "restart")
        self.restarts += 1

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[ScratchPostgres]:
    cluster = ScratchPostgres.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class ScratchMariadb:
    """A throwaway MariaDB server (mariadb-install-db in a temp dir, own port), safe to crash and restart.

    Root has no password (``normal`` authentication) and database ``test`` exists. As root the server runs
    as ``mysql``. :meth:`stop` always removes it; a watchdog does if this process dies first.
    """

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    watchdog: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """None when a private server can be made here, else the reason it cannot."""
        for tool in ("mariadb-install-db", "mariadbd"):
            if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
                return f"no {tool} on this machine (MariaDB server binaries)"
        return None

    @classmethod
    def start(cls) -> ScratchMariadb:
        directory = Path(tempfile.mkdtemp(prefix="sqlspec-adk-mariadb-"))
        server = cls(directory, _free_port())
        if os.geteuid() == 0:
            shutil.chown(directory, "mysql", "mysql")
        try:
            install = [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={directory / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *(["--user=mysql"] if os.geteuid() == 0 else []),
            ]
            subprocess.run(install, check=True, capture_output=True, timeout=120)
            server._launch()
            server._admin("CREATE DATABASE IF NOT EXISTS test")
        except BaseException:
            server.stop()
            raise
        server.watchdog = server._watchdog()
        return server

    def _launch(self) -> None:
        command = [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={self.directory / 'data'}",
            f"--socket={self.directory / 'sock'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.directory / 'pid'}",
            f"--log-error={self.directory / 'error.log'}",
            "--innodb-buffer-pool-size=32M",
            "--skip-log-bin",
            *(["--user=mysql"] if os.geteuid() == 0 else []),
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.directory / 'error.log').read_text()[-2000:]}")
            try:
                self._admin("SELECT 1")
                return
            except Exception:
                time.sleep(0.1)
        raise TimeoutError("the private MariaDB server did not accept connections within 60 s")

    def _admin(self, sql: str) -> None:
        import pymysql

        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=2)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def _watchdog(self) -> subprocess.Popen[bytes]:
        """A detached shell that kills and removes the server if this process dies without doing so."""
        assert self.process is not None
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"kill -9 $(cat {self.directory / 'pid'}) 2>/dev/null; rm -rf {self.directory}"
        )
        return subprocess.Popen(
            ["/bin/sh", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def connection(self, connection: dict[str, Any]) -> dict[str, Any]:
        """A MySQL adapter's ``connection_config`` pointed at this server instead of the shared one."""
        return {**connection, "host": "127.0.0.1", "port": self.port, "user": "root", "password": ""}

    def restart(self) -> None:
        """A crash restart: SIGKILL (no clean shutdown, InnoDB recovers from its redo log), then start again."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self._launch()
        self.restarts += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()


def pg_dsn_default() -> str:
    return PG_DSN


# ------------------------------------------------------------------ a full filesystem
class FullMemoryFileSystem:
    """Registers ``fullmem://``: fsspec's memory filesystem refusing writes past a byte quota (ENOSPC)."""

    protocol = "fullmem"

    @staticmethod
    def register(quota: int) -> Any:
        import errno

        import fsspec
        from fsspec.implementations.memory import MemoryFileSystem

        class QuotaFileSystem(MemoryFileSystem):  # type: ignore[misc]
            protocol = ("fullmem",)
            root_marker = "/"
            limit = quota

            def used(self) -> int:
                return sum(len(f.getvalue()) for f in self.store.values() if hasattr(f, "getvalue"))

            def _check(self, path: str, adding: int) -> None:
                if self.used() + adding > self.limit:
                    raise OSError(errno.ENOSPC, "No space left on device", path)

            def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
                self._check(path, len(value))
                super().pipe_file(path, value, mode=mode, **kwargs)

            def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
                handle = super()._open(path, mode, **kwargs)
                if "w" in mode or "a" in mode:
                    write = handle.write

                    def quota_write(data: Any) -> int:
                        self._check(path, handle.tell() + len(memoryview(data).cast("B")))
                        return int(write(data))

                    handle.write = quota_write
                return handle

        QuotaFileSystem.store = {}
        QuotaFileSystem.pseudo_dirs = [""]
        fsspec.register_implementation("fullmem", QuotaFileSystem, clobber=True)
        return QuotaFileSystem
