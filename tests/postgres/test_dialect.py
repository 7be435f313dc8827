"""PostgreSQL family specifics that need no scenario: error kinds, transaction rules, row counts.

psqlpy reports no row count, so the family keeps one rule instead of
rewriting statements in the adapter: its deletes and updates select their own
count (``WITH changed AS (... RETURNING 1) SELECT count(*)``), and every
statement it runs for ``Fetch.ROWCOUNT`` returns one row per row changed.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot

from sqlspec_adk.adapters._postgres import ADMIN_SHUTDOWN, classify_sqlstate
from sqlspec_adk.adapters.asyncpg import AsyncpgConfig
from sqlspec_adk.adapters.psqlpy import PsqlpyConfig
from sqlspec_adk.adapters.psycopg import PsycopgSyncConfig
from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Fetch, Stmt
from sqlspec_adk.settings import ADKConfig
from tests.conftest import Backend
from tests.helpers import raw


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("40001", ErrorKind.ROLLED_BACK),  # serialization failure (CockroachDB's retry error too)
        ("40P01", ErrorKind.ROLLED_BACK),  # deadlock
        ("57P01", ErrorKind.UNSENT),  # admin shutdown: the backend was gone before the statement
        ("57P02", ErrorKind.UNSENT),
        ("57P03", ErrorKind.UNSENT),  # cannot connect now (starting up)
        ("08001", ErrorKind.UNSENT),
        ("08004", ErrorKind.UNSENT),
        ("08006", ErrorKind.LOST),  # connection failure mid-statement
        ("08003", ErrorKind.LOST),
        ("23505", ErrorKind.DUPLICATE),
        ("23503", None),  # foreign key: the caller's error
        ("42P01", None),
        (None, None),
        ("", None),
    ],
)
def test_sqlstate_kinds(code: str | None, kind: ErrorKind | None) -> None:
    assert classify_sqlstate(code) is kind


class Coded(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_each_driver_reads_the_kinds_its_errors_carry() -> None:
    asyncpg_config, psycopg_config = AsyncpgConfig(), PsycopgSyncConfig()
    psqlpy_config = PsqlpyConfig()
    assert asyncpg_config.classify(Coded(f"FATAL: {ADMIN_SHUTDOWN}")) is ErrorKind.UNSENT
    assert asyncpg_config.classify(ConnectionResetError()) is ErrorKind.LOST
    assert asyncpg_config.classify(Coded("x", "40001")) is ErrorKind.ROLLED_BACK
    assert psycopg_config.classify(Coded("x", "23505")) is ErrorKind.DUPLICATE
    assert psycopg_config.classify(ValueError("not a driver error")) is None
    assert psqlpy_config.classify(Exception("ERROR: could not serialize access due to ...")) is ErrorKind.ROLLED_BACK
    assert psqlpy_config.classify(Exception(f"db error: FATAL: {ADMIN_SHUTDOWN}")) is ErrorKind.UNSENT
    assert psqlpy_config.classify(Exception("duplicate key value violates unique constraint")) is ErrorKind.DUPLICATE
    assert psqlpy_config.classify(Exception("syntax error")) is None


def test_transaction_rules() -> None:
    rules = PostgresDialect.rules
    assert rules.begin_write == ("BEGIN",)
    assert rules.begin_read == ("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",)  # one snapshot per read
    assert rules.alone_autocommit and rules.retry_attempts == 4 and rules.connection_attempts == 4
    assert (PostgresDialect.family, PostgresDialect.db_system) == ("postgresql", "postgresql")
    assert CockroachDialect.rules.begin_read == ("BEGIN TRANSACTION READ ONLY",)


def returns_rows(sql: str) -> bool:
    """Whether ``sql`` returns one row per changed row (a top-level RETURNING)."""
    return sqlglot.parse_one(dollar(sql), read="postgres").args.get("returning") is not None


@pytest.mark.parametrize("options", [{}, {"owner_id_column": "tenant_id INTEGER"}, {"schema": "x"}])
def test_skip_if_present_inserts_return_the_rows_they_insert(options: dict[str, Any]) -> None:
    dialect = PostgresDialect(ADKConfig.from_mapping(options))
    for sql in (dialect.sessions.insert_session_sql, dialect.artifacts.artifact_insert_sql):
        assert sql.endswith("ON CONFLICT DO NOTHING RETURNING 1") and returns_rows(sql)
    assert dialect.artifacts.artifact_save_sql().endswith("RETURNING version")


async def test_every_row_counted_statement_returns_its_rows(pg: Backend) -> None:
    """Record what a scenario sends: the operations count in SQL; the inserts they count by row return rows."""
    config = pg.config()
    sessions = await pg.sessions(config)
    counted: list[str] = []
    execute = config.execute

    def record(stmt: Stmt) -> None:
        if stmt.fetch is Fetch.ROWCOUNT:
            counted.append(stmt.sql)

    if config.is_async:

        async def recording(connection: Any, stmt: Stmt) -> Any:
            record(stmt)
            return await execute(connection, stmt)

    else:

        def recording(connection: Any, stmt: Stmt) -> Any:  # type: ignore[misc]
            record(stmt)
            return execute(connection, stmt)

    config.execute = recording
    session = await sessions.create_session(app_name="a", user_id="u", state={"k": 1})
    assert await sessions.delete_events_before(before=0) == 0
    await sessions.delete_session(app_name="a", user_id="u", session_id=session.id)
    assert counted == []  # every session operation counts in SQL
    insert = sessions.store.dialect.sessions.insert_session_sql
    params = ("a", "u", "again", "{}", 1.0, 1.0)
    assert await raw(config, insert, params, Fetch.ROWCOUNT, write=True) == 1
    assert await raw(config, insert, params, Fetch.ROWCOUNT, write=True) == 0  # already there: nothing inserted
    assert counted == [insert, insert] and returns_rows(insert)
