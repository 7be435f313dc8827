"""The session store contract, async and sync.

Each operation is built once (:class:`SessionStoreOps`, from the config's
dialect) and run by the async or sync base, whose public methods
:mod:`sqlspec_adk._runner` makes from the ``op_*`` builders (same parameters
and docstrings). Input is validated while the operation is built, so bad input
fails before any connection is touched. A sync store's
:meth:`BaseSyncADKStore.arun` runs in a worker thread, so it never blocks the
event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic

from google.adk.events.event import Event

from sqlspec_adk._runner import AC, SC, AsyncRunner, C, SyncRunner, async_method, sync_method
from sqlspec_adk.converters import check_key_text, encode_event, split_state
from sqlspec_adk.dialects.base import BaseDialect, EventWrite
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import upgrade
from sqlspec_adk.protocol import Op
from sqlspec_adk.records import SessionPage, SessionSnapshot

__all__ = ["BaseAsyncADKStore", "BaseSyncADKStore", "SessionStoreOps"]


class SessionStoreOps(Generic[C]):
    """Builds the session operations for one config; shared by the async and sync stores."""

    def __init__(self, config: C) -> None:
        if not config.adk.enable_sessions:
            raise ConfigError("extension_config['adk']['enable_sessions'] is false: this config has no session tables")
        self.config = config
        self.dialect: BaseDialect = config.dialect

    def op_create_tables(self) -> Op[int]:
        """Bring the schema to the newest version (idempotent); returns that version."""
        return upgrade(self.dialect)

    def op_create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        state: Mapping[str, Any] | None,
        now: float,
        owner_id: Any = None,
    ) -> Op[SessionSnapshot]:
        """Create a session at revision 0, splitting ``state`` by prefix (``temp:`` keys dropped).

        Raises ``AlreadyExistsError`` when the session id is taken in this app and user.
        """
        _check_keys(app_name=app_name, user_id=user_id, session_id=session_id)
        delta = split_state(state)
        return self.dialect.create_session(
            app_name=app_name, user_id=user_id, session_id=session_id, delta=delta, now=now, owner_id=owner_id
        )

    def op_get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None = None,
        after_timestamp: float | None = None,
    ) -> Op[SessionSnapshot | None]:
        """The session, its scoped state and its events in append order, or None.

        Events are the newest ``num_recent_events`` (all when None) at or after ``after_timestamp``.
        """
        if num_recent_events is not None and num_recent_events < 0:
            raise ValueError(f"num_recent_events must be >= 0, got {num_recent_events}")
        check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
        return self.dialect.get_session(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            num_recent_events=num_recent_events,
            after_timestamp=after_timestamp,
        )

    def op_list_sessions(
        self, *, app_name: str, user_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Op[SessionPage]:
        """One page of sessions without events, oldest-updated first; ``cursor`` continues a previous page."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        check_key_text(app_name=app_name, user_id=user_id)
        return self.dialect.list_sessions(app_name=app_name, user_id=user_id, limit=limit, cursor=cursor)

    def op_delete_session(self, *, app_name: str, user_id: str, session_id: str) -> Op[int]:
        """Delete a session and its events; returns 0 or 1."""
        check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
        return self.dialect.delete_session(app_name=app_name, user_id=user_id, session_id=session_id)

    def op_get_scoped_state(self, *, app_name: str, user_id: str) -> Op[tuple[dict[str, Any], dict[str, Any]]]:
        """(app state, user state) without prefixes; empty dicts when none is stored."""
        check_key_text(app_name=app_name, user_id=user_id)
        return self.dialect.get_scoped_state(app_name=app_name, user_id=user_id)

    def op_append_event(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        expected_revision: int | None,
        expected_update_time: float,
        event: Event,
    ) -> Op[int]:
        """Append a non-partial event whose ``temp:`` keys are already trimmed; returns the new revision."""
        check_key_text(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            event_id=event.id,
            invocation_id=event.invocation_id,
            author=event.author,
        )
        delta = split_state(event.actions.state_delta if event.actions else None)
        write = EventWrite(
            id=event.id,
            invocation_id=event.invocation_id,
            author=event.author,
            timestamp=float(event.timestamp),
            event_json=encode_event(event),
        )
        return self.dialect.append_event(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            expected_revision=expected_revision,
            expected_update_time=expected_update_time,
            event=write,
            delta=delta,
        )

    def op_delete_events_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention: delete events with ``timestamp < before`` (epoch seconds); returns the count."""
        return self.dialect.delete_events_before(before=before, app_name=app_name)

    def op_delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention: delete sessions not updated since ``before`` and their events; returns the count."""
        return self.dialect.delete_idle_sessions(before=before, app_name=app_name)


def _check_keys(**values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    check_key_text(**values)


class BaseAsyncADKStore(AsyncRunner[AC], SessionStoreOps[AC]):
    """Session store over an async driver."""

    create_tables = async_method(SessionStoreOps.op_create_tables, write=True)
    create_session = async_method(SessionStoreOps.op_create_session, write=True)
    get_session = async_method(SessionStoreOps.op_get_session, write=False)
    list_sessions = async_method(SessionStoreOps.op_list_sessions, write=False)
    delete_session = async_method(SessionStoreOps.op_delete_session, write=True)
    delete_events_before = async_method(SessionStoreOps.op_delete_events_before, write=True)
    delete_idle_sessions = async_method(SessionStoreOps.op_delete_idle_sessions, write=True)


class BaseSyncADKStore(SyncRunner[SC], SessionStoreOps[SC]):
    """Session store over a sync driver; :meth:`arun` keeps it off the event loop."""

    create_tables = sync_method(SessionStoreOps.op_create_tables, write=True)
    create_session = sync_method(SessionStoreOps.op_create_session, write=True)
    get_session = sync_method(SessionStoreOps.op_get_session, write=False)
    list_sessions = sync_method(SessionStoreOps.op_list_sessions, write=False)
    delete_session = sync_method(SessionStoreOps.op_delete_session, write=True)
    delete_events_before = sync_method(SessionStoreOps.op_delete_events_before, write=True)
    delete_idle_sessions = sync_method(SessionStoreOps.op_delete_idle_sessions, write=True)
