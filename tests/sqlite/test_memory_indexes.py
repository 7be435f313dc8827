"""Version 8 on SQLite: the memory table's indexes after an upgrade, a fresh install and a re-application,
and SQLite's own plans for the reads that used the indexes it replaced.

Checked against SQLite itself: ``sqlite_master`` for the index set and the
partial index's condition, ``EXPLAIN QUERY PLAN`` for the index each read uses,
and the rows those reads return.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.adapters.sqlite import SqliteADKMemoryStore, SqliteConfig
from sqlspec_adk.memory.rows import entry_write
from sqlspec_adk.migrations import LATEST_VERSION, upgrade_sync
from sqlspec_adk.protocol import Operation

APP = "app"
USERS = ["alice", "bob", "carol"]
MEMORY = "adk_memory"


def config(path: Path, **adk: Any) -> SqliteConfig:
    return SqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": adk})


def seed_at_version_7(path: Path) -> None:
    """Entries written at version 7 (30 per user, timestamps 0..29)."""
    cfg = config(path)
    assert upgrade_sync(cfg, target=7) == 7
    writes = [
        entry_write(
            MemoryEntry(
                id=f"{user}-{n}",
                author="user",
                content=types.Content(role="user", parts=[types.Part(text=f"note {n} of {user}")]),
            ),
            APP,
            user,
            None,
            None,
            float(n),
        )
        for n in range(30)
        for user in USERS
    ]
    cfg.run(Operation("seed", lambda: cfg.dialect.memory.add_memory_entries(writes, replace=False), True))
    cfg.close_pool()


def indexes(path: Path) -> dict[str, str]:
    """The memory table's named indexes and their SQL."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (MEMORY,)
        ).fetchall()
    return {str(name): str(sql) for name, sql in rows}


def count_before(path: Path, before: float) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(f'SELECT COUNT(*) FROM "{MEMORY}" WHERE timestamp < ?', (before,)).fetchone()[0])


def plan(path: Path, sql: str, params: tuple[Any, ...]) -> str:
    with sqlite3.connect(path) as connection:
        return " | ".join(str(row[3]) for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def check_version_8(path: Path) -> None:
    found = indexes(path)
    assert f"{MEMORY}_scope_idx" not in found
    assert "(app_name, timestamp)" in found[f"{MEMORY}_time_idx"]
    assert found[f"{MEMORY}_vrev_idx"].endswith("WHERE vrev IS NOT NULL")
    assert f"{MEMORY}_session_idx" in found  # a session's entries are still found by user and session


def test_upgrade_from_version_7_replaces_the_indexes_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "adk.db"
    seed_at_version_7(path)
    assert f"{MEMORY}_scope_idx" in indexes(path)
    store = SqliteADKMemoryStore(config(path))
    try:
        assert store.create_tables() == LATEST_VERSION
        check_version_8(path)
        assert count_before(path, 10.0) == 30
        assert store.delete_memory_before(before=10.0, app_name=APP) == 30
        assert count_before(path, 30.0) == 60
        found = store.search_memory(app_name=APP, user_id="bob", query="note")
        assert len(found) == min(60 // 3, store.config.adk.memory_max_results)
    finally:
        store.config.close_pool()


def test_retention_and_the_vector_cache_read_through_the_new_indexes(tmp_path: Path) -> None:
    path = tmp_path / "adk.db"
    seed_at_version_7(path)
    store = SqliteADKMemoryStore(config(path))
    try:
        store.create_tables()
    finally:
        store.config.close_pool()
    table = f'"{MEMORY}"'
    assert f"{MEMORY}_time_idx" in plan(path, f"DELETE FROM {table} WHERE timestamp < ? AND app_name = ?", (5.0, APP))
    assert f"{MEMORY}_time_idx" in plan(path, f"SELECT COUNT(*) FROM {table} WHERE timestamp < ?", (5.0,))
    # Only stores that keep vectors stamp vrev; the stamped rows are the partial index's, and the cache's
    # read of what changed since a revision uses it.
    with sqlite3.connect(path) as connection:
        connection.execute(f"UPDATE {table} SET vrev = 3 WHERE user_id = 'alice' AND timestamp >= 20")
        connection.execute(f"UPDATE {table} SET vrev = 1 WHERE user_id = 'alice' AND timestamp < 20")
        changed = f"SELECT event_id FROM {table} WHERE app_name = ? AND user_id = ? AND vrev > ? ORDER BY event_id"
        rows = [row[0] for row in connection.execute(changed, (APP, "alice", 2))]
        size = connection.execute(f'SELECT COUNT(*) FROM {table} INDEXED BY "{MEMORY}_vrev_idx" WHERE vrev > -1')
        held = size.fetchone()[0]
    assert rows == sorted(f"alice-{n}" for n in range(20, 30))
    assert held == 30  # alice's stamped rows only: nothing of bob's or carol's
    assert f"{MEMORY}_vrev_idx" in plan(path, changed, (APP, "alice", 2))


def test_a_fresh_install_and_an_option_change_give_the_same_indexes(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    store = SqliteADKMemoryStore(config(fresh))
    try:
        assert store.create_tables() == LATEST_VERSION
    finally:
        store.config.close_pool()
    check_version_8(fresh)
    upgraded = tmp_path / "upgraded.db"
    seed_at_version_7(upgraded)
    for options in ({}, {"sqlite_fts_tokenizer": "porter"}):  # the option change re-applies every version
        again = SqliteADKMemoryStore(config(upgraded, **options))
        try:
            assert again.create_tables() == LATEST_VERSION
            assert count_before(upgraded, 100.0) == 90
        finally:
            again.config.close_pool()
        check_version_8(upgraded)
        assert indexes(upgraded) == indexes(fresh)
