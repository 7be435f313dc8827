"""moto's S3 server as a separate process, shared by every test of one pytest run.

Started on first use (``python -m moto.server`` bound to 127.0.0.1 on a free
port), never in-process. Its lifetime is bounded four ways: pytest's config
cleanup kills it at the end of the run, an ``atexit`` hook does if pytest exits
early, the kernel does if pytest dies (``PR_SET_PDEATHSIG`` on Linux), and a
timer does after :data:`MAX_LIFETIME` seconds whatever happens.

Without moto or s3fs installed the S3 tests skip, except under ``CI=true``
where that is a failure (as for database servers in :mod:`tests.backends`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.backends import IN_CI

#: Seconds the server may live at most, whatever happens to the test run.
MAX_LIFETIME = float(os.environ.get("SQLSPEC_ADK_MOTO_LIFETIME", "1200"))
BUCKET = "sqlspec-adk-tests"
#: Recognizable fake credentials: tests check they never show up in a repr or a log record.
ACCESS_KEY = "AKIASQLSPECADKTEST01"
SECRET_KEY = "sqlspec-adk-test-secret-Zq8XvP3"


@dataclass
class MotoS3:
    """A running moto S3 server and the fsspec options that reach it."""

    endpoint: str
    process: subprocess.Popen[bytes]
    log_path: str
    timer: threading.Timer | None = None
    bucket: str = BUCKET
    stopped: bool = field(default=False)

    @property
    def options(self) -> dict[str, Any]:
        """s3fs keywords: credentials and the endpoint, passed through as storage options."""
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": "us-east-1"},
        }

    def new_prefix_uri(self) -> str:
        """A fresh ``s3://bucket/<uuid>`` root for one test."""
        return f"s3://{self.bucket}/{uuid.uuid4().hex}"

    def stop(self) -> None:
        """Kill the server (idempotent) and wait for it to go."""
        if self.stopped:
            return
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
        _kill(self.process)
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


_server: MotoS3 | None = None


def missing_requirement() -> str | None:
    """Why the S3 tests cannot run here, or None."""
    for module, package in (("moto.server", "moto[server]"), ("s3fs", "s3fs"), ("flask", "moto[server]")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return f"s3: {package} is not installed (pip install -e '.[dev]')"
    return None


def require_moto_s3(config: pytest.Config) -> MotoS3:
    """The run's moto server, started on first use; skips (fails under CI=true) when moto is missing."""
    global _server
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(reason + " (CI=true: the S3 tests must run)")
        pytest.skip(reason)
    if _server is None or _server.stopped or _server.process.poll() is not None:
        _server = _start()
        config.add_cleanup(_server.stop)
        atexit.register(_server.stop)
    return _server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _start(attempts: int = 3) -> MotoS3:
    last_error = ""
    for _ in range(attempts):
        port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix="sqlspec-adk-moto-", suffix=".log", delete=False)  # noqa: SIM115
        process = subprocess.Popen(  # the server must be its own process, not moto's in-thread server
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log.close()
        timer = threading.Timer(MAX_LIFETIME, _kill, args=(process,))
        timer.daemon = True
        timer.start()
        server = MotoS3(f"http://127.0.0.1:{port}", process, log.name, timer)
        try:
            _wait_ready(server)
        except Exception as error:
            with open(log.name, encoding="utf-8", errors="replace") as handle:
                last_error = f"{error}; server output: {handle.read()[-2000:]}"
            server.stop()
            continue
        return server
    raise RuntimeError(f"moto S3 server did not start: {last_error}")


def _wait_ready(server: MotoS3, timeout: float = 30.0) -> None:
    import boto3

    deadline = time.monotonic() + timeout
    port = int(server.endpoint.rsplit(":", 1)[1])
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"moto exited with code {server.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto did not listen on port {port} within {timeout}s") from None
            time.sleep(0.1)
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=server.bucket)
    client.close()
