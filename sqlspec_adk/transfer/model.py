"""Plain records that carry sessions, state, memory and artifacts between databases and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ArtifactDump", "EventDump", "MemoryDump", "SessionDump", "SessionKey", "StateDump"]

SessionKey = tuple[str, str, str]


@dataclass(slots=True)
class EventDump:
    """One stored event: ``event_json`` is the lossless Event JSON, ``seq`` its append position (from 1)."""

    id: str
    invocation_id: str | None
    author: str | None
    timestamp: float
    event_json: str
    seq: int


@dataclass(slots=True)
class SessionDump:
    """One session with its session-scoped state (no ``app:``/``user:``/``temp:`` keys) and events in order.

    ``revision`` defaults to the highest ``seq``, so the next append continues the sequence.
    """

    app_name: str
    user_id: str
    id: str
    state: dict[str, Any]
    create_time: float
    update_time: float
    events: list[EventDump] = field(default_factory=list)
    revision: int | None = None
    owner_id: Any = None

    @property
    def key(self) -> SessionKey:
        return (self.app_name, self.user_id, self.id)

    def effective_revision(self) -> int:
        highest = max((event.seq for event in self.events), default=0)
        return max(highest, self.revision or 0)


@dataclass(slots=True)
class StateDump:
    """App state (``user_id`` None) or user state, keys unprefixed."""

    app_name: str
    user_id: str | None
    state: dict[str, Any]
    update_time: float


@dataclass(slots=True)
class MemoryDump:
    """One memory row; ``content`` None marks a tombstone (a deleted entry that must stay deleted)."""

    app_name: str
    user_id: str
    event_id: str
    session_id: str | None
    author: str | None
    timestamp: float
    content: dict[str, Any] | None
    custom_metadata: dict[str, Any]
    owner_id: Any = None


@dataclass(slots=True)
class ArtifactDump:
    """One artifact version's metadata; ``data`` holds the content bytes of content kinds (inline, text)."""

    app_name: str
    user_id: str
    scope: str
    filename: str
    version: int
    kind: str
    mime_type: str | None
    display_name: str | None
    canonical_uri: str
    custom_metadata: dict[str, Any]
    create_time: float
    size: int
    checksum: str
    data: bytes | None = None
