"""Write transferred records into this library's tables, idempotently.

- A session is written whole (row, every event with its ``seq``, revision) in
  the caller's transaction, or not at all when its key is already stored: an
  import run twice changes nothing, and never overwrites a session that has
  lived on in the target.
- App and user state gain the keys they lack; keys the target already holds
  keep the target's value (it is the same, or newer).
- Memory rows are inserted unless present; a tombstone makes the entry deleted.
- Artifact versions keep their version numbers; a present version is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlspec_adk.converters import check_json_state, encode_state, positional_floats
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import ArtifactKey, EventWrite, MemoryWrite
from sqlspec_adk.tokens import EMPTY_SEARCH_TEXT, content_text, search_text
from sqlspec_adk.transfer.model import ArtifactDump, EventDump, MemoryDump, SessionDump, StateDump

__all__ = [
    "UNSET",
    "artifact_exists",
    "check_session",
    "import_artifact_row",
    "import_memory",
    "import_sessions",
    "merge_missing_state",
]

#: Marker for "keep each record's own owner id".
UNSET: Any = object()


def check_session(session: SessionDump) -> None:
    """Raise ``InvalidStateError`` when the session's state cannot be stored as JSON (nothing written yet)."""
    for key, value in session.state.items():
        check_json_state(value, key)


def import_sessions(dialect: Dialect, sessions: Sequence[SessionDump], owner_id: Any = UNSET) -> Op[list[bool]]:
    """Insert each session that is not stored yet, with all its events; returns, per session, whether it was."""
    results: list[bool] = []
    for session in sessions:
        keys = session.key
        present = yield Stmt(
            f"SELECT 1 FROM {dialect.session_table} WHERE app_name = ? AND user_id = ? AND id = ?", keys, Fetch.ONE
        )
        if present is not None:
            results.append(False)
            continue
        params: tuple[Any, ...] = keys
        if dialect.owner:
            params += (session.owner_id if owner_id is UNSET else owner_id,)
        params += (dialect.json.state(session.state), session.create_time, session.update_time)
        inserted = yield dialect.sessions.insert_skip(dialect.sessions.insert_session_sql, params)
        if not inserted:  # written concurrently between the check and the insert
            results.append(False)
            continue
        if session.events:
            rows = [dialect.sessions.event_params(keys, e.seq, _event_write(e)) for e in session.events]
            yield Stmt(dialect.sessions.insert_event_sql, rows, many=True)
        revision = session.effective_revision()
        if revision:
            yield Stmt(
                f"UPDATE {dialect.session_table} SET revision = ? WHERE app_name = ? AND user_id = ? AND id = ?",
                (revision, *keys),
            )
        results.append(True)
    return results


def _event_write(dump: EventDump) -> EventWrite:
    actions = json.loads(dump.event_json).get("actions") or {}
    return EventWrite(
        id=dump.id,
        invocation_id=dump.invocation_id,
        author=dump.author,
        timestamp=dump.timestamp,
        event_json=dump.event_json,
        compaction=bool(actions.get("compaction")),
    )


def merge_missing_state(dialect: Dialect, dumps: Sequence[StateDump], *, apply: bool = True) -> Op[int]:
    """Add each dump's keys that the stored app/user state lacks; returns how many rows changed (or would).

    With ``apply=False`` nothing is written: a read-only plan, and the count check after an import.
    """
    changed = 0
    for dump in dumps:
        scope = "app" if dump.user_id is None else "user"
        keys: tuple[str, ...] = (dump.app_name,) if dump.user_id is None else (dump.app_name, dump.user_id)
        table, columns = dialect.sessions.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        row = yield Stmt(f"SELECT {dialect.json.select('state')} FROM {table} WHERE {where}", keys, Fetch.ONE)
        stored = dialect.json.read_state(row[0]) if row else None
        missing = {key: value for key, value in dump.state.items() if stored is None or key not in stored}
        if stored is not None and not missing:
            continue
        changed += 1
        if apply:
            for key, value in missing.items():
                check_json_state(value, key)
            yield from dialect.sessions.merge_scoped_state(scope, keys, missing, dump.update_time)
    return changed


def _memory_write(dump: MemoryDump, owner_id: Any) -> MemoryWrite:
    from google.genai import types

    from sqlspec_adk.memory.rows import encode_metadata

    if dump.content is None:
        content_json, indexed = "{}", EMPTY_SEARCH_TEXT
    else:
        content = types.Content.model_validate(dump.content)
        content_json = positional_floats(content.model_dump_json(exclude_none=True))
        indexed = search_text(content_text(content))
    return MemoryWrite(
        app_name=dump.app_name,
        user_id=dump.user_id,
        event_id=dump.event_id,
        session_id=dump.session_id,
        author=dump.author,
        timestamp=dump.timestamp,
        content_json=content_json,
        custom_metadata_json=encode_metadata(dump.custom_metadata),
        search_text=indexed,
        owner_id=dump.owner_id if owner_id is UNSET else owner_id,
    )


def import_memory(dialect: Dialect, dumps: Sequence[MemoryDump], owner_id: Any = UNSET) -> Op[int]:
    """Insert memory rows that are not stored (dedup per app, user, event id); tombstones delete. Returns rows seen."""
    writes = [_memory_write(dump, owner_id) for dump in dumps]
    yield from dialect.memory.add_memory_entries(writes, replace=False)
    for dump in dumps:
        if dump.content is None:
            yield from dialect.memory.delete_memory(
                app_name=dump.app_name, user_id=dump.user_id, memory_id=dump.event_id
            )
    return len(dumps)


def artifact_exists(dialect: Dialect, dump: ArtifactDump) -> Op[bool]:
    """Whether this exact version is stored."""
    key = ArtifactKey(dump.app_name, dump.user_id, dump.scope, dump.filename)
    row = yield from dialect.artifacts.get_artifact_version(key, dump.version)
    return row is not None


def import_artifact_row(dialect: Dialect, dump: ArtifactDump, canonical_uri: str) -> Op[bool]:
    """Insert one version's row with its own version number; False when that version is already stored."""
    key = ArtifactKey(dump.app_name, dump.user_id, dump.scope, dump.filename)
    params = (
        *key.params(),
        dump.version,
        dump.kind,
        dump.mime_type,
        dump.display_name,
        canonical_uri,
        dialect.json.text(encode_state(dump.custom_metadata)),
        dump.create_time,
        dump.size,
        dump.checksum,
    )
    inserted = yield dialect.artifacts.insert_skip(dialect.artifacts.artifact_insert_sql, params)
    return bool(inserted)
