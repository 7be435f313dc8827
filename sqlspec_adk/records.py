"""Typed rows exchanged between stores and services."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["ArtifactRecord", "EventRecord", "MemoryRecord", "SessionPage", "SessionRecord", "SessionSnapshot"]


class SessionRecord(TypedDict):
    """One session row. ``state`` holds session-scoped keys only."""

    app_name: str
    user_id: str
    id: str
    state: dict[str, Any]
    create_time: float
    update_time: float
    revision: int


class EventRecord(TypedDict):
    """One stored event; ``seq`` is its append position within the session."""

    id: str
    seq: int
    timestamp: float
    event_json: Any


class SessionSnapshot(TypedDict):
    """A session as read in one consistent transaction, with scoped state."""

    session: SessionRecord
    events: list[EventRecord]
    app_state: dict[str, Any]
    user_state: dict[str, Any]


class SessionPage(TypedDict):
    """One page of list_sessions: rows with their merged-in scoped state, no events."""

    sessions: list[SessionRecord]
    app_state: dict[str, Any]
    user_states: dict[str, dict[str, Any]]
    next_cursor: str | None


class MemoryRecord(TypedDict):
    """One memory entry row."""

    id: str
    app_name: str
    user_id: str
    session_id: str | None
    event_id: str
    author: str | None
    timestamp: float
    content_json: Any
    custom_metadata: dict[str, Any]


class ArtifactRecord(TypedDict):
    """Metadata of one artifact version; the bytes live in fsspec storage."""

    app_name: str
    user_id: str
    scope: str
    filename: str
    version: int
    mime_type: str | None
    canonical_uri: str
    custom_metadata: dict[str, Any]
    create_time: float
    size: int
    checksum: str
