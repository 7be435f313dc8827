"""Read this library's own tables in pages, for export and for checks after an import.

Every read is a store operation (:mod:`sqlspec_adk.protocol`) rendered from the
config's dialect, so it runs on every adapter. Pages use keyset conditions on
the primary key (no OFFSET) and the dialect's own row-limit clause.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlspec_adk.converters import decode_event, encode_event
from sqlspec_adk.dialects.artifacts import ARTIFACT_COLUMNS
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.transfer.model import ArtifactDump, EventDump, MemoryDump, SessionDump, SessionKey, StateDump

__all__ = [
    "count_session_events",
    "event_json_text",
    "existing_sessions",
    "json_value",
    "keyset_condition",
    "page_artifacts",
    "page_memory",
    "page_sessions",
    "page_user_states",
    "read_app_states",
    "session_events",
]


def keyset_condition(columns: Sequence[str], after: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(c1, c2, ...) > (after)`` written without row values (not every family has them)."""
    clauses = []
    params: list[Any] = []
    for index, column in enumerate(columns):
        equal = [f"{previous} = ?" for previous in columns[:index]]
        clauses.append("(" + " AND ".join([*equal, f"{column} > ?"]) + ")")
        params += [*after[:index], after[index]]
    return "(" + " OR ".join(clauses) + ")", params


def _page(
    dialect: Dialect, table: str, columns: Sequence[str], key: Sequence[str], after: Sequence[Any] | None, size: int
) -> Stmt:
    sql = f"SELECT {', '.join(columns)} FROM {table}"
    params: list[Any] = []
    if after is not None:
        condition, params = keyset_condition(key, after)
        sql += f" WHERE {condition}"
    sql += f" ORDER BY {', '.join(key)} {dialect.limit_sql}"
    return Stmt(sql, (*params, size), Fetch.ALL)


def json_value(value: Any) -> Any:
    """A stored JSON column as a Python value (text, bytes, or already decoded by the driver)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    if isinstance(value, str):
        return json.loads(value)
    return value


def event_json_text(value: Any) -> str:
    """The canonical event JSON of a stored ``event_data`` value (validated through ADK's Event model)."""
    return encode_event(decode_event(value))


def page_sessions(dialect: Dialect, after: SessionKey | None, size: int) -> Op[list[SessionDump]]:
    """Up to ``size`` sessions after ``after`` in key order, without events."""
    columns = ["app_name", "user_id", "id", dialect.json.select("state"), "create_time", "update_time", "revision"]
    if dialect.owner:
        columns.append(dialect.owner.name)
    rows = yield _page(dialect, dialect.session_table, columns, ("app_name", "user_id", "id"), after, size)
    return [
        SessionDump(
            app_name=str(r[0]),
            user_id=str(r[1]),
            id=str(r[2]),
            state=dialect.json.read_state(r[3]),
            create_time=float(r[4]),
            update_time=float(r[5]),
            revision=int(r[6]),
            owner_id=r[7] if dialect.owner else None,
        )
        for r in rows
    ]


def session_events(dialect: Dialect, keys: Sequence[SessionKey]) -> Op[dict[SessionKey, list[EventDump]]]:
    """Every event of each session, in append order (one statement per session, one transaction)."""
    found: dict[SessionKey, list[EventDump]] = {}
    for key in keys:
        rows = yield Stmt(
            f"SELECT seq, id, invocation_id, author, timestamp, {dialect.json.select('event_data')} "
            f"FROM {dialect.events_table} "
            "WHERE app_name = ? AND user_id = ? AND session_id = ? ORDER BY seq",
            key,
            Fetch.ALL,
        )
        found[key] = [
            EventDump(
                id=str(r[1]),
                invocation_id=r[2],
                author=r[3],
                timestamp=float(r[4]),
                event_json=event_json_text(dialect.json.read(r[5])),
                seq=int(r[0]),
            )
            for r in rows
        ]
    return found


def existing_sessions(dialect: Dialect, keys: Sequence[SessionKey]) -> Op[set[SessionKey]]:
    """Which of ``keys`` name a stored session."""
    present: set[SessionKey] = set()
    for key in keys:
        row = yield Stmt(
            f"SELECT 1 FROM {dialect.session_table} WHERE app_name = ? AND user_id = ? AND id = ?", key, Fetch.ONE
        )
        if row is not None:
            present.add(key)
    return present


def count_session_events(dialect: Dialect, keys: Sequence[SessionKey]) -> Op[dict[SessionKey, int]]:
    """Stored event count of each present session among ``keys`` (absent sessions are left out)."""
    counts: dict[SessionKey, int] = {}
    present = yield from existing_sessions(dialect, keys)
    for key in keys:
        if key not in present:
            continue
        row = yield Stmt(
            f"SELECT COUNT(*) FROM {dialect.events_table} WHERE app_name = ? AND user_id = ? AND session_id = ?",
            key,
            Fetch.ONE,
        )
        counts[key] = int(row[0])
    return counts


def read_app_states(dialect: Dialect) -> Op[list[StateDump]]:
    """Every app state row."""
    rows = yield Stmt(
        f"SELECT app_name, {dialect.json.select('state')}, update_time FROM {dialect.app_state_table} "
        "ORDER BY app_name",
        (),
        Fetch.ALL,
    )
    return [
        StateDump(app_name=str(r[0]), user_id=None, state=dialect.json.read_state(r[1]), update_time=float(r[2]))
        for r in rows
    ]


def page_user_states(dialect: Dialect, after: tuple[str, str] | None, size: int) -> Op[list[StateDump]]:
    """Up to ``size`` user state rows after ``after`` in key order."""
    columns = ("app_name", "user_id", dialect.json.select("state"), "update_time")
    rows = yield _page(dialect, dialect.user_state_table, columns, ("app_name", "user_id"), after, size)
    return [
        StateDump(app_name=str(r[0]), user_id=str(r[1]), state=dialect.json.read_state(r[2]), update_time=float(r[3]))
        for r in rows
    ]


def page_memory(dialect: Dialect, after: tuple[str, str, str] | None, size: int) -> Op[list[MemoryDump]]:
    """Up to ``size`` memory rows (tombstones included) after ``after`` in (app, user, event id) order."""
    columns = [
        "app_name",
        "user_id",
        "event_id",
        "session_id",
        "author",
        "timestamp",
        dialect.json.select("content_json"),
        dialect.json.select("custom_metadata"),
    ]
    if dialect.owner:
        columns.append(dialect.owner.name)
    rows = yield _page(dialect, dialect.memory_table, columns, ("app_name", "user_id", "event_id"), after, size)
    return [
        MemoryDump(
            app_name=str(r[0]),
            user_id=str(r[1]),
            event_id=str(r[2]),
            session_id=r[3],
            author=r[4],
            timestamp=float(r[5]),
            content=json_value(dialect.json.read(r[6])),
            custom_metadata=dialect.json.read_state(r[7]),
            owner_id=r[8] if dialect.owner else None,
        )
        for r in rows
    ]


_ARTIFACT_KEY = ("app_name", "user_id", "scope", "filename", "version")


def page_artifacts(dialect: Dialect, after: tuple[str, str, str, str, int] | None, size: int) -> Op[list[ArtifactDump]]:
    """Up to ``size`` artifact version rows (metadata only) after ``after`` in key order."""
    columns = [dialect.json.select(c) if c == "custom_metadata" else c for c in ARTIFACT_COLUMNS]
    rows = yield _page(dialect, dialect.artifact_table, columns, _ARTIFACT_KEY, after, size)
    return [
        ArtifactDump(
            app_name=str(r[0]),
            user_id=str(r[1]),
            scope=str(r[2]),
            filename=str(r[3]),
            version=int(r[4]),
            kind=str(r[5]),
            mime_type=r[6],
            display_name=r[7],
            canonical_uri=str(r[8]),
            custom_metadata=dialect.json.read_state(r[9]),
            create_time=float(r[10]),
            size=int(r[11]),
            checksum=str(r[12]),
        )
        for r in rows
    ]
