"""What the recorded schema state decides, on every live family (the SQLite-only basics: test_cli_and_api.py).

- ``migrate current`` is read-only: on an empty database it prints 0 and
  runs nothing but SELECTs (no file, no table made);
- ``upgrade`` refuses a database recorded at a newer version, naming both;
  the stores read it and refuse to write;
- a store on a database behind the code fails before its first operation,
  naming ``sqlspec-adk migrate upgrade`` (``create_tables`` upgrades instead);
- a password in the URI appears in no output or log line, whether the
  command works or the server refuses it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.cli import main
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.migrations import LATEST_VERSION, current_version, drop_tables, read_state, upgrade
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Op, Stmt, operation
from sqlspec_adk.registry import config_from_uri, load_adapter
from tests.backends import MYSQL_DSN, PG_DSN
from tests.migrations.support import Family, uri

FAMILIES = [
    Family("sqlite", "sqlite", "sqlite"),
    Family("sqlite", "aiosqlite", "aiosqlite"),
    Family("sqlite", "adbc_sqlite", "adbc_sqlite"),
    Family("postgres", "asyncpg", "asyncpg"),
    Family("postgres", "psycopg_sync", "psycopg_sync"),
    Family("postgres", "adbc_postgresql", "adbc_postgresql"),
    Family("mysql", "asyncmy", "asyncmy"),
    Family("duckdb", "duckdb", "duckdb"),
    Family("duckdb", "adbc_duckdb", "adbc_duckdb"),
]
IDS = [family.driver for family in FAMILIES]


def _cli(*args: str) -> Any:
    """The CLI in a worker thread (it runs its own event loop)."""
    return asyncio.to_thread(main, list(args))


def _watch(config: Any) -> list[str]:
    seen: list[str] = []
    original = config.execute
    if asyncio.iscoroutinefunction(original):

        async def execute_async(connection: Any, stmt: Any) -> Any:
            seen.append(stmt.sql)
            return await original(connection, stmt)

        config.execute = execute_async
    else:

        def execute(connection: Any, stmt: Any) -> Any:
            seen.append(stmt.sql)
            return original(connection, stmt)

        config.execute = execute
    return seen


async def _set(config: Any, key: str, value: str) -> None:
    def build() -> Op[None]:
        yield Stmt(f"UPDATE {config.dialect.metadata_table} SET meta_value = ? WHERE meta_key = ?", (value, key))

    await config.arun(operation("set_version", build, write=True))


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_current_reads_only_and_newer_or_older_databases_are_refused(
    family: Family, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family.require()
    location = family.location(tmp_path)
    target = uri(family.driver, location, **family.tables())
    _, config = config_from_uri(target)
    store_cls = load_adapter(family.driver)[1]
    try:
        # Nothing applied: 0, read-only (the API, then the command).
        seen = _watch(config)
        assert await current_version(config) == 0
        assert all(sql.lstrip().upper().startswith("SELECT") for sql in seen), seen
        assert await _cli("migrate", "current", target) == 0
        assert f"schema version 0 (latest {LATEST_VERSION})" in capsys.readouterr().out
        assert (await read_state(config)).exists is False, "'migrate current' created the metadata table"
        if not family.server:
            assert not await asyncio.to_thread(os.path.exists, location[1:]), (
                "'migrate current' created the database file"
            )
        # Behind (here: never migrated): a store refuses before its first operation, naming the command.
        with pytest.raises(MigrationError, match="sqlspec-adk migrate upgrade"):
            await call(store_cls(config).create_session, app_name="a", user_id="u", session_id="s")
        assert (await read_state(config)).exists is False
        assert await upgrade(config) == LATEST_VERSION
        # Ahead: a newer sqlspec-adk migrated it.
        await _set(config, "schema_version:sessions", str(LATEST_VERSION + 1))
        with pytest.raises(MigrationError, match=rf"version {LATEST_VERSION + 1}\b.*version {LATEST_VERSION}\b"):
            await upgrade(config)
        assert await _cli("migrate", "upgrade", target) == 1
        err = capsys.readouterr().err
        assert f"version {LATEST_VERSION + 1}" in err and f"version {LATEST_VERSION})" in err, err
        _, fresh = config_from_uri(target)
        try:
            store = store_cls(fresh)
            assert await call(store.get_session, app_name="a", user_id="u", session_id="s") is None
            with pytest.raises(MigrationError, match="writes are refused"):
                await call(store.create_session, app_name="a", user_id="u", session_id="s")
        finally:
            await call(fresh.close_pool)
        # Behind again (an older version recorded): refused unless create_tables, which upgrades it.
        await _set(config, "schema_version:sessions", "1")
        _, behind = config_from_uri(target)
        _, automatic = config_from_uri(target, {"create_tables": True})
        try:
            with pytest.raises(MigrationError, match=r"version 1, .*sqlspec-adk migrate upgrade"):
                await call(store_cls(behind).get_session, app_name="a", user_id="u", session_id="s")
            made = await call(store_cls(automatic).create_session, app_name="a", user_id="u", session_id="s")
            assert made["session"]["id"] == "s"
            assert (await read_state(config)).version("sessions") == LATEST_VERSION
        finally:
            await call(behind.close_pool)
            await call(automatic.close_pool)
    finally:
        if family.server:
            await drop_tables(config)
        await call(config.close_pool)


SECRET = "Sup3r-Secret-pw"


def _with_password(dsn: str, port: int | None = None) -> str:
    rest = dsn.split("://", 1)[1]
    user, host = rest.split("@", 1)
    if port is not None:
        host = f"127.0.0.1:{port}/" + host.split("/", 1)[1]
    return f"{user}:{SECRET}@{host}"


@pytest.mark.parametrize(
    ("family", "case"),
    [
        (Family("postgres", "asyncpg", "asyncpg"), "works"),  # trust authentication: any password connects
        (Family("postgres", "asyncpg", "asyncpg"), "unreachable"),
        (Family("postgres", "adbc_postgresql", "adbc_postgresql"), "works"),
        (Family("postgres", "adbc_postgresql", "adbc_postgresql"), "unreachable"),
        (Family("mysql", "aiomysql", "aiomysql"), "refused"),  # root has no password: this one is refused
        (Family("mysql", "pymysql", "pymysql"), "unreachable"),
    ],
    ids=lambda value: value.driver if isinstance(value, Family) else value,
)
async def test_no_password_from_the_uri_in_any_output_or_log(
    family: Family, case: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    family.require()
    dsn = PG_DSN if family.name == "postgres" else MYSQL_DSN
    tables = family.tables()
    target = uri(family.driver, _with_password(dsn, 1 if case == "unreachable" else None), **tables)
    caplog.set_level(logging.DEBUG)
    codes = [await _cli("migrate", command, target) for command in ("current", "upgrade", "current")]
    out, err = capsys.readouterr()
    if case == "works":
        assert codes == [0, 0, 0], err
        assert "behind: run 'sqlspec-adk migrate upgrade" in out and "***@" in out
        _, config = config_from_uri(target)
        try:
            await drop_tables(config)
        finally:
            await call(config.close_pool)
    else:
        assert codes == [1, 1, 1], out
        assert err.count("sqlspec-adk migrate") == 3, err
    everything = out + err + "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert SECRET not in everything
