"""SQLSpecSessionService: ADK's BaseSessionService over a session store.

Thin by design: it strips ids, validates input, converts between ADK objects
and store records, and runs each call as one store operation (one
transaction). Semantics are ADK's reference services', plus what they get
wrong: the stale check happens inside the append transaction, newest-N events,
and no lost app:/user: updates under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Optional, Union

from google.adk.events.event import Event
from google.adk.platform import uuid as platform_uuid
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig, ListSessionsResponse
from google.adk.sessions.session import Session
from typing_extensions import override

from sqlspec_adk.converters import decode_event, from_marker, merge_state, split_state, to_marker
from sqlspec_adk.modes import call
from sqlspec_adk.records import Expected, SessionPage, SessionSnapshot
from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

__all__ = ["OwnerId", "SQLSpecSessionService"]

AnyStore = Union[BaseAsyncADKStore[Any], BaseSyncADKStore[Any]]
#: A fixed owner id, or a callable ``(app_name, user_id) -> owner id``.
OwnerId = Union[Any, Callable[[str, Optional[str]], Any]]


class SQLSpecSessionService(BaseSessionService):
    """Persistent ADK sessions, events and state in a SQL database.

    ``owner_id`` fills the configured ``owner_id_column`` of new sessions and
    limits every read, list, append and delete to that owner's sessions: a
    value, or a callable ``(app_name, user_id) -> value`` (``user_id`` is None
    for an app-wide list). None: every owner's rows. ``app:`` and ``user:``
    state are keyed by app and user only, so owners sharing app and user names
    share them.
    ``skip_compacted_events`` (default: the config's key of that name):
    ``get_session`` loads the compaction events and only the events no
    compaction covers; the model sees the same history, from far fewer rows.
    """

    def __init__(
        self, store: AnyStore, *, owner_id: OwnerId = None, skip_compacted_events: Optional[bool] = None
    ) -> None:
        self.store = store
        self._owner_id = owner_id
        self.skip_compacted_events = skip_compacted_events

    def _owner_for(self, app_name: str, user_id: Optional[str]) -> Any:
        """The owner of this call's rows: the fixed value, or the callable's (``user_id`` None for app-wide lists)."""
        return self._owner_id(app_name, user_id) if callable(self._owner_id) else self._owner_id

    @override
    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: Optional[dict[str, Any]] = None,
        session_id: Optional[str] = None,
    ) -> Session:
        session_id = (session_id.strip() if session_id else None) or platform_uuid.new_uuid()
        snapshot = await call(
            self.store.create_session,
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            state=state,
            owner_id=self._owner_for(app_name, user_id),
        )
        return _to_session(snapshot)

    @override
    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: Optional[GetSessionConfig] = None,
    ) -> Optional[Session]:
        snapshot = await call(
            self.store.get_session,
            app_name=app_name,
            user_id=user_id,
            session_id=session_id.strip(),
            num_recent_events=config.num_recent_events if config else None,
            after_timestamp=config.after_timestamp if config else None,
            skip_compacted_events=self.skip_compacted_events,
            owner_id=self._owner_for(app_name, user_id),
        )
        return _to_session(snapshot) if snapshot is not None else None

    @override
    async def list_sessions(self, *, app_name: str, user_id: Optional[str] = None) -> ListSessionsResponse:
        """Every session of the app (or user): oldest-updated first, merged state, no events."""
        owner = self._owner_for(app_name, user_id)
        page = await call(self.store.list_sessions, app_name=app_name, user_id=user_id, owner_id=owner)
        return ListSessionsResponse(sessions=_page_sessions(page))

    async def list_sessions_page(
        self, *, app_name: str, user_id: Optional[str] = None, page_size: int = 100, page_token: Optional[str] = None
    ) -> tuple[ListSessionsResponse, Optional[str]]:
        """One page of :meth:`list_sessions` and the token of the next page (None at the end)."""
        page = await call(
            self.store.list_sessions,
            app_name=app_name,
            user_id=user_id,
            limit=page_size,
            cursor=page_token,
            owner_id=self._owner_for(app_name, user_id),
        )
        return ListSessionsResponse(sessions=_page_sessions(page)), page["next_cursor"]

    @override
    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        owner = self._owner_for(app_name, user_id)
        await call(
            self.store.delete_session, app_name=app_name, user_id=user_id, session_id=session_id.strip(), owner_id=owner
        )

    @override
    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        _, user_state = await call(self.store.get_scoped_state, app_name=app_name, user_id=user_id)
        return user_state

    async def get_app_state(self, *, app_name: str) -> dict[str, Any]:
        """App-scoped state with unprefixed keys ({} when none)."""
        app_state, _ = await call(self.store.get_scoped_state, app_name=app_name, user_id="")
        return app_state

    @override
    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        # Refuse state that cannot be stored before touching the session or the database.
        delta = split_state(event.actions.state_delta if event.actions else None)
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        expected = Expected(
            revision=from_marker(session._storage_update_marker),
            update_time=session.last_update_time,
            last_event_id=session.events[-1].id if session.events else None,
        )
        # A sync store's own async path batches on the event loop (one thread hop per transaction); both
        # are coroutine functions, awaited here directly.
        append = self.store.append_event_async if isinstance(self.store, BaseSyncADKStore) else self.store.append_event
        result = await append(
            app_name=session.app_name,
            user_id=session.user_id,
            session_id=session.id,
            expected=expected,
            event=event,
            delta=delta,
            owner_id=self._owner_for(session.app_name, session.user_id),
        )
        if result.stored_event_json is not None:
            # Re-delivered: storage already holds this very event; the session is left as it is.
            return decode_event(result.stored_event_json)
        session._storage_update_marker = to_marker(result.revision)
        session.last_update_time = event.timestamp
        return self._commit_event_to_session(session, event)

    async def delete_events_before(self, *, before: float, app_name: Optional[str] = None) -> int:
        """Retention: delete events older than ``before`` (epoch seconds); returns the count."""
        return await call(self.store.delete_events_before, before=before, app_name=app_name)

    async def delete_idle_sessions(self, *, before: float, app_name: Optional[str] = None) -> int:
        """Retention: delete sessions not updated since ``before``, with their events; returns the count."""
        return await call(self.store.delete_idle_sessions, before=before, app_name=app_name)

    @override
    async def flush(self) -> None:
        """Nothing to flush: an append returns only after its transaction committed."""

    async def close(self) -> None:
        """Close the store's pool; idempotent, and the service can be used again afterwards."""
        await call(self.store.close)

    async def __aenter__(self) -> SQLSpecSessionService:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


def _to_session(snapshot: SessionSnapshot) -> Session:
    record = snapshot["session"]
    session = Session(
        app_name=record["app_name"],
        user_id=record["user_id"],
        id=record["id"],
        state=merge_state(record["state"], snapshot["app_state"], snapshot["user_state"]),
        events=[decode_event(event["event_json"]) for event in snapshot["events"]],
        last_update_time=record["update_time"],
    )
    session._storage_update_marker = to_marker(record["revision"])
    return session


def _page_sessions(page: SessionPage) -> list[Session]:
    sessions = []
    for record in page["sessions"]:
        session = Session(
            app_name=record["app_name"],
            user_id=record["user_id"],
            id=record["id"],
            state=merge_state(record["state"], page["app_state"], page["user_states"].get(record["user_id"], {})),
            last_update_time=record["update_time"],
        )
        session._storage_update_marker = to_marker(record["revision"])
        sessions.append(session)
    return sessions
