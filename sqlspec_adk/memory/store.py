"""The memory store contract, async and sync.

Mirrors :mod:`sqlspec_adk.store`: :class:`MemoryStoreBase` validates each call
and turns ADK objects into rows once (:mod:`sqlspec_adk.memory.rows`), before
any connection is touched; the async and sync stores run the prepared
operation (``dialect.memory``) through their config.

Entries are keyed per ``(app_name, user_id, event_id)``; the memory id callers
see is that ``event_id`` (the ADK event id, or an explicit entry's id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from google.adk.platform import time as platform_time

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.converters import check_key_text
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.lifecycle import AsyncLifecycle, SyncLifecycle
from sqlspec_adk.memory.rows import check_scope, encode_metadata, entry_write, event_write
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import upgrade, upgrade_sync
from sqlspec_adk.protocol import Op, Operation, operation
from sqlspec_adk.records import MemoryRecord, MemoryWrite
from sqlspec_adk.tokens import query_tokens

if TYPE_CHECKING:
    from google.adk.events.event import Event
    from google.adk.memory.memory_entry import MemoryEntry

__all__ = ["BaseAsyncADKMemoryStore", "BaseSyncADKMemoryStore", "MemoryStoreBase"]

T = TypeVar("T")
C = TypeVar("C", bound=DatabaseConfig)
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig[Any])


class MemoryStoreBase(Generic[C]):
    """Memory operations prepared for one config; shared by the async and sync stores.

    Raises ``ConfigError`` when the config disables memory, or asks for
    full-text search on a dialect without it.
    """

    component: ClassVar[str] = "memory"

    def __init__(self, config: C) -> None:
        if not config.adk.enable_memory:
            raise ConfigError("extension_config['adk']['enable_memory'] is false: this config has no memory table")
        self.config = config
        self.dialect = config.dialect
        self.sql = config.dialect.memory
        _ = self.sql.memory_fts  # an impossible memory_use_fts fails here, not at the first search
        self.max_results: int = config.adk.memory_max_results

    def _op(self, name: str, build: Any, *, write: bool) -> Operation[Any]:
        return operation(name, build, write=write, table=self.config.adk.memory_table)

    def _add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> Operation[None]:
        unique: dict[tuple[str, str, str], MemoryWrite] = {}
        for entry in entries:
            check_key_text(
                app_name=entry.app_name,
                user_id=entry.user_id,
                session_id=entry.session_id,
                memory_id=entry.event_id,
                author=entry.author,
            )
            key = (entry.app_name, entry.user_id, entry.event_id)
            # One statement must not touch a row twice: the first write wins
            # when duplicates are ignored, the last when they replace.
            if replace or key not in unique:
                unique[key] = entry
        writes = list(unique.values())
        return self._op("add_memory_entries", lambda: self.sql.add_memory_entries(writes, replace=replace), write=True)

    def _add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None,
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> Operation[None]:
        check_scope(app_name, user_id, session_id)
        metadata = encode_metadata(custom_metadata)
        writes = [
            write
            for event in events
            if (write := event_write(event, app_name, user_id, session_id, metadata, owner_id)) is not None
        ]
        return self._add_memory_entries(writes, replace=False)

    def _add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> tuple[Operation[None], list[str]]:
        check_scope(app_name, user_id, None)
        now = platform_time.get_time()
        writes = [entry_write(entry, app_name, user_id, custom_metadata, owner_id, now) for entry in memories]
        return self._add_memory_entries(writes, replace=True), [write.event_id for write in writes]

    def _search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None, owner_id: Any = None
    ) -> Operation[list[MemoryRecord]]:
        check_scope(app_name, user_id, None)
        if limit is None:
            limit = self.max_results
        elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        tokens, most = query_tokens(query), limit

        def build() -> Op[list[MemoryRecord]]:
            if not tokens:
                return []  # nothing can match: no statement, no connection
            return (
                yield from self.sql.search_memory(
                    app_name=app_name, user_id=user_id, tokens=tokens, limit=most, owner=owner_id
                )
            )

        return self._op("search_memory", build, write=False)

    def _delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any) -> Operation[int]:
        check_scope(app_name, user_id, None)
        if not isinstance(memory_id, str) or not memory_id:
            raise ValueError(f"memory_id must be a non-empty string, got {memory_id!r}")
        check_key_text(memory_id=memory_id)
        return self._op(
            "delete_memory",
            lambda: self.sql.delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner=owner_id),
            write=True,
        )

    def _delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None, owner_id: Any
    ) -> Operation[int]:
        check_scope(app_name, user_id, session_id)
        return self._op(
            "delete_user_memory",
            lambda: self.sql.delete_user_memory(
                app_name=app_name, user_id=user_id, session_id=session_id, owner=owner_id
            ),
            write=True,
        )

    def _delete_memory_before(self, *, before: float, app_name: str | None) -> Operation[int]:
        cutoff = float(before)
        return self._op(
            "delete_memory_before", lambda: self.sql.delete_memory_before(before=cutoff, app_name=app_name), write=True
        )


class BaseAsyncADKMemoryStore(MemoryStoreBase[AC], AsyncLifecycle[AC]):
    """Memory store over an async driver."""

    async def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = await upgrade(self.config)
        mark_current(self.config)
        return version

    async def add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> None:
        """Store prepared rows; ``replace``: an entry with a stored id replaces it (else the stored row stays)."""
        await self._arun(self._add_memory_entries(entries, replace=replace))

    async def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> None:
        """Store the events that have searchable text; an event already stored (or deleted) is left alone."""
        op = self._add_events_to_memory(
            app_name=app_name,
            user_id=user_id,
            events=events,
            session_id=session_id,
            custom_metadata=custom_metadata,
            owner_id=owner_id,
        )
        await self._arun(op)

    async def add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> list[str]:
        """Store explicit entries, replacing any stored with the same id; returns each entry's memory id."""
        op, ids = self._add_memory(
            app_name=app_name, user_id=user_id, memories=memories, custom_metadata=custom_metadata, owner_id=owner_id
        )
        await self._arun(op)
        return ids

    async def search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None = None, owner_id: Any = None
    ) -> list[MemoryRecord]:
        """Entries of one app and user (and owner) matching any text ``query``, best first, at most ``limit``."""
        op = self._search_memory(app_name=app_name, user_id=user_id, query=query, limit=limit, owner_id=owner_id)
        return await self._arun(op)

    async def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any = None) -> int:
        """Delete one entry by memory id (it stays deleted when its session is added again); returns 0 or 1."""
        op = self._delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner_id=owner_id)
        return await self._arun(op)

    async def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> int:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        op = self._delete_user_memory(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return await self._arun(op)

    async def delete_memory_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: remove entries whose timestamp is before ``before`` (epoch seconds); returns the count."""
        return await self._arun(self._delete_memory_before(before=before, app_name=app_name))


class BaseSyncADKMemoryStore(MemoryStoreBase[SC], SyncLifecycle[SC]):
    """Memory store over a sync driver: the same operations, run on the calling thread."""

    def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = upgrade_sync(self.config)
        mark_current(self.config)
        return version

    def add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> None:
        """Store prepared rows; ``replace``: an entry with a stored id replaces it (else the stored row stays)."""
        self._run(self._add_memory_entries(entries, replace=replace))

    def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> None:
        """Store the events that have searchable text; an event already stored (or deleted) is left alone."""
        op = self._add_events_to_memory(
            app_name=app_name,
            user_id=user_id,
            events=events,
            session_id=session_id,
            custom_metadata=custom_metadata,
            owner_id=owner_id,
        )
        self._run(op)

    def add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> list[str]:
        """Store explicit entries, replacing any stored with the same id; returns each entry's memory id."""
        op, ids = self._add_memory(
            app_name=app_name, user_id=user_id, memories=memories, custom_metadata=custom_metadata, owner_id=owner_id
        )
        self._run(op)
        return ids

    def search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None = None, owner_id: Any = None
    ) -> list[MemoryRecord]:
        """Entries of one app and user (and owner) matching any text ``query``, best first, at most ``limit``."""
        op = self._search_memory(app_name=app_name, user_id=user_id, query=query, limit=limit, owner_id=owner_id)
        return self._run(op)

    def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any = None) -> int:
        """Delete one entry by memory id (it stays deleted when its session is added again); returns 0 or 1."""
        op = self._delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner_id=owner_id)
        return self._run(op)

    def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> int:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        op = self._delete_user_memory(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return self._run(op)

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: remove entries whose timestamp is before ``before`` (epoch seconds); returns the count."""
        return self._run(self._delete_memory_before(before=before, app_name=app_name))
