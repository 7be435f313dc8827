"""SQLite-family specifics: pragmas, lock waits, sync stores off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.migrations import drop_tables
from sqlspec_adk.protocol import Operation
from sqlspec_adk.service import SQLSpecSessionService
from tests.helpers import event, raw_op


def test_file_database_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    config = SqliteConfig(connection_config={"database": str(tmp_path / "w.db")})
    assert config.run(raw_op("PRAGMA journal_mode"))[0][0] == "wal"
    assert config.run(raw_op("PRAGMA foreign_keys"))[0][0] == 1
    assert config.run(raw_op("PRAGMA synchronous"))[0][0] == 2  # FULL
    config.close_pool()


async def test_sync_store_does_not_block_the_event_loop(tmp_path: Path) -> None:
    """While another process-level connection holds the write lock, a sync-store append waits
    for it in a worker thread; the event loop keeps ticking meanwhile.

    Fails if the service ran the sync store on the loop thread: no ticks during the wait.
    """
    path = tmp_path / "lock.db"
    config = SqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": {"busy_timeout": 5}})
    store = SqliteADKStore(config)
    store.create_tables()
    service = SQLSpecSessionService(store)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    append = asyncio.create_task(service.append_event(session, event("waits for the lock")))
    await asyncio.sleep(0.3)
    assert not append.done()
    blocker.execute("COMMIT")
    await append
    tick_task.cancel()
    assert ticks >= 10
    blocker.close()
    config.close_pool()


async def test_lock_held_past_busy_timeout_is_a_clear_error_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    config = AiosqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": {"busy_timeout": 0.2}})
    store = AiosqliteADKStore(config)
    await store.create_tables()
    service = SQLSpecSessionService(store)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    await service.append_event(session, event("acknowledged"))
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await service.append_event(session, event("refused"))
    assert time.monotonic() - started >= 0.15
    blocker.execute("ROLLBACK")
    blocker.close()
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == ["acknowledged"]
    # The refused append did not advance the revision: the same handle goes on.
    await service.append_event(session, event("after the lock"))
    await config.close_pool()


async def test_memory_database_is_one_shared_connection() -> None:
    config = AiosqliteConfig()
    store = AiosqliteADKStore(config)
    await store.create_tables()
    service = SQLSpecSessionService(store)
    sessions = await asyncio.gather(*(service.create_session(app_name="a", user_id="u") for _ in range(10)))
    assert len((await service.list_sessions(app_name="a")).sessions) == len(sessions)
    await config.close_pool()


def test_memory_search_leaves_everyday_words_out_in_one_statement(tmp_path: Path) -> None:
    from google.adk.memory.memory_entry import MemoryEntry
    from google.genai import types

    from sqlspec_adk.adapters.sqlite import SqliteADKMemoryStore

    def entry(memory_id: str, text: str) -> MemoryEntry:
        return MemoryEntry(id=memory_id, content=types.Content(role="user", parts=[types.Part(text=text)]))

    config = SqliteConfig(connection_config={"database": str(tmp_path / "m.db")})
    store = SqliteADKMemoryStore(config)
    store.create_tables()
    common = {f"c{i}" for i in range(30)}
    store.add_memory(app_name="a", user_id="u", memories=[*(entry(c, "what is my plan for the day") for c in common)])
    store.add_memory(app_name="a", user_id="u", memories=[entry("rare", "my zeppelin ride")])
    store.add_memory(app_name="a", user_id="bob", memories=[entry("bob", "a blimp")])
    statements: list[str] = []

    def found(query: str, user: str = "u") -> set[str]:
        operation = store._search_memory(app_name="a", user_id=user, query=query, limit=50)
        records = config.run(Operation("traced", lambda: _traced(operation.build(), statements), False))
        return {r["event_id"] for r in records}

    # A small table is searched with every token (memory_prune_min_docs).
    assert found("what is my zeppelin") == {"rare", *common}
    store.dialect.memory.prune_min_docs = 0
    statements.clear()
    assert found("what is my zeppelin") == {"rare"}  # "what", "is", "my" held by most entries
    assert len(statements) == 1 and "_fts_vocab" in statements[0]
    assert found("what is my") == common  # only everyday words: the rarest ("what", "is") stay
    # bob's word is in no entry of u's: u's own counts decide (version 7), as for "what is my", in one statement.
    statements.clear()
    assert found("what is my blimp") == common and len(statements) == 1
    assert found("blimp", user="bob") == {"bob"}
    assert found("unknown words") == set()
    tables = {row[0] for row in config.run(raw_op("SELECT name FROM sqlite_master"))}
    assert "adk_memory_fts_vocab" in tables
    asyncio.run(drop_tables(config))
    assert not {row[0] for row in config.run(raw_op("SELECT name FROM sqlite_master"))}
    config.close_pool()


def _traced(op: Any, seen: list[str]) -> Any:
    """``op``, recording the SQL of each statement it yields."""
    result = None
    try:
        stmt = op.send(None)
        while True:
            seen.append(stmt.sql)
            result = yield stmt
            stmt = op.send(result)
    except StopIteration as done:
        return done.value
