"""aiosqlite: a whole store operation is one call in the connection's thread (one hop, not one per statement).

The contract suite proves the semantics on this path; these tests pin the hop
count, what a cancelled caller leaves behind, and that the private aiosqlite
API the adapter needs is still there.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from google.adk.sessions.base_session_service import GetSessionConfig

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
from sqlspec_adk.protocol import Op, Operation
from sqlspec_adk.service import SQLSpecSessionService
from tests.helpers import event


async def _service(tmp_path: Path) -> tuple[AiosqliteConfig, SQLSpecSessionService]:
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "hops.db")})
    store = AiosqliteADKStore(config)
    await store.create_tables()
    return config, SQLSpecSessionService(store)


async def test_the_private_aiosqlite_api_the_adapter_uses_is_there(tmp_path: Path) -> None:
    """``Connection._execute`` (run a function in the connection's thread), ``Connection._conn`` (the raw
    sqlite3 connection) and ``Connection._thread`` (made a daemon) have no public equivalent; the adapter
    is tested with aiosqlite 0.22.1. This fails loudly the day a release drops one of them."""
    connection = aiosqlite.connect(str(tmp_path / "private.db"))
    assert connection._thread is not None and not connection._thread.is_alive()
    await connection
    try:
        raw = connection._conn
        assert isinstance(raw, sqlite3.Connection)
        assert await connection._execute(lambda: raw.execute("SELECT 2").fetchone()) == (2,)
    finally:
        await connection.close()


async def test_an_append_is_one_hop_to_the_connection_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails when statements go through aiosqlite's public calls (BEGIN, each statement and COMMIT: four
    or more hops per append)."""
    config, service = await _service(tmp_path)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    await service.get_session(app_name="a", user_id="u", session_id="s")  # the writer and a reader are open
    hops = 0
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    await service.append_event(session, event("one hop", delta={"k": 1}))
    assert hops == 1
    hops = 0
    loaded = await service.get_session(
        app_name="a", user_id="u", session_id="s", config=GetSessionConfig(num_recent_events=5)
    )
    assert hops == 1
    assert loaded is not None and loaded.state == {"k": 1}
    await config.close_pool()


def _slow(op: Op[Any], pause: float) -> Op[Any]:
    """``op`` with a pause in the connection's thread before every statement after the first."""
    try:
        stmt = next(op)
        while True:
            result = yield stmt
            time.sleep(pause)
            stmt = op.send(result)
    except StopIteration as stop:
        return stop.value


async def test_a_cancelled_caller_leaves_a_whole_transaction_and_a_usable_pool(tmp_path: Path) -> None:
    """Cancelling the caller mid-transaction neither half-applies the append nor hands the busy
    connection to the next caller: the transaction ends in its thread (here it commits), then the
    connection returns to the pool, and later operations run normally.

    Shown to fail when the protection is removed (tried, then restored): without the
    ``asyncio.shield`` the cancellation settles the connection while its transaction still runs (it
    is seen mid-transaction, dropped and stopped), and a read right after the cancelled call misses
    the append that commits a moment later.
    """
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "c.db")}, pool_config={"max_size": 1})
    store = AiosqliteADKStore(config)
    await store.create_tables()
    service = SQLSpecSessionService(store)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    original = config.arun

    async def slow_arun(operation: Operation[Any]) -> Any:
        slowed = Operation(operation.name, lambda: _slow(operation.build(), 0.1), operation.write, operation.table)
        return await original(slowed)

    config.arun = slow_arun  # type: ignore[method-assign]
    task = asyncio.create_task(service.append_event(session, event("cancelled", delta={"k": "v"})))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    config.arun = original  # type: ignore[method-assign]
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == ["cancelled"]
    assert loaded.state == {"k": "v"}
    await service.append_event(loaded, event("next"))
    again = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert again is not None and [e.content.parts[0].text for e in again.events] == ["cancelled", "next"]
    await config.close_pool()
