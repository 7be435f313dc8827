"""SQLite plans of the session listings: every page walks an index in list order, none sorts the sessions."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig


@pytest.fixture
def listing(tmp_path: Path) -> tuple[Any, sqlite3.Connection]:
    database = tmp_path / "adk.db"
    store = SqliteADKStore(SqliteConfig(connection_config={"database": str(database)}))
    store.create_tables()
    connection = sqlite3.connect(database)
    table = store.dialect.session_table
    connection.executemany(
        f"INSERT INTO {table} (app_name, user_id, id, state, create_time, update_time) VALUES (?, ?, ?, '{{}}', ?, ?)",
        [("app", f"u{i % 50}", f"s{i}", float(i), float(i)) for i in range(5_000)],
    )
    connection.commit()
    connection.execute("ANALYZE")
    return store.dialect.sessions, connection


@pytest.mark.parametrize(
    ("by_user", "after", "params", "index"),
    [
        (False, False, ["app", 11], "app_list_idx"),
        (False, True, ["app", 5.0, 5.0, 5.0, "u5", "u5", "s5", 11], "app_list_idx"),
        (True, False, ["app", "u1", 11], "list_idx"),
        (True, True, ["app", "u1", 51.0, 51.0, 51.0, "u1", "u1", "s51", 11], "list_idx"),
    ],
)
def test_list_pages_walk_a_listing_index(
    listing: tuple[Any, sqlite3.Connection], by_user: bool, after: bool, params: list[Any], index: str
) -> None:
    sessions, connection = listing
    sql = sessions.list_sessions_sql(by_user=by_user, after=after, limit=True)
    plan = "\n".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert f"USING INDEX {sessions.adk.session_table}_{index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort of every session
    if after:
        assert "update_time>?" in plan, plan  # the cursor bounds the index range, it is not a filter
