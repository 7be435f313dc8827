"""aiosqlite: a whole store operation is one call in the connection's thread (one hop, not one per statement).

The contract suite proves the semantics on this path; these tests pin the hop
count, what a cancelled caller leaves behind, and the per-statement fallback
kept for an aiosqlite without ``Connection._execute``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.sessions.base_session_service import GetSessionConfig

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
from sqlspec_adk.adapters.aiosqlite import config as aiosqlite_config
from sqlspec_adk.protocol import Op
from sqlspec_adk.service import SQLSpecSessionService
from tests.helpers import event


async def _service(tmp_path: Path) -> tuple[AiosqliteConfig, SQLSpecSessionService]:
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "hops.db")})
    store = AiosqliteADKStore(config)
    await store.create_tables()
    return config, SQLSpecSessionService(store)


async def test_an_append_is_one_hop_to_the_connection_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails when statements go through aiosqlite's public calls again (BEGIN, each statement and
    COMMIT: four or more hops per append)."""
    assert aiosqlite_config.ONE_HOP, "the installed aiosqlite lacks Connection._execute"
    config, service = await _service(tmp_path)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
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
    assert aiosqlite_config.ONE_HOP, "the installed aiosqlite lacks Connection._execute"
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "c.db")}, pool_config={"max_size": 1})
    store = AiosqliteADKStore(config)
    await store.create_tables()
    service = SQLSpecSessionService(store)
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    original = store.arun

    async def slow_arun(op: Op[Any], *, write: bool) -> Any:
        return await original(_slow(op, 0.1), write=write)

    store.arun = slow_arun  # type: ignore[method-assign]
    task = asyncio.create_task(service.append_event(session, event("cancelled", delta={"k": "v"})))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    store.arun = original  # type: ignore[method-assign]
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == ["cancelled"]
    assert loaded.state == {"k": "v"}
    await service.append_event(loaded, event("next"))
    again = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert again is not None and [e.content.parts[0].text for e in again.events] == ["cancelled", "next"]
    await config.close_pool()


async def test_the_per_statement_fallback_keeps_the_semantics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path for an aiosqlite without ``Connection._execute``: same results, errors roll back."""
    monkeypatch.setattr(aiosqlite_config, "ONE_HOP", False)
    config, service = await _service(tmp_path)
    session = await service.create_session(app_name="a", user_id="u", session_id="s", state={"user:n": 1})
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name="a", user_id="u", session_id="s")
    await service.append_event(session, event("first", delta={"k": 1, "user:n": 2}))
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None
    assert loaded.state == {"k": 1, "user:n": 2}
    assert [e.content.parts[0].text for e in loaded.events] == ["first"]
    await config.close_pool()
