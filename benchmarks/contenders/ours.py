"""This library's ``SQLSpecSessionService`` on one adapter, and its bulk seeding."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.session import Session

from benchmarks.contenders.adapters import Adapter, close_config, make_config
from benchmarks.contenders.base import APP, Endpoint, SessionContender
from benchmarks.counting import Tally, count_yields
from benchmarks.events import session_state
from sqlspec_adk.converters import encode_event, encode_state
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Op, Stmt, operation
from sqlspec_adk.records import EventWrite
from sqlspec_adk.service import SQLSpecSessionService

__all__ = ["OursSessions", "seed_history_op", "seed_sessions_op"]


#: Rows per seeding transaction where one transaction of thousands of rows is slow (the Spanner emulator's
#: cost per statement grows with the rows its one transaction already holds: 1,000 event rows passed its deadline).
SEED_CHUNK = {"spanner": 200}


def seed_history_op(
    dialect: Any, user_id: str, session_id: str, events: list[Event], *, first: int = 1, create: bool = True
) -> Op[None]:
    """One transaction: a session at revision ``first - 1 + len(events)`` holding ``events`` at seq ``first``..;
    ``create=False`` adds them to a session an earlier call seeded."""
    last = events[-1].timestamp if events else 0.0
    if create:
        yield Stmt(
            dialect.sessions.insert_session_sql, (APP, user_id, session_id, encode_state(session_state(0)), last, last)
        )
    keys = (APP, user_id, session_id)
    rows = [
        dialect.sessions.event_params(
            keys, seq, EventWrite(event.id, event.invocation_id, event.author, event.timestamp, encode_event(event))
        )
        for seq, event in enumerate(events, start=first)
    ]
    if rows:
        yield Stmt(dialect.sessions.insert_event_sql, rows, many=True)
    yield Stmt(
        f"UPDATE {dialect.session_table} SET revision = ? WHERE app_name = ? AND user_id = ? AND id = ?",
        (first - 1 + len(events), APP, user_id, session_id),
    )


def seed_sessions_op(dialect: Any, user_id: str, count: int, start: float, first: int = 0) -> Op[None]:
    """One transaction: sessions ``first``..``first + count - 1`` of ``user_id`` with distinct update times."""
    rows = [
        (
            APP,
            user_id,
            f"s-{index:06d}",
            encode_state(session_state(index)),
            start + index * 0.001,
            start + index * 0.001,
        )
        for index in range(first, first + count)
    ]
    yield Stmt(dialect.sessions.insert_session_sql, rows, many=True)


class OursSessions(SessionContender):
    """``SQLSpecSessionService`` over ``adapter``'s store."""

    def __init__(self, adapter: Adapter, endpoint: Endpoint, *, settings: dict[str, Any] | None = None) -> None:
        self.adapter = adapter
        self.config = make_config(adapter, endpoint, **(settings or {}))
        self.store = adapter.classes()[1](self.config)
        self.service = SQLSpecSessionService(self.store)

    async def open(self) -> None:
        await call(self.store.create_tables)

    async def close(self) -> None:
        await close_config(self.config)

    async def create(self, user_id: str, session_id: str, state: dict[str, Any]) -> Session:
        return await self.service.create_session(app_name=APP, user_id=user_id, session_id=session_id, state=state)

    async def append(self, handle: Session, event: Event) -> Session:
        await self.service.append_event(handle, event)
        return handle

    async def get(self, user_id: str, session_id: str, recent: int) -> Session | None:
        return await self.service.get_session(
            app_name=APP, user_id=user_id, session_id=session_id, config=GetSessionConfig(num_recent_events=recent)
        )

    async def list_page(self, user_id: str, size: int) -> int:
        page, _ = await self.service.list_sessions_page(app_name=APP, user_id=user_id, page_size=size)
        return len(page.sessions)

    async def list_all(self, user_id: str) -> int:
        return len((await self.service.list_sessions(app_name=APP, user_id=user_id)).sessions)

    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        dialect = self.config.dialect
        chunk = SEED_CHUNK.get(self.adapter.family, len(events) or 1)
        for start in range(0, max(len(events), 1), chunk):
            part = events[start : start + chunk]
            build = partial(seed_history_op, dialect, user_id, session_id, part, first=start + 1, create=start == 0)
            await self.config.arun(operation("seed", build, write=True))

    async def seed_sessions(self, user_id: str, count: int) -> None:
        dialect = self.config.dialect
        chunk = SEED_CHUNK.get(self.adapter.family, count or 1)
        for first in range(0, count, chunk):
            size = min(chunk, count - first)
            build = partial(seed_sessions_op, dialect, user_id, size, 1_700_000_000.0, first)
            await self.config.arun(operation("seed", build, write=True))

    def count_yields(self, tally: Tally) -> Callable[[], None] | None:
        return count_yields(self.store, tally)
