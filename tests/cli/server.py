"""Run ADK's server (through ``sqlspec-adk`` or ``adk``) as a child process, bounded and always killed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 90
STOP_SECONDS = 10
AGENT_SOURCE = """from sqlspec_adk.demo import build_agent

root_agent = build_agent()
"""


def write_agents(folder: Path, name: str = "notebook") -> Path:
    """An agents folder holding one offline agent package; returns the agents folder."""
    agent = folder / name
    agent.mkdir(parents=True)
    (agent / "__init__.py").write_text("from . import agent\n")
    (agent / "agent.py").write_text(AGENT_SOURCE)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env() -> dict[str, str]:
    """The test's environment, with the repository importable and no telemetry or local .adk storage surprises."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("ADK_DISABLE_LOAD_DOTENV", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Server:
    """One server process on 127.0.0.1; use as a context manager so it is always stopped."""

    def __init__(self, command: Sequence[str], cwd: Path, log: Path) -> None:
        self.port = free_port()
        self.command = [*command, "--host", "127.0.0.1", "--port", str(self.port)]
        self.cwd = cwd
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=child_env(), stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.request("GET", "/health")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not answer within {STARTUP_SECONDS}s:\n{self.log()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)
        if hasattr(self, "_log") and not self._log.closed:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
        return json.loads(text) if text else None


def sqlspec_adk_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sqlspec_adk.cli", *args]


def adk_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "google.adk.cli", *args]
