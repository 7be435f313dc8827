"""What the migration tests share: the live families and their URIs, catalogs to compare schemas by, the
``sqlspec-adk`` CLI in a subprocess (with a statement log and a pause point), and the released 0.1.0 tree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.backends import ADAPTERS, IN_CI, MYSQL_DSN, PG_DSN, _mysql_connection, require_server, unique_tables

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("upgrade_worker.py")
#: The released sqlspec-adk 0.1.0.
RELEASE = "f889721"


@dataclass(frozen=True)
class Family:
    """A live SQL family, reached through one registry driver (``spec``: its adapter in tests/backends.py)."""

    name: str
    driver: str
    spec: str

    @property
    def server(self) -> bool:
        return self.name in ("postgres", "mysql")

    def require(self) -> None:
        require_server(next(spec for spec in ADAPTERS if spec.name == self.spec))

    def location(self, tmp: Path, stem: str = "adk") -> str:
        """What follows ``sqlspec+<driver>://`` before the query: a file path or the server's DSN."""
        if self.name == "postgres":
            return PG_DSN.split("://", 1)[1]
        if self.name == "mysql":
            return MYSQL_DSN.split("://", 1)[1]
        return "/" + str(tmp / f"{stem}.{'duckdb' if self.name == 'duckdb' else 'db'}")

    def tables(self) -> dict[str, str]:
        """Table names of one test: unique on a shared server, the defaults in a file of the test's own."""
        return unique_tables() if self.server else {}


def uri(driver: str, location: str, **adk: Any) -> str:
    """``sqlspec+<driver>://<location>?<adk keys>`` (``_`` in a driver name written ``-``: the only scheme
    spelling URL parsers accept)."""
    query = urlencode({key: str(value).lower() if isinstance(value, bool) else value for key, value in adk.items()})
    return f"sqlspec+{driver.replace('_', '-')}://{location}" + (f"?{query}" if query else "")


def file_of(location: str) -> str:
    return location[1:]


# ---------------------------------------------------------------------------------------------------- catalogs


def _rows(cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def catalog(family: str, location: str, tables: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """The schema objects of one config's tables (names with the test's unique prefix normalized), and its
    recorded versions: two databases migrated the same way give equal catalogs."""
    found: dict[str, list[tuple[Any, ...]]]
    if family == "sqlite":
        import sqlite3

        connection = sqlite3.connect(file_of(location))
        try:
            found = {"objects": _rows(connection.cursor(), "SELECT type, name, tbl_name, sql FROM sqlite_master")}
            meta = _rows(connection.cursor(), f'SELECT meta_key, meta_value FROM "{_meta(tables)}"')
        finally:
            connection.close()
    elif family == "duckdb":
        import duckdb

        with duckdb.connect(file_of(location), read_only=True) as connection:
            found = {
                "tables": connection.execute("SELECT schema_name, table_name, sql FROM duckdb_tables()").fetchall(),
                "indexes": connection.execute("SELECT table_name, index_name, sql FROM duckdb_indexes()").fetchall(),
                "columns": connection.execute(
                    "SELECT table_name, column_name, data_type, is_nullable, column_default FROM duckdb_columns()"
                ).fetchall(),
            }
            meta = connection.execute(f'SELECT meta_key, meta_value FROM "{_meta(tables)}"').fetchall()
    elif family == "postgres":
        import psycopg

        with psycopg.connect(PG_DSN) as connection, connection.cursor() as cursor:
            like = _prefix(tables) + "%"
            found = {
                "columns": _rows(
                    cursor,
                    "SELECT table_name, column_name, data_type, is_nullable, column_default, generation_expression "
                    "FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE %s",
                    (like,),
                ),
                "indexes": _rows(
                    cursor,
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE %s",
                    (like,),
                ),
                "constraints": _rows(
                    cursor,
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid::regclass::text LIKE %s",
                    (like,),
                ),
            }
            meta = _rows(cursor, f'SELECT meta_key, meta_value FROM "{_meta(tables)}"')
    else:
        import pymysql

        connection = pymysql.connect(**_mysql_connection(MYSQL_DSN, "database"))
        try:
            cursor = connection.cursor()
            like = _prefix(tables) + "%"
            where = "WHERE table_schema = DATABASE() AND table_name LIKE %s"
            found = {
                "tables": _rows(
                    cursor,
                    f"SELECT table_name, engine, row_format, table_collation FROM information_schema.tables {where}",
                    (like,),
                ),
                "columns": _rows(
                    cursor,
                    "SELECT table_name, column_name, column_type, is_nullable, column_default, collation_name, extra "
                    f"FROM information_schema.columns {where}",
                    (like,),
                ),
                "indexes": _rows(
                    cursor,
                    "SELECT table_name, index_name, seq_in_index, column_name, non_unique, index_type "
                    f"FROM information_schema.statistics {where}",
                    (like,),
                ),
            }
            meta = _rows(cursor, f"SELECT meta_key, meta_value FROM `{_meta(tables)}`")
        finally:
            connection.close()
    found["meta"] = [row for row in meta if row[0] != "migration_lease"]
    prefix = _prefix(tables)
    return {key: sorted(tuple(_normal(value, prefix) for value in row) for row in rows) for key, rows in found.items()}


def _meta(tables: dict[str, str]) -> str:
    return tables.get("metadata_table", "adk_internal_metadata")


def _prefix(tables: dict[str, str]) -> str:
    name = tables.get("session_table", "")
    return name[: name.index("_") + 1] if "_" in name and name.startswith("t") and tables else "\x00"


def _normal(value: Any, prefix: str) -> Any:
    return value.replace(prefix, "T_") if isinstance(value, str) and prefix != "\x00" else str(value)


def apply_script(family: str, location: str, sql: str) -> None:
    """A script of statements (a generated file, ``render``'s output) executed the way a database's own client
    runs one: no parsing, no runner."""
    if family == "sqlite":
        import sqlite3

        connection = sqlite3.connect(location[1:])
        try:
            connection.executescript(sql)
        finally:
            connection.close()
    elif family == "postgres":
        import psycopg

        with psycopg.connect(PG_DSN) as connection:
            connection.execute(sql.encode())  # several statements, no parameters: the simple query protocol
    else:
        import pymysql
        from pymysql.constants import CLIENT

        connection = pymysql.connect(**_mysql_connection(MYSQL_DSN, "database"), client_flag=CLIENT.MULTI_STATEMENTS)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                while cursor.nextset():
                    pass
            connection.commit()
        finally:
            connection.close()


# ---------------------------------------------------------------------------------------------------- processes


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(extra or {})}
    env.pop("SQLSPEC_ADK_DEBUG", None)
    return env


def start_upgrade(
    target_uri: str, log: Path, *, pause_after: int = 0, wait: bool = False, command: str = "upgrade"
) -> subprocess.Popen[str]:
    """``sqlspec-adk migrate <command> URI`` in a new process, logging each statement it executes to ``log``
    (see upgrade_worker.py); with ``pause_after`` it stops after that many statements and waits to be killed;
    with ``wait`` it starts once :func:`release` is called."""
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(log), "1" if wait else "0", str(pause_after), "migrate", command, target_uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(),
        cwd=REPO,
    )


def release(processes: Sequence[subprocess.Popen[str]], timeout: float = 60.0) -> None:
    """Start waiting workers together: each has imported everything (``READY``) before any is let go."""
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "READY" in line, f"a worker did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.flush()


def kill_when_paused(process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Wait for the worker's ``PAUSED`` line, then kill -9 it (mid-upgrade)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()  # READY first
    while line and "PAUSED" not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    if "PAUSED" not in line:
        _, err = process.communicate(timeout=timeout)
        raise AssertionError(f"the upgrade never reached its pause point: exit {process.returncode}\n{err}")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=timeout)
    assert process.returncode == -signal.SIGKILL


def logged(log: Path) -> list[dict[str, Any]]:
    """What a worker executed: ``{"sql": ..., "error": <text or None>}`` per statement, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------- 0.1.0


def release_tree(into: Path) -> Path:
    """The released 0.1.0 package (``git archive`` of commit f889721's ``sqlspec_adk``), for a PYTHONPATH.

    Needs the repository's history (CI clones it with history); without it the test is skipped, or fails
    under CI=true.
    """
    found = subprocess.run(["git", "cat-file", "-e", f"{RELEASE}^{{commit}}"], cwd=REPO, capture_output=True)
    if found.returncode:
        message = f"commit {RELEASE} (sqlspec-adk 0.1.0) is not in this clone: {found.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", RELEASE, "sqlspec_adk"], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into
