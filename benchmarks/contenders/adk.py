"""ADK's own session services as contenders, with bulk seeding through their own schemas.

Seeding writes the rows each service would have written (its own tables, its
own JSON encoding, through its own ORM classes for ``DatabaseSessionService``)
so timed reads see what the service itself would have stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig
from google.adk.sessions.in_memory_session_service import InMemorySessionService
from google.adk.sessions.session import Session
from google.adk.sessions.sqlite_session_service import SqliteSessionService

from benchmarks.contenders.adapters import SERVER_POOL
from benchmarks.contenders.base import APP, Endpoint, SessionContender
from benchmarks.events import session_state

__all__ = ["AdkDatabase", "AdkInMemory", "AdkSqlite", "database_url"]


class _AdkService(SessionContender):
    service: BaseSessionService

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
        # ADK's services have no paging: the first page is the whole list.
        return await self.list_all(user_id)

    async def list_all(self, user_id: str) -> int:
        return len((await self.service.list_sessions(app_name=APP, user_id=user_id)).sessions)

    @property
    def paged(self) -> bool:
        return False


class AdkInMemory(_AdkService):
    """``InMemorySessionService``: the ceiling (no storage at all)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.memory = InMemorySessionService()
        self.service = self.memory

    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        await self.create(user_id, session_id, session_state(0))
        # Straight into its storage: its append_event slows down as history grows (seeding would be quadratic).
        stored = self.memory.sessions[APP][user_id][session_id]
        stored.events.extend(events)
        if events:
            stored.last_update_time = events[-1].timestamp

    async def seed_sessions(self, user_id: str, count: int) -> None:
        for index in range(count):
            await self.create(user_id, f"s-{index:06d}", session_state(index))


class AdkSqlite(_AdkService):
    """``SqliteSessionService`` on a database file (it opens a connection per call)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.path = endpoint.sqlite_file
        self.sqlite = SqliteSessionService(str(self.path))
        self.service = self.sqlite

    async def close(self) -> None:
        await self.sqlite.close()

    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        await self.create(user_id, session_id, session_state(0))
        rows = [
            (e.id, APP, user_id, session_id, e.invocation_id, e.timestamp, e.model_dump_json(exclude_none=True))
            for e in events
        ]
        last = events[-1].timestamp if events else 0.0

        def write() -> None:
            with sqlite3.connect(self.path) as connection:
                connection.executemany(
                    "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                connection.execute(
                    "UPDATE sessions SET update_time = ? WHERE app_name = ? AND user_id = ? AND id = ?",
                    (last, APP, user_id, session_id),
                )
            connection.close()

        await asyncio.to_thread(write)

    async def seed_sessions(self, user_id: str, count: int) -> None:
        await self.create(user_id, "s-schema", {})  # creates the schema; deleted below
        import json

        rows = [
            (
                APP,
                user_id,
                f"s-{index:06d}",
                json.dumps(session_state(index)),
                1.7e9 + index * 0.001,
                1.7e9 + index * 0.001,
            )
            for index in range(count)
        ]

        def write() -> None:
            with sqlite3.connect(self.path) as connection:
                connection.execute("DELETE FROM sessions WHERE app_name = ? AND id = 's-schema'", (APP,))
                connection.executemany(
                    "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            connection.close()

        await asyncio.to_thread(write)


# On a server, the engine holds at most the pool every other contender holds. SQLAlchemy's default
# (5 plus 10 overflow) let ADK open 15 connections while a dozen contenders held theirs, and at 32
# sessions PostgreSQL's 100 connections ran out ("too many clients"): a failure of the harness, not ADK's.
_SERVER_ENGINE: dict[str, Any] = {"pool_size": SERVER_POOL, "max_overflow": 0}


def database_url(endpoint: Endpoint) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL (and engine keywords) of ``DatabaseSessionService`` on ``endpoint``."""
    if endpoint.family == "sqlite":
        return f"sqlite+aiosqlite:///{endpoint.sqlite_file}", {}
    if endpoint.family == "postgres":
        url = f"postgresql+asyncpg://{endpoint.user}@{endpoint.host}:{endpoint.port}/{endpoint.database}"
        return url, {"connect_args": {"server_settings": {"search_path": endpoint.namespace}}, **_SERVER_ENGINE}
    if endpoint.family == "mysql":
        password = f":{endpoint.password}" if endpoint.password else ""
        url = f"mysql+aiomysql://{endpoint.user}{password}@{endpoint.host}:{endpoint.port}/{endpoint.namespace}"
        return url, dict(_SERVER_ENGINE)
    raise ValueError(f"DatabaseSessionService has no URL for family {endpoint.family!r}")


def _naive_utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC).replace(tzinfo=None)


class AdkDatabase(_AdkService):
    """``DatabaseSessionService`` (SQLAlchemy, async driver): its default engine settings, but on a server a
    pool of :data:`SERVER_POOL` connections and no overflow, as every contender has."""

    def __init__(self, endpoint: Endpoint) -> None:
        from google.adk.sessions.database_session_service import DatabaseSessionService

        url, keywords = database_url(endpoint)
        self.service: DatabaseSessionService = DatabaseSessionService(url, **keywords)

    async def open(self) -> None:
        await self.service.prepare_tables()

    async def close(self) -> None:
        await self.service.close()

    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        session = await self.create(user_id, session_id, session_state(0))
        schema = self.service._get_schema_classes()
        async with self.service.database_session_factory() as sql:
            for start in range(0, len(events), 1000):
                sql.add_all([schema.StorageEvent.from_event(session, e) for e in events[start : start + 1000]])
                await sql.flush()
            stored: Any = await sql.get(schema.StorageSession, (APP, user_id, session_id))
            if events and stored is not None:
                stored.update_time = _naive_utc(events[-1].timestamp)
            await sql.commit()

    async def seed_sessions(self, user_id: str, count: int) -> None:
        await self.create(user_id, "s-first", session_state(0))  # app and user state rows, as ADK makes them
        schema = self.service._get_schema_classes()
        async with self.service.database_session_factory() as sql:
            for start in range(0, count, 1000):
                sql.add_all(
                    [
                        schema.StorageSession(
                            app_name=APP,
                            user_id=user_id,
                            id=f"s-{index:06d}",
                            state=session_state(index),
                            create_time=_naive_utc(1.7e9 + index * 0.001),
                            update_time=_naive_utc(1.7e9 + index * 0.001),
                        )
                        for index in range(start, min(count, start + 1000))
                    ]
                )
                await sql.flush()
            first = await sql.get(schema.StorageSession, (APP, user_id, "s-first"))
            if first is not None:
                await sql.delete(first)
            await sql.commit()
