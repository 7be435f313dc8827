"""Version 7 on SQLite: the FTS5 index keeps each user's postings apart, and every write keeps it exact.

Checked against SQLite itself: FTS5's ``integrity-check`` with rank 1 compares
the index with its content (the view that prefixes every token with the
user's key), and each user's bare key counts that user's stored entries, after
an upgrade of a database that version 6 made with entries in it, after
inserts, replacements and deletes, and after a version-3 option change
rebuilds the index.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.adapters.sqlite import SqliteADKMemoryStore, SqliteConfig
from sqlspec_adk.memory.rows import entry_write
from sqlspec_adk.migrations import LATEST_VERSION, upgrade_sync
from sqlspec_adk.protocol import Operation

APP = "app"
# A quote, a wildcard, FTS5 syntax and non-ASCII in the user ids: the key must be one opaque token anyway.
USERS = ["alice", 'bo"b*', "NEAR(carol", "東京-dave"]


def config(path: Path, **adk: Any) -> SqliteConfig:
    return SqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": adk})


def memory(text: str, memory_id: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, author="user", content=types.Content(role="user", parts=[types.Part(text=text)]))


def seed_at_version_6(path: Path) -> None:
    """Entries written the way the code of version 6 wrote them (version 1's index, no key)."""
    cfg = config(path)
    assert upgrade_sync(cfg, target=6) == 6
    writes = [
        entry_write(memory(f"pancake number {n} for {user}", f"{user}-{n}"), APP, user, None, None, float(n))
        for n in range(25)
        for user in USERS
    ]
    cfg.run(Operation("seed", lambda: cfg.dialect.memory.add_memory_entries(writes, replace=False), True))


def upgraded(tmp_path: Path) -> tuple[Path, SqliteADKMemoryStore]:
    """A database seeded at version 6, upgraded by a store's ``create_tables``; its path and the store."""
    path = tmp_path / "adk.db"
    seed_at_version_6(path)
    store = SqliteADKMemoryStore(config(path))
    store.create_tables()
    return path, store


def check_index(path: Path) -> dict[str, int]:
    """FTS5's own content check passes; returns the number of entries each user's key finds."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("INSERT INTO adk_memory_fts (adk_memory_fts, rank) VALUES ('integrity-check', 1)")
        counts = {}
        for user in USERS:
            number = connection.execute(
                "SELECT n FROM adk_memory_fts_users WHERE app_name = ? AND user_id = ?", (APP, user)
            ).fetchone()[0]
            key = f"k{number}x"
            matched = connection.execute(
                "SELECT COUNT(*) FROM adk_memory_fts WHERE adk_memory_fts MATCH ?", (f'"{key}"',)
            )
            stored = connection.execute("SELECT COUNT(*) FROM adk_memory WHERE user_id = ?", (user,)).fetchone()[0]
            counts[user] = matched.fetchone()[0]
            assert counts[user] == stored, user
        return counts
    finally:
        connection.close()


def fts_sql(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("SELECT sql FROM sqlite_master WHERE name = 'adk_memory_fts'").fetchone()[0])


def found(store: SqliteADKMemoryStore, user: str, query: str) -> set[str]:
    records = store.search_memory(app_name=APP, user_id=user, query=query, limit=100)
    return {record["event_id"] for record in records}


def test_upgrade_from_version_6_keys_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "adk.db"
    seed_at_version_6(path)
    assert "_fts_source" not in fts_sql(path)
    store = SqliteADKMemoryStore(config(path))
    assert store.create_tables() == LATEST_VERSION
    assert "_fts_source" in fts_sql(path)
    assert check_index(path) == dict.fromkeys(USERS, 25)
    for user in USERS:
        # Every user's entries hold the word; each search finds that user's 25 and nobody else's.
        assert found(store, user, "pancake") == {f"{user}-{n}" for n in range(25)}
        assert found(store, user, "number 7") >= {f"{user}-7"}
        assert all(hit.startswith(user) for hit in found(store, user, "number 7"))


def test_writes_keep_the_keys_exact(tmp_path: Path) -> None:
    path, store = upgraded(tmp_path)
    store.add_memory(app_name=APP, user_id="alice", memories=[memory("waffle", "alice-new")])
    store.add_memory(app_name=APP, user_id="alice", memories=[memory("crepe instead", "alice-3")])  # replaces
    assert store.delete_memory(app_name=APP, user_id=USERS[1], memory_id=f"{USERS[1]}-0") == 1
    assert store.delete_user_memory(app_name=APP, user_id=USERS[2]) == 25
    assert store.delete_memory_before(before=5.0) >= 13
    counts = check_index(path)  # each user's key finds exactly the rows stored for them (tombstones too)
    assert counts[USERS[2]] == 0 and counts[USERS[3]] == 20
    assert found(store, "alice", "crepe") == {"alice-3"}
    assert found(store, "alice", "waffle") == {"alice-new"}
    assert "alice-3" not in found(store, "alice", "pancake")
    assert found(store, USERS[2], "pancake") == set()


@pytest.mark.parametrize("options", [{"sqlite_fts_tokenizer": "porter"}, {"sqlite_fts_detail": "none"}])
def test_an_option_change_rebuilds_the_keyed_index(tmp_path: Path, options: dict[str, str]) -> None:
    path = tmp_path / "adk.db"
    seed_at_version_6(path)
    SqliteADKMemoryStore(config(path)).create_tables()
    store = SqliteADKMemoryStore(config(path, **options))
    store.create_tables()  # version 3 rebuilds the index with the option, then version 7 keys it again
    sql = fts_sql(path)
    assert "_fts_source" in sql and all(value in sql for value in options.values()), sql
    assert check_index(path) == dict.fromkeys(USERS, 25)
    assert found(store, USERS[3], "pancakes" if "porter" in sql else "pancake") == {
        f"{USERS[3]}-{n}" for n in range(25)
    }


def test_the_vocabulary_counts_each_users_own_entries(tmp_path: Path) -> None:
    """What a search prunes and ranks with: per user, the entries holding a token, not every user's."""
    path, store = upgraded(tmp_path)
    store.add_memory(app_name=APP, user_id="alice", memories=[memory("pancake pancake zeppelin", "alice-z")])
    with sqlite3.connect(path) as connection:
        docs = dict(connection.execute("SELECT term, doc FROM adk_memory_fts_vocab").fetchall())
        numbers = dict(connection.execute("SELECT user_id, n FROM adk_memory_fts_users").fetchall())
    alice, bob = numbers["alice"], numbers[USERS[1]]
    assert docs[f"k{alice}xpancake"] == 26 and docs[f"k{bob}xpancake"] == 25
    assert docs[f"k{alice}xzeppelin"] == 1 and f"k{bob}xzeppelin" not in docs
    assert docs[f"k{alice}x"] == 26  # the bare key: the user's entries
    assert "pancake" not in docs  # no bare token: nothing is shared between users
    assert found(store, USERS[1], "zeppelin") == set()
    ranked = store.search_memory(app_name=APP, user_id="alice", query="zeppelin pancake", limit=5)
    assert ranked[0]["event_id"] == "alice-z"  # the rare word ranks first


def test_an_unknown_user_finds_nothing_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "adk.db"
    store = SqliteADKMemoryStore(config(path))
    store.create_tables()
    store.add_memory(app_name=APP, user_id="alice", memories=[memory("pancake", "alice-0")])
    assert found(store, "nobody", "pancake") == set()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT user_id FROM adk_memory_fts_users").fetchall() == [("alice",)]
