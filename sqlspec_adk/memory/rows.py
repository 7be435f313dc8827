"""ADK objects as memory rows: events and explicit entries become :class:`~sqlspec_adk.records.MemoryWrite`.

Everything is validated and prepared here, before any transaction: the
searchable text (:mod:`sqlspec_adk.tokens`), the lossless content JSON, the
metadata JSON and the timestamp.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from google.adk.platform import uuid as platform_uuid

from sqlspec_adk.converters import check_key_text, positional_floats
from sqlspec_adk.records import MemoryWrite
from sqlspec_adk.tokens import content_text, search_text

if TYPE_CHECKING:
    from google.adk.events.event import Event
    from google.adk.memory.memory_entry import MemoryEntry

__all__ = ["check_scope", "encode_metadata", "entry_write", "event_write", "parse_timestamp"]


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
    text = content_text(event.content)
    indexed = search_text(text)
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
        text=text,
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
    text = content_text(entry.content)
    return MemoryWrite(
        app_name=app_name,
        user_id=user_id,
        event_id=memory_id,
        session_id=None,
        author=entry.author or None,
        timestamp=parse_timestamp(entry.timestamp, now),
        content_json=positional_floats(entry.content.model_dump_json(exclude_none=True)),
        custom_metadata_json=encode_metadata(metadata),
        search_text=search_text(text),
        owner_id=owner_id,
        text=text,
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


def check_scope(app_name: str, user_id: str, session_id: str | None) -> None:
    """ValueError unless app and user are non-empty strings and the session (if any) a string, all storable."""
    for name, value in (("app_name", app_name), ("user_id", user_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if session_id is not None and not isinstance(session_id, str):
        raise ValueError(f"session_id must be a string or None, got {session_id!r}")
    check_key_text(app_name=app_name, user_id=user_id, session_id=session_id)
