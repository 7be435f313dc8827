"""A benchmark run killed by SIGKILL leaves schemas, databases and files; the next run drops them, and only them.

The killed run is a real process (``kill -9`` while it holds its namespaces). A
second, live run holds its lease in this process: its namespaces must survive
the sweep. Fails when the sweep ignores the locks (the live run's schema is
dropped) or when runs hold no lease (the dead run's leftovers stay).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.backends import IN_CI, SERVER_DSNS, server_reachable

ROOT = Path(__file__).resolve().parent.parent

_KILLED_RUN = """
import asyncio, sys, tempfile, time
from pathlib import Path
from benchmarks.leases import DIR_PREFIX, Lease, probe_table
from benchmarks.servers import Namespaces, servers_from_env

async def main(run_id):
    servers, _ = await servers_from_env({"postgres", "mysql"})
    root = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{run_id}-"))
    lease = Lease(run_id, root, servers)
    await lease.acquire()
    namespaces = Namespaces(run_id, root, servers)
    await namespaces.endpoint("postgres", "asyncpg")
    await namespaces.endpoint("mysql", "aiomysql")
    (root / "asyncpg" / "blob").write_bytes(b"x")
    print("READY", root, flush=True)
    time.sleep(600)

asyncio.run(main(sys.argv[1]))
"""


def _start_run_to_kill(run_id: str, tmp: Path) -> tuple[subprocess.Popen[str], Path]:
    """A run in its own process, holding its lease and two namespaces; returns it and its directory."""
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, run_id],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("READY"), line
    return process, Path(line.split()[1])


def _exists(path: Path) -> bool:
    return path.exists()


def _servers_or_skip() -> None:
    missing = [name for name in ("postgres", "mysql") if not server_reachable(name)]
    if missing:
        message = f"benchmark leases need {', '.join(missing)} ({', '.join(SERVER_DSNS[m] for m in missing)})"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing server is a failure)")
        pytest.skip(message)


async def _pg_schemas(prefix: str) -> set[str]:
    import asyncpg

    connection = await asyncpg.connect(SERVER_DSNS["postgres"])
    try:
        rows = await connection.fetch("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix)
        return {row["nspname"] for row in rows}
    finally:
        await connection.close()


def _mysql_databases(prefix: str) -> set[str]:
    from benchmarks.servers import MYSQL_DSN, _mysql_connect, _parse

    connection = _mysql_connect(_parse("mysql", MYSQL_DSN, 3306))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
            return {str(name) for (name,) in cursor.fetchall() if str(name).startswith(prefix)}
    finally:
        connection.close()


async def test_the_next_run_drops_what_a_killed_run_left_and_spares_a_live_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _servers_or_skip()
    from benchmarks.leases import DIR_PREFIX, Lease
    from benchmarks.servers import Namespaces, servers_from_env

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # runs' directories live here, for both processes
    dead_id, live_id, next_id = (uuid.uuid4().hex[:8] for _ in range(3))
    killed, dead_root = _start_run_to_kill(dead_id, tmp_path)
    servers, _ = await servers_from_env({"postgres", "mysql"})
    live = Lease(live_id, Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{live_id}-")), servers)
    sweeper = Lease(next_id, Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{next_id}-")), servers)
    live_namespaces = Namespaces(live_id, live.root, servers)
    try:
        assert await _pg_schemas(f"bench_{dead_id}_") == {f"bench_{dead_id}_1"}
        assert _mysql_databases(f"bench_{dead_id}_") == {f"bench_{dead_id}_2"}

        await live.acquire()
        await live_namespaces.endpoint("postgres", "asyncpg")
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)

        notes = await sweeper.acquire()
        assert await _pg_schemas(f"bench_{dead_id}_") == set(), notes
        assert _mysql_databases(f"bench_{dead_id}_") == set(), notes
        assert not _exists(dead_root)
        assert await _pg_schemas(f"bench_{live_id}_") == {f"bench_{live_id}_1"}
        assert _exists(live.root)
        assert any(dead_id in note and "PostgreSQL" in note for note in notes), notes
        assert any(dead_id in note and "MySQL" in note for note in notes), notes
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
        await live_namespaces.drop_all()
        await live.release()
        await sweeper.release()
