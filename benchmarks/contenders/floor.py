"""The raw floor: hand-written driver code doing the least work each session operation needs.

It reads and writes the library's tables (same schema and indexes, its own
namespace) with one driver, but none of the library's code runs while it is
timed. It still does the work the ADK contract requires of any service: the
event is serialized to JSON on append, and rows become ``Event``/``Session``
objects on reads.

- create: one ``INSERT`` and one ``SELECT`` of the app and user state (the
  returned session carries them), no explicit transaction.
- append: one transaction: the revision-checked ``UPDATE`` of the session row
  (state only when the event changes it) and the ``INSERT`` of the event row.
- get: one ``SELECT``: the session row, app and user state, newest N events.
- list: one ``SELECT`` (``LIMIT`` for a page) with app and user state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions.session import Session

from benchmarks.contenders.adapters import Adapter
from benchmarks.contenders.base import APP, Endpoint, SessionContender
from benchmarks.contenders.drivers import RawDriver, Write, placeholders, raw_driver
from benchmarks.contenders.ours import OursSessions

__all__ = ["FloorSessions", "has_floor"]


@dataclass(slots=True)
class FloorHandle:
    session: Session
    revision: int
    state: dict[str, Any]


def _json(value: Any) -> Any:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, (str, bytes, bytearray)) else value


def _event(value: Any) -> Event:
    if isinstance(value, (str, bytes, bytearray)):
        return Event.model_validate_json(value)
    return Event.model_validate(value)


def _merged(state: dict[str, Any], app: Any, user: Any) -> dict[str, Any]:
    merged = dict(state)
    merged.update({f"app:{key}": value for key, value in _json(app).items()})
    merged.update({f"user:{key}": value for key, value in _json(user).items()})
    return merged


def has_floor(adapter: Adapter, endpoint: Endpoint) -> bool:
    return raw_driver(adapter.name, endpoint) is not None


class FloorSessions(SessionContender):
    """The floor on ``adapter``'s driver and tables."""

    def __init__(self, adapter: Adapter, endpoint: Endpoint) -> None:
        # The library's store only creates the tables and bulk-seeds them (untimed).
        self.setup = OursSessions(adapter, endpoint)
        driver = raw_driver(adapter.name, endpoint)
        assert driver is not None
        self.driver: RawDriver = driver
        dialect = self.setup.config.dialect
        pg = endpoint.family == "postgres"
        json_in, text_out = ("?::text::jsonb", "::text") if pg else ("?", "")
        s, e = dialect.session_table, dialect.events_table
        a, u = dialect.app_state_table, dialect.user_state_table
        scoped = (
            f"(SELECT a.state{text_out} FROM {a} a WHERE a.app_name = s.app_name), "
            f"(SELECT u.state{text_out} FROM {u} u WHERE u.app_name = s.app_name AND u.user_id = s.user_id)"
        )

        def sql(text: str) -> str:
            return placeholders(text, driver.style)

        self.scoped_sql = sql(
            f"SELECT (SELECT state{text_out} FROM {a} WHERE app_name = ?), "
            f"(SELECT state{text_out} FROM {u} WHERE app_name = ? AND user_id = ?)"
        )
        self.create_sql = sql(
            f"INSERT INTO {s} (app_name, user_id, id, state, create_time, update_time, revision) "
            f"VALUES (?, ?, ?, {json_in}, ?, ?, 0)"
        )
        where_revision = "WHERE app_name = ? AND user_id = ? AND id = ? AND revision = ?"
        self.bump_state_sql = sql(f"UPDATE {s} SET state = {json_in}, revision = ?, update_time = ? {where_revision}")
        self.bump_sql = sql(f"UPDATE {s} SET revision = ?, update_time = ? {where_revision}")
        self.insert_event_sql = sql(
            f"INSERT INTO {e} (app_name, user_id, session_id, seq, id, invocation_id, author, timestamp, event_data) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, {json_in})"
        )
        self.get_sql = sql(
            f"SELECT s.state{text_out}, s.update_time, s.revision, {scoped}, r.event_data{text_out} FROM {s} s "
            f"LEFT JOIN (SELECT seq, event_data FROM {e} WHERE app_name = ? AND user_id = ? AND session_id = ? "
            "ORDER BY seq DESC LIMIT ?) r ON 1 = 1 "
            "WHERE s.app_name = ? AND s.user_id = ? AND s.id = ? ORDER BY r.seq"
        )
        listing = (
            f"SELECT s.id, s.state{text_out}, s.update_time, s.revision, {scoped} FROM {s} s "
            "WHERE s.app_name = ? AND s.user_id = ? ORDER BY s.update_time, s.user_id, s.id"
        )
        self.list_sql = sql(listing)
        self.page_sql = sql(f"{listing} LIMIT ?")

    async def open(self) -> None:
        await self.setup.open()
        await self.driver.open()

    async def close(self) -> None:
        await self.driver.close()
        await self.setup.close()

    async def create(self, user_id: str, session_id: str, state: dict[str, Any]) -> FloorHandle:
        now = time.time()
        await self.driver.execute(self.create_sql, (APP, user_id, session_id, json.dumps(state), now, now))
        app, user = (await self.driver.fetch(self.scoped_sql, (APP, APP, user_id)))[0]
        session = Session(
            app_name=APP, user_id=user_id, id=session_id, state=_merged(state, app, user), last_update_time=now
        )
        return FloorHandle(session, 0, dict(state))

    async def append(self, handle: FloorHandle, event: Event) -> FloorHandle:
        session = handle.session
        keys = (APP, session.user_id, session.id, handle.revision)
        delta = event.actions.state_delta if event.actions else None
        bump: Write
        if delta:
            state = {**handle.state, **delta}
            bump = (self.bump_state_sql, (json.dumps(state), handle.revision + 1, event.timestamp, *keys), True)
        else:
            state = handle.state
            bump = (self.bump_sql, (handle.revision + 1, event.timestamp, *keys), True)
        row = (
            APP,
            session.user_id,
            session.id,
            handle.revision + 1,
            event.id,
            event.invocation_id,
            event.author,
            event.timestamp,
            event.model_dump_json(exclude_none=True),
        )
        await self.driver.transaction([bump, (self.insert_event_sql, row, False)])
        handle.revision += 1
        handle.state = state
        session.events.append(event)
        session.state.update(delta or {})
        session.last_update_time = event.timestamp
        return handle

    async def get(self, user_id: str, session_id: str, recent: int) -> FloorHandle | None:
        rows = await self.driver.fetch(self.get_sql, (APP, user_id, session_id, recent, APP, user_id, session_id))
        if not rows:
            return None
        first = rows[0]
        state = _json(first[0])
        events = [_event(row[5]) for row in rows if row[5] is not None]
        session = Session(
            app_name=APP,
            user_id=user_id,
            id=session_id,
            state=_merged(state, first[3], first[4]),
            events=events,
            last_update_time=float(first[1]),
        )
        return FloorHandle(session, int(first[2]), state)

    def _sessions(self, user_id: str, rows: list[tuple[Any, ...]]) -> list[Session]:
        return [
            Session(
                app_name=APP,
                user_id=user_id,
                id=row[0],
                state=_merged(_json(row[1]), row[4], row[5]),
                last_update_time=float(row[2]),
            )
            for row in rows
        ]

    async def list_page(self, user_id: str, size: int) -> int:
        return len(self._sessions(user_id, await self.driver.fetch(self.page_sql, (APP, user_id, size))))

    async def list_all(self, user_id: str) -> int:
        return len(self._sessions(user_id, await self.driver.fetch(self.list_sql, (APP, user_id))))

    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        await self.setup.seed_history(user_id, session_id, events)

    async def seed_sessions(self, user_id: str, count: int) -> None:
        await self.setup.seed_sessions(user_id, count)
