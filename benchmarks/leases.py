"""Run leases: what a benchmark run holds for its whole life, so a later run can clean up after a killed one.

A run holds, until it ends or its process dies, a lock per server (a PostgreSQL
session advisory lock, a MySQL named lock) and an ``flock`` on a file in its
temporary directory. The server and the kernel release those when the process
dies, even by SIGKILL, which no ``finally`` survives. Each new run sweeps what
it finds under the run naming scheme whose lock it can take: the namespaces,
commit-probe tables and directories of runs that are gone. A run still going
holds its locks, so its namespaces are left alone, on any host.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from benchmarks.servers import Server, _mysql_connect, pg_connect

__all__ = ["DIR_PREFIX", "Lease", "probe_table"]

DIR_PREFIX = "sqlspec-adk-bench-"
_LEASE_FILE = ".lease"
_NAMESPACE = re.compile(r"^bench_([0-9a-f]{8})_[0-9]+$")
_PROBE = re.compile(r"^bench_commit_probe_([0-9a-f]{8})$")
#: First key of the PostgreSQL advisory locks (the second is the run id): keeps clear of other users' locks.
_PG_LOCK_CLASS = 0x5ADB


def probe_table(run_id: str) -> str:
    """The table a run's commit-latency probe writes to (swept like its namespaces if the run dies)."""
    return f"bench_commit_probe_{run_id}"


def _pg_keys(run_id: str) -> tuple[int, int]:
    return _PG_LOCK_CLASS, int(run_id, 16) - 2**31  # fits PostgreSQL's signed int4


def _mysql_lock(run_id: str) -> str:
    return f"sqlspec_adk_bench_{run_id}"


class Lease:
    """The locks of one run (``acquire`` first, ``release`` last) and the sweep of dead runs' leftovers."""

    def __init__(self, run_id: str, root: Path, servers: dict[str, Server]) -> None:
        self.run_id = run_id
        self.root = root
        self.servers = servers
        self._file: IO[str] | None = None
        self._pg: Any = None
        self._mysql: Any = None

    async def acquire(self) -> list[str]:
        """Take this run's locks, then drop what dead runs left; returns one note per dead run swept."""
        notes = self._hold_directory()
        if "postgres" in self.servers:
            self._pg = await pg_connect(self.servers["postgres"])
            await self._pg.execute("SELECT pg_advisory_lock($1, $2)", *_pg_keys(self.run_id))
            notes += await self._sweep_postgres()
        if "mysql" in self.servers:
            self._mysql = await asyncio.to_thread(_mysql_connect, self.servers["mysql"], self.servers["mysql"].database)
            got = await asyncio.to_thread(self._mysql_value, "SELECT GET_LOCK(%s, 0)", _mysql_lock(self.run_id))
            if got != 1:
                raise RuntimeError(f"could not take the MySQL lock of run {self.run_id}")
            notes += await asyncio.to_thread(self._sweep_mysql)
        return notes

    async def release(self) -> None:
        if self._pg is not None:
            with contextlib.suppress(Exception):
                await self._pg.close()
            self._pg = None
        if self._mysql is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._mysql.close)
            self._mysql = None
        if self._file is not None:
            self._file.close()
            self._file = None

    # ----------------------------------------------------------------- sweeps
    def _hold_directory(self) -> list[str]:
        """Lock this run's directory (local files only: fast), then sweep dead runs' directories."""
        self._file = open(self.root / _LEASE_FILE, "w")  # noqa: SIM115 - held open for the whole run
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        notes = []
        for path in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*"):
            lease = path / _LEASE_FILE
            if path == self.root or not lease.is_file():
                continue  # another run's, still being set up; or not a run directory
            try:
                with open(lease) as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its run is alive
            except OSError:
                continue  # vanished meanwhile
            shutil.rmtree(path, ignore_errors=True)
            notes.append(f"removed {path}, left by a run that was killed")
        return notes

    async def _sweep_postgres(self) -> list[str]:
        rows = await self._pg.fetch(
            "SELECT nspname::text AS name, NULL::text AS schema FROM pg_namespace WHERE nspname LIKE 'bench\\_%'"
            " UNION ALL SELECT table_name::text, table_schema::text FROM information_schema.tables"
            " WHERE table_name LIKE 'bench\\_commit\\_probe\\_%'"
        )
        notes = []
        for run_id, objects in _dead_candidates(((row["name"], row["schema"]) for row in rows), self.run_id).items():
            keys = _pg_keys(run_id)
            if not await self._pg.fetchval("SELECT pg_try_advisory_lock($1, $2)", *keys):
                continue  # that run is alive
            try:
                for name, schema in objects:
                    if schema is None:
                        await self._pg.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
                    else:
                        await self._pg.execute(f'DROP TABLE IF EXISTS "{schema}"."{name}"')
            finally:
                await self._pg.execute("SELECT pg_advisory_unlock($1, $2)", *keys)
            notes.append(_note("PostgreSQL", run_id, objects))
        return notes

    def _sweep_mysql(self) -> list[str]:
        with self._mysql.cursor() as cursor:
            cursor.execute(
                "SELECT SCHEMA_NAME, NULL FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'bench\\\\_%'"
                " UNION ALL SELECT TABLE_NAME, TABLE_SCHEMA FROM information_schema.TABLES"
                " WHERE TABLE_NAME LIKE 'bench\\\\_commit\\\\_probe\\\\_%'"
            )
            rows = [(str(name), None if schema is None else str(schema)) for name, schema in cursor.fetchall()]
        notes = []
        for run_id, objects in _dead_candidates(rows, self.run_id).items():
            if self._mysql_value("SELECT GET_LOCK(%s, 0)", _mysql_lock(run_id)) != 1:
                continue  # that run is alive
            try:
                with self._mysql.cursor() as cursor:
                    for name, schema in objects:
                        if schema is None:
                            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                        else:
                            cursor.execute(f"DROP TABLE IF EXISTS `{schema}`.`{name}`")
            finally:
                self._mysql_value("SELECT RELEASE_LOCK(%s)", _mysql_lock(run_id))
            notes.append(_note("MySQL", run_id, objects))
        return notes

    def _mysql_value(self, sql: str, *args: object) -> Any:
        with self._mysql.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchone()[0]


def _dead_candidates(rows: Any, own_run: str) -> dict[str, list[tuple[str, str | None]]]:
    """Objects named by the run naming scheme, grouped by run id, other than this run's own."""
    grouped: dict[str, list[tuple[str, str | None]]] = {}
    for name, schema in rows:
        match = (_PROBE if schema is not None else _NAMESPACE).match(name)
        if match and match.group(1) != own_run:
            grouped.setdefault(match.group(1), []).append((name, schema))
    return grouped


def _note(server: str, run_id: str, objects: list[tuple[str, str | None]]) -> str:
    names = ", ".join(name for name, _ in objects)
    return f"dropped {names} on {server}, left by run {run_id} that was killed"
