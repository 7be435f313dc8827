"""Typed rows exchanged between services, stores and dialects, and the prepared writes they pass down.

Writes (:class:`EventWrite`, :class:`MemoryWrite`, :class:`ArtifactWrite`) are
built and validated before a transaction starts; keys (:class:`ArtifactKey`)
are valid by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import quote

from google.adk.artifacts.artifact_util import validate_path_segment
from google.adk.errors.input_validation_error import InputValidationError

__all__ = [
    "CONTENT_KINDS",
    "KIND_FILE",
    "KIND_INLINE",
    "KIND_REF",
    "KIND_TEXT",
    "USER_PREFIX",
    "USER_SCOPE",
    "ArtifactKey",
    "ArtifactRecord",
    "ArtifactRow",
    "AppendResult",
    "ArtifactWrite",
    "EventRecord",
    "EventWrite",
    "Expected",
    "MemoryRecord",
    "MemoryWrite",
    "SessionPage",
    "SessionRecord",
    "SessionSnapshot",
    "scope_of",
    "validate_scope",
]


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


@dataclass(frozen=True, slots=True)
class EventWrite:
    """The stored columns of one event, prepared before the append transaction.

    ``compaction``: the event carries an ``EventCompaction`` (a summary of earlier events).
    """

    id: str
    invocation_id: str | None
    author: str | None
    timestamp: float
    event_json: str
    compaction: bool = False


@dataclass(frozen=True, slots=True)
class Expected:
    """What the caller's session object says storage holds: the revision marker (None when the object has
    none), its update time, and its newest event's id (None when it holds no events)."""

    revision: int | None
    update_time: float
    last_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """An append's outcome: the session's revision after it; for a re-delivered event (its id already
    stored, same content) nothing changed and ``stored_event_json`` is the stored event."""

    revision: int
    stored_event_json: str | None = None


@dataclass(frozen=True, slots=True)
class MemoryWrite:
    """The stored columns of one memory entry, prepared (and validated) before the write transaction."""

    app_name: str
    user_id: str
    event_id: str
    session_id: str | None
    author: str | None
    timestamp: float
    content_json: str
    custom_metadata_json: str | None
    search_text: str
    owner_id: Any = None
    #: The entry's text as an embedder reads it (its text parts, thoughts excluded); "" when it has none.
    text: str = ""
    #: The entry's unit vector, computed before the write transaction (None: no embedder, or no text).
    embedding: tuple[float, ...] | None = None


#: Filename prefix that makes an artifact user-scoped (shared by the user's sessions).
USER_PREFIX = "user:"
#: ``scope`` value of user-scoped rows; a leading ``/`` is never a valid session id.
USER_SCOPE = "/user"

#: Stored kinds: raw bytes with a mime type, a text part, a file_data link, an artifact:// reference.
KIND_INLINE = "inline"
KIND_TEXT = "text"
KIND_FILE = "file"
KIND_REF = "ref"
#: Kinds whose bytes live in fsspec storage (the others are metadata only).
CONTENT_KINDS = frozenset({KIND_INLINE, KIND_TEXT})
_KINDS = frozenset({KIND_INLINE, KIND_TEXT, KIND_FILE, KIND_REF})


def validate_scope(*, app_name: str, user_id: str, session_id: str | None) -> None:
    """Raise ADK's ``InputValidationError`` unless app, user and (given) session are safe path segments."""
    for name, value in (("app_name", app_name), ("user_id", user_id), ("session_id", session_id)):
        if value is None and name == "session_id":
            continue
        if not isinstance(value, str):
            raise InputValidationError(f"{name} must be a string, got {value!r}")
        validate_path_segment(value, name)
        _require_utf8(value, name)


def _require_utf8(value: str, name: str) -> None:
    """Refuse a lone surrogate: no driver sends one as UTF-8, so it would fail inside the transaction."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputValidationError(
                f"{name} contains a lone surrogate, which UTF-8 cannot store: {value!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class ArtifactKey:
    """Where an artifact's versions live; valid by construction.

    Build it with :meth:`resolve` from ADK's arguments. Direct construction is
    checked too: every segment passes ADK's ``validate_path_segment`` (no
    traversal, absolute path, drive letter or NUL), and ``scope`` is a user
    scope exactly when ``filename`` starts with ``user:``.

    ``scope`` is the session id, or :data:`USER_SCOPE`; for an owner-scoped
    service (``owner_id`` with an ``owner_id_column``) it is namespaced by the
    owner: ``/owner/<owner>/user`` or ``/owner/<owner>/session/<session id>``
    (the owner percent-encoded). ADK's path rule forbids ``/`` in session ids,
    so no scope can be mistaken for another, and two owners sharing app and
    user names keep their own versions of one filename, each counted from 0.
    """

    app_name: str
    user_id: str
    scope: str
    filename: str

    def __post_init__(self) -> None:
        for name in ("app_name", "user_id", "scope", "filename"):
            if not isinstance(getattr(self, name), str):
                raise InputValidationError(f"{name} must be a string, got {getattr(self, name)!r}")
        validate_path_segment(self.app_name, "app_name")
        validate_path_segment(self.user_id, "user_id")
        user_scoped = self.filename.startswith(USER_PREFIX)
        _, session = _split_scope(self.scope)
        if user_scoped != (session is None):
            raise InputValidationError(
                f"artifact scope {self.scope!r} does not match filename {self.filename!r}: "
                f"user-scoped filenames start with {USER_PREFIX!r}"
            )
        if session is not None:
            validate_path_segment(session, "session_id")
        validate_path_segment(self.bare_filename, "filename")
        for name in ("app_name", "user_id", "scope", "filename"):
            _require_utf8(getattr(self, name), name)

    @classmethod
    def resolve(
        cls, *, app_name: str, user_id: str, filename: str, session_id: str | None, owner: Any = None
    ) -> ArtifactKey:
        """The key ADK's arguments name; raises ADK's ``InputValidationError`` for a bad segment.

        User scope applies when ``filename`` starts with ``user:`` or
        ``session_id`` is None; its filename is normalized to ``user:`` + the
        bare name, so ``"x"`` saved without a session and ``"user:x"`` are one
        artifact. A given ``session_id`` is validated even for user scope.
        """
        validate_scope(app_name=app_name, user_id=user_id, session_id=session_id)
        if not isinstance(filename, str):
            raise InputValidationError(f"filename must be a string, got {filename!r}")
        if filename.startswith(USER_PREFIX) or session_id is None:
            bare = filename.removeprefix(USER_PREFIX)
            return cls(app_name, user_id, scope_of(None, owner), USER_PREFIX + bare)
        return cls(app_name, user_id, scope_of(session_id, owner), filename)

    @property
    def is_user_scoped(self) -> bool:
        return _split_scope(self.scope)[1] is None

    @property
    def session_id(self) -> str | None:
        """The session of a session-scoped key, None for user scope."""
        return _split_scope(self.scope)[1]

    @property
    def bare_filename(self) -> str:
        """The filename without the ``user:`` prefix."""
        return self.filename.removeprefix(USER_PREFIX)

    def params(self) -> tuple[str, str, str, str]:
        return (self.app_name, self.user_id, self.scope, self.filename)


@dataclass(frozen=True, slots=True)
class ArtifactWrite:
    """The columns of a new version except the version number, prepared before the transaction.

    ``custom_metadata`` is JSON text. For content kinds the bytes are already
    in storage at ``canonical_uri``; for file_data and references
    ``canonical_uri`` is the linked URI and ``size``/``checksum`` describe no bytes.
    """

    kind: str
    mime_type: str | None
    display_name: str | None
    canonical_uri: str
    custom_metadata: str
    create_time: float
    size: int
    checksum: str
    #: Written to the owner column when one is configured (None: no owner).
    owner_id: Any = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown artifact kind {self.kind!r}")


class ArtifactRow(ArtifactRecord):
    """An :class:`~sqlspec_adk.records.ArtifactRecord` plus how to rebuild the Part."""

    kind: str
    display_name: str | None


_OWNER = "/owner/"


def scope_of(session_id: str | None, owner: Any = None) -> str:
    """The stored ``scope`` of a session (None: the user scope), namespaced by ``owner`` when one is given."""
    if owner is None:
        return USER_SCOPE if session_id is None else session_id
    prefix = _OWNER + quote(str(owner), safe="")
    return f"{prefix}/user" if session_id is None else f"{prefix}/session/{session_id}"


def _split_scope(scope: str) -> tuple[str | None, str | None]:
    """(owner text or None, session id or None for a user scope) of a stored ``scope``."""
    if scope == USER_SCOPE:
        return None, None
    if scope.startswith(_OWNER):
        owner, _, rest = scope[len(_OWNER) :].partition("/")
        if rest == "user":
            return owner, None
        kind, _, session = rest.partition("/")
        if kind == "session" and session:
            return owner, session
        raise InputValidationError(f"artifact scope {scope!r} is not one this library writes")
    return None, scope
