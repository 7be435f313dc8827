"""The session store contract, async and sync.

:class:`SessionStoreBase` validates each call's input and prepares it once,
before any connection is touched, as an :class:`~sqlspec_adk.protocol.Operation`
built from the config's dialect (``dialect.sessions``); the async and sync
stores run it through their config, one transaction each. Method names are the
same at every layer: ``service.append_event`` → ``store.append_event`` →
``dialect.sessions.append_event``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, NotRequired, TypedDict, TypeVar, Unpack

from google.adk.events.event import Event
from google.adk.platform import time as platform_time

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.converters import StateDelta, check_key_text, encode_event, split_state
from sqlspec_adk.dialects.sessions import Redelivery
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.lifecycle import AsyncLifecycle, SyncLifecycle
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import upgrade, upgrade_sync
from sqlspec_adk.protocol import Operation, operation
from sqlspec_adk.records import AppendResult, EventWrite, Expected, SessionPage, SessionSnapshot

__all__ = ["BaseAsyncADKStore", "BaseSyncADKStore", "SessionStoreBase"]

C = TypeVar("C", bound=DatabaseConfig)
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig[Any])
Scoped = tuple[dict[str, Any], dict[str, Any]]


class AppendFields(TypedDict):
    """:meth:`BaseAsyncADKStore.append_event`'s keywords."""

    app_name: str
    user_id: str
    session_id: str
    expected: Expected
    event: Event
    delta: NotRequired[StateDelta | None]
    owner_id: NotRequired[Any]


class SessionStoreBase(Generic[C]):
    """Session operations prepared for one config; shared by the async and sync stores."""

    component: ClassVar[str] = "sessions"

    def __init__(self, config: C) -> None:
        if not config.adk.enable_sessions:
            raise ConfigError("extension_config['adk']['enable_sessions'] is false: this config has no session tables")
        self.config = config
        self.dialect = config.dialect
        self.sql = config.dialect.sessions

    def _create_session(
        self, *, app_name: str, user_id: str, session_id: str, state: Mapping[str, Any] | None, owner_id: Any
    ) -> Operation[SessionSnapshot]:
        _require_keys(app_name=app_name, user_id=user_id, session_id=session_id)
        delta, now = split_state(state), platform_time.get_time()
        return operation(
            "create_session",
            lambda: self.sql.create_session(
                app_name=app_name, user_id=user_id, session_id=session_id, delta=delta, now=now, owner_id=owner_id
            ),
            write=True,
            table=self.config.adk.session_table,
        )

    def _get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None,
        after_timestamp: float | None,
        skip_compacted_events: bool | None,
        owner_id: Any,
    ) -> Operation[SessionSnapshot | None]:
        if num_recent_events is not None and num_recent_events < 0:
            raise ValueError(f"num_recent_events must be >= 0, got {num_recent_events}")
        check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
        skip = self.config.adk.skip_compacted_events if skip_compacted_events is None else skip_compacted_events
        return operation(
            "get_session",
            lambda: self.dialect.get_session(
                app_name=app_name,
                user_id=user_id,
                session_id=session_id,
                num_recent_events=num_recent_events,
                after_timestamp=after_timestamp,
                skip_compacted=skip,
                owner=owner_id,
            ),
            write=False,
            table=self.config.adk.session_table,
        )

    def _list_sessions(
        self, *, app_name: str, user_id: str | None, limit: int | None, cursor: str | None, owner_id: Any
    ) -> Operation[SessionPage]:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        check_key_text(app_name=app_name, user_id=user_id)
        return operation(
            "list_sessions",
            lambda: self.sql.list_sessions(
                app_name=app_name, user_id=user_id, limit=limit, cursor=cursor, owner=owner_id
            ),
            write=False,
            table=self.config.adk.session_table,
        )

    def _delete_session(self, *, app_name: str, user_id: str, session_id: str, owner_id: Any) -> Operation[int]:
        check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
        return operation(
            "delete_session",
            lambda: self.dialect.delete_session(
                app_name=app_name, user_id=user_id, session_id=session_id, owner=owner_id
            ),
            write=True,
            table=self.config.adk.session_table,
        )

    def _get_scoped_state(self, *, app_name: str, user_id: str) -> Operation[Scoped]:
        check_key_text(app_name=app_name, user_id=user_id)
        return operation(
            "get_scoped_state",
            lambda: self.sql.get_scoped_state(app_name=app_name, user_id=user_id),
            write=False,
            table=self.config.adk.user_state_table,
        )

    def _append_event(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        expected: Expected,
        event: Event,
        delta: StateDelta | None = None,
        owner_id: Any = None,
        probe: bool = False,
    ) -> Operation[AppendResult]:
        check_key_text(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            event_id=event.id,
            invocation_id=event.invocation_id,
            author=event.author,
        )
        if delta is None:
            delta = split_state(event.actions.state_delta if event.actions else None)
        write = EventWrite(
            id=event.id,
            invocation_id=event.invocation_id,
            author=event.author,
            timestamp=float(event.timestamp),
            event_json=encode_event(event),
            compaction=bool(event.actions and event.actions.compaction),
        )
        prepared = delta
        return operation(
            "append_event",
            lambda: self.dialect.append_event(
                app_name=app_name,
                user_id=user_id,
                session_id=session_id,
                expected=expected,
                event=write,
                delta=prepared,
                owner=owner_id,
                probe=probe,
            ),
            write=True,
            table=self.config.adk.events_table,
            scope=(app_name, user_id, session_id),
        )

    def _delete_events_before(self, *, before: float, app_name: str | None) -> Operation[int]:
        return operation(
            "delete_events_before",
            lambda: self.sql.delete_events_before(before=float(before), app_name=app_name),
            write=True,
            table=self.config.adk.events_table,
        )

    def _delete_idle_sessions(self, *, before: float, app_name: str | None) -> Operation[int]:
        return operation(
            "delete_idle_sessions",
            lambda: self.dialect.delete_idle_sessions(before=float(before), app_name=app_name),
            write=True,
            table=self.config.adk.session_table,
        )


def _require_keys(**values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    check_key_text(**values)


class BaseAsyncADKStore(SessionStoreBase[AC], AsyncLifecycle[AC]):
    """Session store over an async driver."""

    async def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = await upgrade(self.config)
        mark_current(self.config)
        return version

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        state: Mapping[str, Any] | None = None,
        owner_id: Any = None,
    ) -> SessionSnapshot:
        """Create a session at revision 0, splitting ``state`` by prefix; AlreadyExistsError if the id is taken."""
        op = self._create_session(
            app_name=app_name, user_id=user_id, session_id=session_id, state=state, owner_id=owner_id
        )
        return await self._arun(op)

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None = None,
        after_timestamp: float | None = None,
        skip_compacted_events: bool | None = None,
        owner_id: Any = None,
    ) -> SessionSnapshot | None:
        """The session, its scoped state and its newest ``num_recent_events`` events at or after a time, or None.

        ``skip_compacted_events`` (default: the config's): leave out the raw events a compaction covers.
        ``owner_id`` (with ``owner_id_column``): None when the session belongs to another owner.
        """
        op = self._get_session(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            num_recent_events=num_recent_events,
            after_timestamp=after_timestamp,
            skip_compacted_events=skip_compacted_events,
            owner_id=owner_id,
        )
        return await self._arun(op)

    async def list_sessions(
        self,
        *,
        app_name: str,
        user_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        owner_id: Any = None,
    ) -> SessionPage:
        """One page of sessions without events, oldest-updated first; ``cursor`` continues a previous page."""
        op = self._list_sessions(app_name=app_name, user_id=user_id, limit=limit, cursor=cursor, owner_id=owner_id)
        return await self._arun(op)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str, owner_id: Any = None) -> int:
        """Delete a session and its events (another owner's: left alone); returns 0 or 1."""
        op = self._delete_session(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return await self._arun(op)

    async def get_scoped_state(self, *, app_name: str, user_id: str) -> Scoped:
        """(app state, user state) without prefixes; empty dicts when none is stored."""
        return await self._arun(self._get_scoped_state(app_name=app_name, user_id=user_id))

    async def append_event(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        expected: Expected,
        event: Event,
        delta: StateDelta | None = None,
        owner_id: Any = None,
    ) -> AppendResult:
        """Append a non-partial event (``temp:`` keys already trimmed) in one transaction.

        ``expected`` is what the caller's session object says storage holds (stale check). Returns the new
        revision; an event id the session already holds is a no-op with the same content (the result
        carries the stored event) and an ``EventConflictError`` with other content. ``delta`` is the
        event's state delta already split (:func:`~sqlspec_adk.converters.split_state`); it is split here
        when omitted.
        """
        fields = AppendFields(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            expected=expected,
            event=event,
            delta=delta,
            owner_id=owner_id,
        )
        try:
            return await self._arun(self._append_event(**fields))
        except Redelivery:  # the event row met a stored id: rolled back; read first this time
            return await self._arun(self._append_event(**fields, probe=True))

    async def delete_events_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: delete events with ``timestamp < before`` (epoch seconds); returns the count."""
        return await self._arun(self._delete_events_before(before=before, app_name=app_name))

    async def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: delete sessions not updated since ``before`` and their events; returns the count."""
        return await self._arun(self._delete_idle_sessions(before=before, app_name=app_name))


class BaseSyncADKStore(SessionStoreBase[SC], SyncLifecycle[SC]):
    """Session store over a sync driver: the same operations, run on the calling thread."""

    def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = upgrade_sync(self.config)
        mark_current(self.config)
        return version

    def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        state: Mapping[str, Any] | None = None,
        owner_id: Any = None,
    ) -> SessionSnapshot:
        """Create a session at revision 0, splitting ``state`` by prefix; AlreadyExistsError if the id is taken."""
        op = self._create_session(
            app_name=app_name, user_id=user_id, session_id=session_id, state=state, owner_id=owner_id
        )
        return self._run(op)

    def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None = None,
        after_timestamp: float | None = None,
        skip_compacted_events: bool | None = None,
        owner_id: Any = None,
    ) -> SessionSnapshot | None:
        """The session, its scoped state and its newest ``num_recent_events`` events at or after a time, or None.

        ``skip_compacted_events`` (default: the config's): leave out the raw events a compaction covers.
        ``owner_id`` (with ``owner_id_column``): None when the session belongs to another owner.
        """
        op = self._get_session(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            num_recent_events=num_recent_events,
            after_timestamp=after_timestamp,
            skip_compacted_events=skip_compacted_events,
            owner_id=owner_id,
        )
        return self._run(op)

    def list_sessions(
        self,
        *,
        app_name: str,
        user_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        owner_id: Any = None,
    ) -> SessionPage:
        """One page of sessions without events, oldest-updated first; ``cursor`` continues a previous page."""
        op = self._list_sessions(app_name=app_name, user_id=user_id, limit=limit, cursor=cursor, owner_id=owner_id)
        return self._run(op)

    def delete_session(self, *, app_name: str, user_id: str, session_id: str, owner_id: Any = None) -> int:
        """Delete a session and its events (another owner's: left alone); returns 0 or 1."""
        op = self._delete_session(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return self._run(op)

    def get_scoped_state(self, *, app_name: str, user_id: str) -> Scoped:
        """(app state, user state) without prefixes; empty dicts when none is stored."""
        return self._run(self._get_scoped_state(app_name=app_name, user_id=user_id))

    def append_event(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        expected: Expected,
        event: Event,
        delta: StateDelta | None = None,
        owner_id: Any = None,
    ) -> AppendResult:
        """Append a non-partial event (``temp:`` keys already trimmed) in one transaction; see the async twin."""
        fields = AppendFields(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            expected=expected,
            event=event,
            delta=delta,
            owner_id=owner_id,
        )
        try:
            return self._run(self._append_event(**fields))
        except Redelivery:  # the event row met a stored id: rolled back; read first this time
            return self._run(self._append_event(**fields, probe=True))

    async def append_event_async(self, **fields: Unpack[AppendFields]) -> AppendResult:
        """:meth:`append_event` from async code, without blocking the event loop: the same operation and
        outcome. With group commit on, concurrent callers wait on the loop and their appends share a
        transaction run on one worker thread (``SQLSpecSessionService`` appends through this)."""
        try:
            return await self._arun(self._append_event(**fields))
        except Redelivery:
            return await self._arun(self._append_event(**fields, probe=True))

    def delete_events_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: delete events with ``timestamp < before`` (epoch seconds); returns the count."""
        return self._run(self._delete_events_before(before=before, app_name=app_name))

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: delete sessions not updated since ``before`` and their events; returns the count."""
        return self._run(self._delete_idle_sessions(before=before, app_name=app_name))
