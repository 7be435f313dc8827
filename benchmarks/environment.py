"""The machine and software a run measured: CPU count, RAM, load, Python, database and package versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "fsync_ms", "load_average"]

_PACKAGES = (
    "google-adk",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "psqlpy",
    "aiomysql",
    "asyncmy",
    "PyMySQL",
    "mysql-connector-python",
    "duckdb",
    "fsspec",
)


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fsync_ms(directory: Path, samples: int = 50) -> float:
    """Median time of one 4 KiB write + fsync in ``directory``: the floor under every durable SQLite commit."""
    path = directory / "fsync-probe"
    timings = []
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(samples):
            os.write(descriptor, b"\0" * 4096)
            start = time.perf_counter()
            os.fsync(descriptor)
            timings.append(time.perf_counter() - start)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)
    return round(statistics.median(timings) * 1000, 3)


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def describe_machine(server_versions: dict[str, str]) -> dict[str, Any]:
    """Everything docs/benchmarks.md states about where the figures came from."""
    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "servers": server_versions,
        "packages": packages,
        "commit": _git_commit(),
        "load_average_start": load_average(),
    }
