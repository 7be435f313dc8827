"""The PostgreSQL plans of the hot statements: listings and session reads walk an index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.backends import PG_DSN, require_server
from tests.conftest import Backend
from tests.postgres.conftest import PG_SPECS


@pytest.fixture
def admin_connection() -> Iterator[psycopg.Connection[Any]]:
    spec = next(spec for spec in PG_SPECS if spec.name == "psycopg_sync")
    require_server(spec)
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        yield connection


@pytest.fixture
async def filled(tmp_path: Path, admin_connection: psycopg.Connection[Any]) -> AsyncIterator[Any]:
    """20,000 sessions of 50 users; plans do not depend on the driver, so one adapter builds them."""
    handle = Backend(next(spec for spec in PG_SPECS if spec.name == "psycopg_sync"), tmp_path)
    try:
        store = await handle.session_store()
        table = store.dialect.session_table
        admin_connection.execute(
            f"INSERT INTO {table} (app_name, user_id, id, state, create_time, update_time) "
            "SELECT 'app', 'u' || (i % 50), 's' || i, '{}', i, i FROM generate_series(1, 20000) i"
        )
        admin_connection.execute(f"ANALYZE {table}")
        yield store.dialect.sessions
    finally:
        await handle.close()


def plan(admin: psycopg.Connection[Any], sql: str, params: list[Any]) -> str:
    rows = admin.execute(f"EXPLAIN {sql.replace('?', '%s')}", params).fetchall()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("by_user", "after", "params", "index"),
    [
        (False, 0, ["app", "app", 11], "app_list_idx"),
        (False, 3, ["app", "app", 5.0, "u5", "s5", 11], "app_list_idx"),
        (True, 0, ["app", "app", "u1", 11], "list_idx"),
        (True, 2, ["app", "app", "u1", 51.0, "s51", 11], "list_idx"),
    ],
)
def test_list_pages_walk_a_listing_index(
    filled: Any, admin_connection: psycopg.Connection[Any], by_user: bool, after: int, params: list[Any], index: str
) -> None:
    explained = plan(admin_connection, filled.list_sql(by_user=by_user, after=after, limit=True), params)
    assert f"{filled.adk.session_table}_{index}" in explained, explained
    if after:
        assert "ROW(update_time" in explained, explained  # the cursor is an index condition, not a filter


def test_get_session_reads_events_by_primary_key(filled: Any, admin_connection: psycopg.Connection[Any]) -> None:
    sql = filled.get_session_sql(events=True, after=False, limit=True)
    explained = plan(admin_connection, sql, ["app", "u1", "s1", 10, "app", "u1", "s1"])
    assert f"{filled.adk.events_table}_pkey" in explained, explained
    assert f"{filled.adk.session_table}_pkey" in explained, explained
