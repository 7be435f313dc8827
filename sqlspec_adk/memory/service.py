"""SQLSpecMemoryService: ADK's BaseMemoryService over a memory store.

Thin by design: it resolves the owner id, runs each call as one store
operation (one transaction) and turns rows into ``MemoryEntry`` objects.

- ``add_session_to_memory`` and ``add_events_to_memory`` store each event with
  searchable text once per ``(app_name, user_id, event id)``; adding a session
  again adds only its new events, and never brings back a deleted one.
- ``add_memory`` stores explicit entries (an entry without ``id`` gets one); an
  entry with a stored id replaces it.
- ``search_memory`` accepts any text: it is tokenized here, never passed to a
  query language, matches case- and accent-insensitively and across scripts,
  and returns at most ``memory_max_results`` entries, most relevant first.
- ``MemoryEntry.id`` is the memory id ``delete_memory`` takes: the event id, or
  the explicit entry's id. ``timestamp`` is ISO 8601 in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional, Union

from google.adk.memory.base_memory_service import BaseMemoryService, SearchMemoryResponse
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from typing_extensions import override

from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
from sqlspec_adk.modes import call
from sqlspec_adk.records import MemoryRecord
from sqlspec_adk.service import OwnerId

if TYPE_CHECKING:
    from google.adk.events.event import Event
    from google.adk.sessions.session import Session

__all__ = ["SQLSpecMemoryService", "to_memory_entry"]

AnyMemoryStore = Union[BaseAsyncADKMemoryStore[Any], BaseSyncADKMemoryStore[Any]]


class SQLSpecMemoryService(BaseMemoryService):
    """Persistent ADK memory with keyword search in a SQL database.

    ``owner_id`` fills the configured ``owner_id_column`` of new entries and
    limits searches and deletes to that owner's entries: a value, or a
    callable ``(app_name, user_id) -> value``; None: every owner's entries.
    """

    def __init__(self, store: AnyMemoryStore, owner_id: OwnerId = None) -> None:
        self.store = store
        self._owner_id = owner_id

    def _owner_for(self, app_name: str, user_id: str) -> Any:
        return self._owner_id(app_name, user_id) if callable(self._owner_id) else self._owner_id

    @override
    async def add_session_to_memory(self, session: Session) -> None:
        await self.add_events_to_memory(
            app_name=session.app_name, user_id=session.user_id, events=session.events, session_id=session.id
        )

    @override
    async def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: Optional[str] = None,
        custom_metadata: Optional[Mapping[str, object]] = None,
    ) -> None:
        """Store new events (a delta); ``custom_metadata`` is attached to each entry stored by this call."""
        await call(
            self.store.add_events_to_memory,
            app_name=app_name,
            user_id=user_id,
            events=events,
            session_id=session_id,
            custom_metadata=custom_metadata,
            owner_id=self._owner_for(app_name, user_id),
        )

    @override
    async def add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Optional[Mapping[str, object]] = None,
    ) -> None:
        """Store explicit entries; each entry's own ``custom_metadata`` wins over the call's."""
        await call(
            self.store.add_memory,
            app_name=app_name,
            user_id=user_id,
            memories=memories,
            custom_metadata=custom_metadata,
            owner_id=self._owner_for(app_name, user_id),
        )

    @override
    async def search_memory(self, *, app_name: str, user_id: str, query: str) -> SearchMemoryResponse:
        owner = self._owner_for(app_name, user_id)
        records = await call(self.store.search_memory, app_name=app_name, user_id=user_id, query=query, owner_id=owner)
        return SearchMemoryResponse(memories=[to_memory_entry(record) for record in records])

    @override
    async def delete_memory(self, *, app_name: str, user_id: str, memory_id: Optional[str] = None) -> None:
        """Delete one entry by ``MemoryEntry.id``; an unknown id, or none, deletes nothing."""
        if not memory_id:
            return
        owner = self._owner_for(app_name, user_id)
        await call(self.store.delete_memory, app_name=app_name, user_id=user_id, memory_id=memory_id, owner_id=owner)

    async def delete_user_memory(self, *, app_name: str, user_id: str, session_id: Optional[str] = None) -> int:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        owner = self._owner_for(app_name, user_id)
        return await call(
            self.store.delete_user_memory, app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner
        )

    async def delete_memory_before(self, *, before: float, app_name: Optional[str] = None) -> int:
        """Retention: remove entries older than ``before`` (epoch seconds); returns the count."""
        return await call(self.store.delete_memory_before, before=before, app_name=app_name)

    async def close(self) -> None:
        """Close the store's pool; idempotent, and the service can be used again afterwards."""
        await call(self.store.close)

    async def __aenter__(self) -> SQLSpecMemoryService:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


def to_memory_entry(record: MemoryRecord) -> MemoryEntry:
    """The ``MemoryEntry`` of a stored row (content JSON as text, bytes, or already decoded)."""
    raw = record["content_json"]
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw).decode("utf-8")
    content = types.Content.model_validate(json.loads(raw) if isinstance(raw, str) else raw)
    return MemoryEntry(
        content=content,
        custom_metadata=record["custom_metadata"],
        id=record["event_id"],
        author=record["author"],
        timestamp=datetime.fromtimestamp(record["timestamp"], tz=UTC).isoformat(),
    )
