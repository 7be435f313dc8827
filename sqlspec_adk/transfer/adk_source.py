"""Read a database written by ADK's own session services.

Two kinds are understood, detected from the tables they hold:

- ``SqliteSessionService`` (what ``adk web`` writes to ``<agent>/.adk/session.db``
  and to ``--session_service_uri=sqlite:///...``): read with the stdlib
  ``sqlite3`` module, read-only. Events come back in ADK's order (timestamp,
  then insertion order).
- ``DatabaseSessionService`` (SQLAlchemy URLs: ``sqlite+aiosqlite:///``,
  ``postgresql+asyncpg://``, ``mysql+aiomysql://``, both of ADK's schema
  versions): events are read through ADK's own service, so each event is
  exactly the one ADK would serve; session, app and user state rows and the
  create/update times are read from its tables. Needs ``sqlalchemy``; ADK may
  create its missing indexes when it opens the database, as it always does.

Either way a session's ``state`` holds only session-scoped keys; ``app:`` and
``user:`` state come from their own tables.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from google.adk.events.event import Event

from sqlspec_adk.converters import decode_state, encode_event
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.transfer.model import EventDump, SessionDump, SessionKey, StateDump

__all__ = ["AdkSource", "DatabaseServiceSource", "SqliteServiceSource", "open_adk_source"]

KIND_SQLITE = "SqliteSessionService"
KIND_DATABASE = "DatabaseSessionService"


class AdkSource(Protocol):
    """What ``import-adk`` reads from an ADK session database."""

    kind: str
    description: str

    async def session_keys(self) -> list[SessionKey]:
        """Every session key, in a stable order."""
        ...

    async def read_sessions(self, keys: Sequence[SessionKey]) -> list[SessionDump]:
        """The sessions with all their events (events numbered from 1 in ADK's order)."""
        ...

    async def event_count(self) -> int:
        """How many events the source holds in all."""
        ...

    async def app_states(self) -> list[StateDump]:
        """Every app state row."""
        ...

    async def user_states(self) -> list[StateDump]:
        """Every user state row."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def _events(events: Sequence[Event]) -> list[EventDump]:
    return [
        EventDump(
            id=event.id,
            invocation_id=event.invocation_id,
            author=event.author,
            timestamp=float(event.timestamp),
            event_json=encode_event(event),
            seq=position,
        )
        for position, event in enumerate(events, start=1)
    ]


class SqliteServiceSource:
    """A ``SqliteSessionService`` file, opened read-only."""

    kind = KIND_SQLITE

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"{KIND_SQLITE} database {path}"
        self._connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        self._lock = asyncio.Lock()

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._lock:
            return await asyncio.to_thread(lambda: self._connection.execute(sql, tuple(params)).fetchall())

    async def session_keys(self) -> list[SessionKey]:
        rows = await self._query("SELECT app_name, user_id, id FROM sessions ORDER BY app_name, user_id, id")
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def read_sessions(self, keys: Sequence[SessionKey]) -> list[SessionDump]:
        sessions = []
        for key in keys:
            found = await self._query(
                "SELECT state, create_time, update_time FROM sessions WHERE app_name = ? AND user_id = ? AND id = ?",
                key,
            )
            if not found:
                continue
            rows = await self._query(
                "SELECT event_data FROM events WHERE app_name = ? AND user_id = ? AND session_id = ? "
                "ORDER BY timestamp, rowid",
                key,
            )
            events = [Event.model_validate_json(row[0]) for row in rows]
            state, create_time, update_time = found[0]
            sessions.append(
                SessionDump(
                    app_name=key[0],
                    user_id=key[1],
                    id=key[2],
                    state=decode_state(state),
                    create_time=float(create_time),
                    update_time=float(update_time),
                    events=_events(events),
                )
            )
        return sessions

    async def event_count(self) -> int:
        rows = await self._query("SELECT COUNT(*) FROM events")
        return int(rows[0][0])

    async def app_states(self) -> list[StateDump]:
        rows = await self._query("SELECT app_name, state, update_time FROM app_states ORDER BY app_name")
        return [StateDump(str(r[0]), None, decode_state(r[1]), float(r[2])) for r in rows]

    async def user_states(self) -> list[StateDump]:
        rows = await self._query(
            "SELECT app_name, user_id, state, update_time FROM user_states ORDER BY app_name, user_id"
        )
        return [StateDump(str(r[0]), str(r[1]), decode_state(r[2]), float(r[3])) for r in rows]

    async def close(self) -> None:
        self._connection.close()


def _epoch(value: datetime | float | None) -> float:
    """Epoch seconds of a stored time; naive datetimes are UTC, as ADK writes them."""
    if value is None:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class DatabaseServiceSource:
    """A ``DatabaseSessionService`` database at a SQLAlchemy async URL."""

    kind = KIND_DATABASE

    def __init__(self, url: str) -> None:
        try:
            from google.adk.sessions.database_session_service import DatabaseSessionService
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ConfigError(f"reading a DatabaseSessionService database needs sqlalchemy: {error}") from error
        self.url = url
        self.description = f"{KIND_DATABASE} database {_redact(url)}"
        try:
            self.service = DatabaseSessionService(db_url=url)
        except (ValueError, ImportError) as error:
            raise ConfigError(f"cannot open {_redact(url)} with ADK's DatabaseSessionService: {error}") from error

    async def _rows(self, table_name: str, columns: Sequence[str], order: Sequence[str]) -> list[Any]:
        from google.adk.sessions.schemas import v1
        from sqlalchemy import select

        await self.service.prepare_tables()
        tables = {
            "sessions": v1.StorageSession.__table__,
            "app_states": v1.StorageAppState.__table__,
            "user_states": v1.StorageUserState.__table__,
            "events": v1.StorageEvent.__table__,
        }
        table: Any = tables[table_name]
        statement = select(*(table.c[name] for name in columns)).order_by(*(table.c[name] for name in order))
        async with self.service.db_engine.connect() as connection:
            result = await connection.execute(statement)
            return list(result.all())

    async def session_keys(self) -> list[SessionKey]:
        order = ("app_name", "user_id", "id")
        rows = await self._rows("sessions", order, order)
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def read_sessions(self, keys: Sequence[SessionKey]) -> list[SessionDump]:
        from google.adk.sessions.schemas import v1
        from sqlalchemy import select

        table: Any = v1.StorageSession.__table__
        sessions = []
        for app_name, user_id, session_id in keys:
            session = await self.service.get_session(app_name=app_name, user_id=user_id, session_id=session_id)
            if session is None:
                continue
            statement = select(table.c.state, table.c.create_time).where(
                table.c.app_name == app_name, table.c.user_id == user_id, table.c.id == session_id
            )
            async with self.service.db_engine.connect() as connection:
                row = (await connection.execute(statement)).one()
            sessions.append(
                SessionDump(
                    app_name=app_name,
                    user_id=user_id,
                    id=session_id,
                    state=decode_state(row[0]),
                    create_time=_epoch(row[1]),
                    update_time=float(session.last_update_time),
                    events=_events(session.events),
                )
            )
        return sessions

    async def event_count(self) -> int:
        from google.adk.sessions.schemas import v1
        from sqlalchemy import func, select

        await self.service.prepare_tables()
        table: Any = v1.StorageEvent.__table__
        async with self.service.db_engine.connect() as connection:
            value = (await connection.execute(select(func.count()).select_from(table))).scalar_one()
        return int(value)

    async def app_states(self) -> list[StateDump]:
        rows = await self._rows("app_states", ("app_name", "state", "update_time"), ("app_name",))
        return [StateDump(str(r[0]), None, decode_state(r[1]), _epoch(r[2])) for r in rows]

    async def user_states(self) -> list[StateDump]:
        rows = await self._rows("user_states", ("app_name", "user_id", "state", "update_time"), ("app_name", "user_id"))
        return [StateDump(str(r[0]), str(r[1]), decode_state(r[2]), _epoch(r[3])) for r in rows]

    async def close(self) -> None:
        await self.service.close()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _sqlite_tables(path: Path) -> dict[str, set[str]]:
    """Table name -> column names of a SQLite file (opened read-only)."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ConfigError(f"cannot open {path} as a SQLite database: {error}") from error
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')} for name in names}
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{path} is not a SQLite database: {error}") from error
    finally:
        connection.close()


_ASYNC_URLS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "mysql": "mysql+aiomysql"}


def open_adk_source(source: str, kind: str = "auto") -> AdkSource:
    """Open an ADK session database: a SQLite file path, ``sqlite:///path``, or a SQLAlchemy URL.

    ``kind`` is ``auto``, ``sqlite`` (SqliteSessionService) or ``database``
    (DatabaseSessionService). Raises ``ConfigError`` for anything that is not
    an ADK session database.
    """
    if kind not in ("auto", "sqlite", "database"):
        raise ConfigError(f"--source-kind must be auto, sqlite or database, got {kind!r}")
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme and scheme != "sqlite":
        if kind == "sqlite":
            raise ConfigError(f"{_redact(source)} is not a SQLite file; SqliteSessionService databases are files")
        base = scheme.split("+", 1)[0]
        url = source if "+" in scheme else _ASYNC_URLS.get(base, scheme) + source[len(scheme) :]
        return DatabaseServiceSource(url)
    path = Path(unquote(urlsplit(source).path)[1:]) if scheme == "sqlite" else Path(source)
    if not path.is_file():
        raise ConfigError(f"no ADK session database at {path}")
    tables = _sqlite_tables(path)
    looks_database = "adk_internal_metadata" in tables or "actions" in tables.get("events", set())
    looks_sqlite = {"sessions", "events"} <= set(tables) and "event_data" in tables["events"]
    if kind == "database" or (kind == "auto" and looks_database):
        return DatabaseServiceSource(f"sqlite+aiosqlite:///{path.resolve()}")
    if looks_sqlite:
        return SqliteServiceSource(path)
    raise ConfigError(
        f"{path} holds no ADK session tables (expected 'sessions' and 'events' written by "
        "SqliteSessionService or DatabaseSessionService)"
    )
