"""The memory store contract, async and sync.

Mirrors :mod:`sqlspec_adk.store`: :class:`MemoryStoreOps` builds each operation
once from the config's dialect (validating input and turning ADK objects into
rows before any connection is touched), and :class:`BaseAsyncADKMemoryStore` /
:class:`BaseSyncADKMemoryStore` run them. ``arun`` works on both; the sync
store's runs in a worker thread.

Entries are keyed per ``(app_name, user_id, event_id)``; the memory id callers
see is that ``event_id`` (the ADK event id, or an explicit entry's id).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from google.adk.platform import time as platform_time
from google.adk.platform import uuid as platform_uuid

from sqlspec_adk._runner import AC, SC, AsyncRunner, C, SyncRunner, async_method, sync_method
from sqlspec_adk.converters import check_key_text, positional_floats
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.memory_sql import MemoryWrite
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.text import content_text, query_tokens, search_text
from sqlspec_adk.migrations import upgrade
from sqlspec_adk.protocol import Op
from sqlspec_adk.records import MemoryRecord

if TYPE_CHECKING:
    from google.adk.events.event import Event
    from google.adk.memory.memory_entry import MemoryEntry

__all__ = [
    "BaseAsyncADKMemoryStore",
    "BaseSyncADKMemoryStore",
    "MemoryStoreOps",
    "entry_write",
    "event_write",
    "parse_timestamp",
]

T = TypeVar("T")


class MemoryStoreOps(Generic[C]):
    """Builds the memory operations for one config; shared by the async and sync stores.

    Raises ``ConfigError`` when the config disables memory, or asks for
    full-text search on a dialect without it.
    """

    def __init__(self, config: C) -> None:
        if not config.adk.enable_memory:
            raise ConfigError("extension_config['adk']['enable_memory'] is false: this config has no memory table")
        self.config = config
        self.dialect: BaseDialect = config.dialect
        _ = self.dialect.memory_fts  # an impossible memory_use_fts fails here, not at the first search
        self.max_results: int = config.adk.memory_max_results

    def op_create_tables(self) -> Op[int]:
        """Bring the schema to the newest version (idempotent); returns that version."""
        return upgrade(self.dialect)

    def op_add_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Store prepared rows (see :meth:`BaseDialect.add_memory_entries` for ``replace``)."""
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
        return self.dialect.add_memory_entries(list(unique.values()), replace=replace)

    def op_add_events(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> Op[None]:
        """Store the events that have searchable text; an event already stored (or deleted) is left alone."""
        _check_scope(app_name, user_id, session_id)
        metadata = encode_metadata(custom_metadata)
        writes = [
            write
            for event in events
            if (write := event_write(event, app_name, user_id, session_id, metadata, owner_id)) is not None
        ]
        return self.op_add_entries(writes, replace=False)

    def op_add_memories(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> Op[list[str]]:
        """Store explicit entries, replacing any stored with the same id; returns each entry's memory id.

        An entry without ``id`` gets a new one. Each entry's ``custom_metadata``
        is laid over the call's ``custom_metadata``.
        """
        _check_scope(app_name, user_id, None)
        now = platform_time.get_time()
        writes = [entry_write(entry, app_name, user_id, custom_metadata, owner_id, now) for entry in memories]
        return _returning(self.op_add_entries(writes, replace=True), [write.event_id for write in writes])

    def op_search(self, *, app_name: str, user_id: str, query: str, limit: int | None = None) -> Op[list[MemoryRecord]]:
        """Entries of one app and user matching ``query``, most relevant first, at most ``limit``.

        ``limit`` defaults to ``memory_max_results``. Any query text is safe; one
        without letters or digits matches nothing.
        """
        _check_scope(app_name, user_id, None)
        if limit is None:
            limit = self.max_results
        elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        return self.dialect.search_memory_entries(
            app_name=app_name, user_id=user_id, tokens=query_tokens(query), limit=limit
        )

    def op_delete_memory(self, *, app_name: str, user_id: str, memory_id: str) -> Op[int]:
        """Delete one entry by memory id (it stays deleted when its session is added again); returns 0 or 1."""
        _check_scope(app_name, user_id, None)
        if not isinstance(memory_id, str) or not memory_id:
            raise ValueError(f"memory_id must be a non-empty string, got {memory_id!r}")
        check_key_text(memory_id=memory_id)
        return self.dialect.forget_memory_entry(app_name=app_name, user_id=user_id, memory_id=memory_id)

    def op_delete_entries(self, *, app_name: str, user_id: str, session_id: str | None = None) -> Op[int]:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        _check_scope(app_name, user_id, session_id)
        return self.dialect.delete_memory_entries(app_name=app_name, user_id=user_id, session_id=session_id)

    def op_delete_older_than(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention: remove entries whose timestamp is before ``before`` (epoch seconds); returns the count."""
        return self.dialect.delete_memory_before(before=float(before), app_name=app_name)


class BaseAsyncADKMemoryStore(AsyncRunner[AC], MemoryStoreOps[AC]):
    """Memory store over an async driver."""

    create_tables = async_method(MemoryStoreOps.op_create_tables, write=True)
    add_entries = async_method(MemoryStoreOps.op_add_entries, write=True)
    add_events = async_method(MemoryStoreOps.op_add_events, write=True)
    add_memories = async_method(MemoryStoreOps.op_add_memories, write=True)
    search = async_method(MemoryStoreOps.op_search, write=False)
    delete_memory = async_method(MemoryStoreOps.op_delete_memory, write=True)
    delete_entries = async_method(MemoryStoreOps.op_delete_entries, write=True)
    delete_older_than = async_method(MemoryStoreOps.op_delete_older_than, write=True)


class BaseSyncADKMemoryStore(SyncRunner[SC], MemoryStoreOps[SC]):
    """Memory store over a sync driver; :meth:`arun` keeps it off the event loop."""

    create_tables = sync_method(MemoryStoreOps.op_create_tables, write=True)
    add_entries = sync_method(MemoryStoreOps.op_add_entries, write=True)
    add_events = sync_method(MemoryStoreOps.op_add_events, write=True)
    add_memories = sync_method(MemoryStoreOps.op_add_memories, write=True)
    search = sync_method(MemoryStoreOps.op_search, write=False)
    delete_memory = sync_method(MemoryStoreOps.op_delete_memory, write=True)
    delete_entries = sync_method(MemoryStoreOps.op_delete_entries, write=True)
    delete_older_than = sync_method(MemoryStoreOps.op_delete_older_than, write=True)


# ------------------------------------------------------------------ converters
def event_write(
    event: Event,
    app_name: str,
    user_id: str,
    session_id: str | None,
    metadata_json: str | None,
    owner_id: Any = None,
) -> MemoryWrite | None:
    """The row for one event, or None when it has nothing to search (no text, or a partial event)."""
    if event.partial or event.content is None:
        return None
    indexed = search_text(content_text(event.content))
    if not indexed.strip():
        return None
    content_json = positional_floats(event.content.model_dump_json(exclude_none=True))
    event_id = event.id
    if not event_id:
        # Stable across re-adds, so an id-less event is still stored once.
        digest = hashlib.sha256(f"{event.author}\x00{event.timestamp!r}\x00{content_json}".encode())
        event_id = digest.hexdigest()[:32]
    return MemoryWrite(
        app_name=app_name,
        user_id=user_id,
        event_id=event_id,
        session_id=session_id,
        author=event.author or None,
        timestamp=float(event.timestamp),
        content_json=content_json,
        custom_metadata_json=metadata_json,
        search_text=indexed,
        owner_id=owner_id,
    )


def entry_write(
    entry: MemoryEntry,
    app_name: str,
    user_id: str,
    custom_metadata: Mapping[str, object] | None,
    owner_id: Any,
    now: float,
) -> MemoryWrite:
    """The row for one explicit ``MemoryEntry``; it gets a new id if it has none."""
    memory_id = entry.id if entry.id else platform_uuid.new_uuid()
    if not isinstance(memory_id, str):
        raise ValueError(f"MemoryEntry.id must be a string, got {memory_id!r}")
    metadata = {**(custom_metadata or {}), **entry.custom_metadata}
    return MemoryWrite(
        app_name=app_name,
        user_id=user_id,
        event_id=memory_id,
        session_id=None,
        author=entry.author or None,
        timestamp=parse_timestamp(entry.timestamp, now),
        content_json=positional_floats(entry.content.model_dump_json(exclude_none=True)),
        custom_metadata_json=encode_metadata(metadata),
        search_text=search_text(content_text(entry.content)),
        owner_id=owner_id,
    )


def encode_metadata(metadata: Mapping[str, object] | None) -> str | None:
    """JSON text of ``custom_metadata`` (None when empty); a value JSON cannot hold is a TypeError."""
    if not metadata:
        return None
    try:
        return positional_floats(json.dumps(dict(metadata), ensure_ascii=False, allow_nan=False, separators=(",", ":")))
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"custom_metadata must be JSON-serializable (plain dict/list/str/number/bool/None): {error}"
        ) from error


def parse_timestamp(value: str | None, default: float) -> float:
    """Epoch seconds of a ``MemoryEntry.timestamp``: ISO 8601 (naive = local time, as ADK writes it) or epoch text.

    ``None`` or an empty string gives ``default``; anything else is a ValueError.
    """
    if value is None or not value.strip():
        return default
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
        raise ValueError(f"MemoryEntry.timestamp {value!r} is not a finite time")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError as error:
        raise ValueError(f"MemoryEntry.timestamp {value!r} is neither ISO 8601 nor epoch seconds") from error


def _returning(op: Op[object], value: T) -> Op[T]:
    yield from op
    return value


def _check_scope(app_name: str, user_id: str, session_id: str | None) -> None:
    for name, value in (("app_name", app_name), ("user_id", user_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if session_id is not None and not isinstance(session_id, str):
        raise ValueError(f"session_id must be a string or None, got {session_id!r}")
    check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
