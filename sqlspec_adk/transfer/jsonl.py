"""``sqlspec-adk export`` / ``import``: JSON Lines backups and moves between backends.

File format (one JSON object per line, UTF-8; ``.gz`` paths are gzip):

- ``{"type": "header", "format": "sqlspec-adk", "format_version": 1, ...}``
- ``{"type": "app_state", "app_name", "state", "update_time"}``
- ``{"type": "user_state", "app_name", "user_id", "state", "update_time"}``
- ``{"type": "session", "app_name", "user_id", "id", "state", "create_time", "update_time",
  "revision", "events": [{"seq", "event": <Event JSON>}, ...]}`` (``owner_id`` when configured)
- ``{"type": "memory", "app_name", "user_id", "event_id", "session_id", "author", "timestamp",
  "content": <Content JSON> or null for a deleted entry, "custom_metadata"}``
- ``{"type": "artifact", <version metadata>, "data": <base64 content> or null}``
- ``{"type": "end", "counts": {...}}``: a file without it is truncated and refused.

Import is idempotent (see :mod:`sqlspec_adk.transfer.writer`): run twice, it
changes nothing. Event JSON, floats and bytes survive exactly; artifact
versions keep their numbers and get their content written to the target's
storage.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlspec_adk import __version__
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import upgrade
from sqlspec_adk.operations.database import run_op
from sqlspec_adk.operations.progress import Progress
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import CONTENT_KINDS, ArtifactKey
from sqlspec_adk.transfer.model import ArtifactDump, EventDump, MemoryDump, SessionDump, SessionKey, StateDump
from sqlspec_adk.transfer.reader import (
    count_session_events,
    page_artifacts,
    page_memory,
    page_sessions,
    page_user_states,
    read_app_states,
    session_events,
)
from sqlspec_adk.transfer.writer import (
    UNSET,
    artifact_exists,
    import_artifact_row,
    import_memory,
    import_sessions,
    merge_missing_state,
)

__all__ = ["FORMAT_VERSION", "PARTS", "TransferCounts", "export_jsonl", "import_jsonl"]

FORMAT_VERSION = 1
PARTS = ("sessions", "memory", "artifacts")
_PAGE = 200


@dataclass(slots=True)
class TransferCounts:
    """Records written (export) or read and imported (import)."""

    app_states: int = 0
    user_states: int = 0
    sessions: int = 0
    events: int = 0
    memory: int = 0
    artifacts: int = 0
    imported_sessions: int = 0
    imported_artifacts: int = 0
    checked: dict[str, tuple[int, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "app_states": self.app_states,
            "user_states": self.user_states,
            "sessions": self.sessions,
            "events": self.events,
            "memory": self.memory,
            "artifacts": self.artifacts,
        }

    @property
    def ok(self) -> bool:
        """Whether every count check matched (file count == count found in the target)."""
        return all(expected == found for expected, found in self.checked.values())

    def render(self) -> str:
        lines = [", ".join(f"{value} {name.replace('_', ' ')}" for name, value in self.as_dict().items())]
        if self.checked:
            lines.append("count check        in file   in target")
            for name, (expected, found) in self.checked.items():
                lines.append(f"  {name:<12} {expected:>9} {found:>11}  {'ok' if expected == found else 'DIFFERS'}")
            lines.append("count check passed" if self.ok else "count check FAILED")
        return "\n".join(lines)


@contextmanager
def _open(path: str, mode: str) -> Iterator[IO[str]]:
    if path == "-":
        stream = sys.stdout if mode == "w" else sys.stdin
        yield stream
        stream.flush() if mode == "w" else None
        return
    target = Path(path)
    if target.suffix == ".gz":
        with gzip.open(target, mode + "t", encoding="utf-8", newline="\n") as handle:
            yield handle  # type: ignore[misc]
    else:
        with target.open(mode, encoding="utf-8", newline="\n") as handle:
            yield handle


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def _storage(config: DatabaseConfig, *, required: bool) -> Any:
    from sqlspec_adk.adk_integration import default_artifact_location
    from sqlspec_adk.artifact.storage import ArtifactStorage

    location = config.adk.artifact_storage_uri or default_artifact_location(config)
    if location is None:
        if required:
            raise ConfigError(
                "artifact content needs a location: "
                "add ?artifact_storage_uri=... (file://, s3://, gs://, ...) to the URI"
            )
        return None
    return ArtifactStorage(location, config.adk.artifact_storage_options)


def _parts(config: DatabaseConfig, include: Sequence[str] | None) -> list[str]:
    wanted = list(include) if include else list(PARTS)
    unknown = sorted(set(wanted) - set(PARTS))
    if unknown:
        raise ConfigError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    enabled = {
        "sessions": config.adk.enable_sessions,
        "memory": config.adk.enable_memory,
        "artifacts": config.adk.enable_artifacts,
    }
    return [part for part in PARTS if part in wanted and enabled[part]]


# --------------------------------------------------------------------- export
async def export_jsonl(
    config: DatabaseConfig, path: str, *, include: Sequence[str] | None = None, progress: bool = True
) -> TransferCounts:
    """Write every selected part of ``config``'s tables to ``path`` (``-`` for stdout)."""
    dialect = config.dialect
    parts = _parts(config, include)
    counts = TransferCounts()
    storage = _storage(config, required=False) if "artifacts" in parts else None
    tables = {"sessions": dialect.session_table, "memory": dialect.memory_table, "artifacts": dialect.artifact_table}
    total = 0
    for part in parts:
        total += await run_op(config, partial(dialect.count_rows, tables[part]), write=False)
    with _open(path, "w") as out, Progress("export", total, enabled=progress and path != "-") as bar:
        out.write(
            _line(
                {
                    "type": "header",
                    "format": "sqlspec-adk",
                    "format_version": FORMAT_VERSION,
                    "library_version": __version__,
                    "exported_at": time.time(),
                    "dialect": dialect.sqlglot_name,
                    "parts": parts,
                }
            )
        )
        if "sessions" in parts:
            for app_state in await run_op(config, partial(read_app_states, dialect), write=False):
                out.write(_line(_state_record(app_state)))
                counts.app_states += 1
            after_user: tuple[str, str] | None = None
            while True:
                states = await run_op(config, partial(page_user_states, dialect, after_user, _PAGE), write=False)
                for user_state in states:
                    out.write(_line(_state_record(user_state)))
                    counts.user_states += 1
                if len(states) < _PAGE:
                    break
                after_user = (states[-1].app_name, states[-1].user_id or "")
            after: SessionKey | None = None
            while True:
                sessions = await run_op(config, partial(page_sessions, dialect, after, _PAGE), write=False)
                events = await run_op(config, partial(session_events, dialect, [s.key for s in sessions]), write=False)
                for session in sessions:
                    session.events = events.get(session.key, [])
                    out.write(_line(_session_record(session, with_owner=dialect.owner is not None)))
                    counts.sessions += 1
                    counts.events += len(session.events)
                bar.advance(len(sessions))
                if len(sessions) < _PAGE:
                    break
                after = sessions[-1].key
        if "memory" in parts:
            after_memory: tuple[str, str, str] | None = None
            while True:
                rows = await run_op(config, partial(page_memory, dialect, after_memory, _PAGE), write=False)
                for memory in rows:
                    out.write(_line(_memory_record(memory, with_owner=dialect.owner is not None)))
                    counts.memory += 1
                bar.advance(len(rows))
                if len(rows) < _PAGE:
                    break
                after_memory = (rows[-1].app_name, rows[-1].user_id, rows[-1].event_id)
        if "artifacts" in parts:
            after_artifact: tuple[str, str, str, str, int] | None = None
            while True:
                artifacts = await run_op(config, partial(page_artifacts, dialect, after_artifact, _PAGE), write=False)
                for artifact in artifacts:
                    if artifact.kind in CONTENT_KINDS:
                        if storage is None:
                            storage = _storage(config, required=True)
                        artifact.data = storage.read_verified(
                            artifact.canonical_uri, size=artifact.size, checksum=artifact.checksum
                        )
                    out.write(_line(_artifact_record(artifact)))
                    counts.artifacts += 1
                bar.advance(len(artifacts))
                if len(artifacts) < _PAGE:
                    break
                last = artifacts[-1]
                after_artifact = (last.app_name, last.user_id, last.scope, last.filename, last.version)
        out.write(_line({"type": "end", "counts": counts.as_dict()}))
    return counts


def _state_record(dump: StateDump) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "app_state" if dump.user_id is None else "user_state", "app_name": dump.app_name}
    if dump.user_id is not None:
        record["user_id"] = dump.user_id
    record.update(state=dump.state, update_time=dump.update_time)
    return record


def _session_record(session: SessionDump, *, with_owner: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "session",
        "app_name": session.app_name,
        "user_id": session.user_id,
        "id": session.id,
        "state": session.state,
        "create_time": session.create_time,
        "update_time": session.update_time,
        "revision": session.effective_revision(),
        "events": [{"seq": event.seq, "event": json.loads(event.event_json)} for event in session.events],
    }
    if with_owner:
        record["owner_id"] = session.owner_id
    return record


def _memory_record(memory: MemoryDump, *, with_owner: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "memory",
        "app_name": memory.app_name,
        "user_id": memory.user_id,
        "event_id": memory.event_id,
        "session_id": memory.session_id,
        "author": memory.author,
        "timestamp": memory.timestamp,
        "content": memory.content,
        "custom_metadata": memory.custom_metadata,
    }
    if with_owner:
        record["owner_id"] = memory.owner_id
    return record


def _artifact_record(artifact: ArtifactDump) -> dict[str, Any]:
    return {
        "type": "artifact",
        "app_name": artifact.app_name,
        "user_id": artifact.user_id,
        "scope": artifact.scope,
        "filename": artifact.filename,
        "version": artifact.version,
        "kind": artifact.kind,
        "mime_type": artifact.mime_type,
        "display_name": artifact.display_name,
        "canonical_uri": artifact.canonical_uri,
        "custom_metadata": artifact.custom_metadata,
        "create_time": artifact.create_time,
        "size": artifact.size,
        "checksum": artifact.checksum,
        "data": None if artifact.data is None else base64.b64encode(artifact.data).decode("ascii"),
    }


# --------------------------------------------------------------------- import
def _read_records(handle: IO[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"{source}:{number}: not JSON ({error})") from error
        if not isinstance(record, dict) or "type" not in record:
            raise ConfigError(f"{source}:{number}: expected an object with a 'type'")
        yield number, record


def _session_dump(record: dict[str, Any]) -> SessionDump:
    events = [
        EventDump(
            id=str(item["event"]["id"]),
            invocation_id=item["event"].get("invocation_id"),
            author=item["event"].get("author"),
            timestamp=float(item["event"]["timestamp"]),
            event_json=json.dumps(item["event"], ensure_ascii=False, separators=(",", ":")),
            seq=int(item["seq"]),
        )
        for item in record.get("events", [])
    ]
    return SessionDump(
        app_name=record["app_name"],
        user_id=record["user_id"],
        id=record["id"],
        state=dict(record.get("state") or {}),
        create_time=float(record["create_time"]),
        update_time=float(record["update_time"]),
        events=events,
        revision=int(record.get("revision") or 0),
        owner_id=record.get("owner_id"),
    )


def _memory_dump(record: dict[str, Any]) -> MemoryDump:
    return MemoryDump(
        app_name=record["app_name"],
        user_id=record["user_id"],
        event_id=record["event_id"],
        session_id=record.get("session_id"),
        author=record.get("author"),
        timestamp=float(record["timestamp"]),
        content=record.get("content"),
        custom_metadata=dict(record.get("custom_metadata") or {}),
        owner_id=record.get("owner_id"),
    )


def _artifact_dump(record: dict[str, Any]) -> ArtifactDump:
    data = record.get("data")
    return ArtifactDump(
        app_name=record["app_name"],
        user_id=record["user_id"],
        scope=record["scope"],
        filename=record["filename"],
        version=int(record["version"]),
        kind=record["kind"],
        mime_type=record.get("mime_type"),
        display_name=record.get("display_name"),
        canonical_uri=record["canonical_uri"],
        custom_metadata=dict(record.get("custom_metadata") or {}),
        create_time=float(record["create_time"]),
        size=int(record["size"]),
        checksum=record["checksum"],
        data=None if data is None else base64.b64decode(data),
    )


def _memory_present(dialect: Any, keys: Sequence[tuple[str, str, str]]) -> Op[int]:
    found = 0
    for key in keys:
        row = yield Stmt(
            f"SELECT 1 FROM {dialect.memory_table} WHERE app_name = ? AND user_id = ? AND event_id = ?", key, Fetch.ONE
        )
        found += row is not None
    return found


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Importer:
    """Buffers records of one kind and writes them in batches, one transaction per batch."""

    def __init__(self, config: DatabaseConfig, owner_id: Any, counts: TransferCounts) -> None:
        self.config = config
        self.dialect = config.dialect
        self.owner_id = owner_id
        self.counts = counts
        self.sessions: list[SessionDump] = []
        self.states: list[StateDump] = []
        self.memory: list[MemoryDump] = []
        self.session_events: dict[SessionKey, int] = {}
        self.state_dumps: list[StateDump] = []
        self.memory_keys: list[tuple[str, str, str]] = []
        self.artifact_keys: list[ArtifactDump] = []
        self._storage: Any = None

    async def add(self, kind: str, record: dict[str, Any]) -> None:
        if kind in ("app_state", "user_state"):
            dump = StateDump(
                app_name=record["app_name"],
                user_id=record.get("user_id") if kind == "user_state" else None,
                state=dict(record.get("state") or {}),
                update_time=float(record["update_time"]),
            )
            self.states.append(dump)
            self.state_dumps.append(dump)
            if kind == "app_state":
                self.counts.app_states += 1
            else:
                self.counts.user_states += 1
            if len(self.states) >= _PAGE:
                await self.flush_states()
        elif kind == "session":
            session = _session_dump(record)
            self.sessions.append(session)
            self.session_events[session.key] = len(session.events)
            self.counts.sessions += 1
            self.counts.events += len(session.events)
            if len(self.sessions) >= 50:
                await self.flush_sessions()
        elif kind == "memory":
            memory = _memory_dump(record)
            self.memory.append(memory)
            self.memory_keys.append((memory.app_name, memory.user_id, memory.event_id))
            self.counts.memory += 1
            if len(self.memory) >= _PAGE:
                await self.flush_memory()
        elif kind == "artifact":
            await self.add_artifact(_artifact_dump(record))

    async def flush_states(self) -> None:
        if self.states:
            await run_op(self.config, partial(merge_missing_state, self.dialect, self.states), write=True)
            self.states = []

    async def flush_sessions(self) -> None:
        if self.sessions:
            flags = await run_op(
                self.config, partial(import_sessions, self.dialect, self.sessions, self.owner_id), write=True
            )
            self.counts.imported_sessions += sum(flags)
            self.sessions = []

    async def flush_memory(self) -> None:
        if self.memory:
            await run_op(self.config, partial(import_memory, self.dialect, self.memory, self.owner_id), write=True)
            self.memory = []

    async def add_artifact(self, artifact: ArtifactDump) -> None:
        self.counts.artifacts += 1
        self.artifact_keys.append(artifact)
        if await run_op(self.config, partial(artifact_exists, self.dialect, artifact), write=False):
            return
        uri = artifact.canonical_uri
        location = None
        if artifact.kind in CONTENT_KINDS:
            from sqlspec_adk.artifact.storage import sha256_hex

            data = artifact.data or b""
            if len(data) != artifact.size or sha256_hex(data) != artifact.checksum:
                raise ConfigError(
                    f"artifact {artifact.filename!r} version {artifact.version}: content in the file does not match "
                    "its recorded size and sha256"
                )
            if self._storage is None:
                self._storage = _storage(self.config, required=True)
            location = self._storage.new_location(
                ArtifactKey(artifact.app_name, artifact.user_id, artifact.scope, artifact.filename)
            )
            self._storage.write(location, data)
            uri = location.uri
        inserted = await run_op(self.config, partial(import_artifact_row, self.dialect, artifact, uri), write=True)
        if inserted:
            self.counts.imported_artifacts += 1
        elif location is not None:
            self._storage.delete(location.uri)

    async def finish(self) -> None:
        await self.flush_states()
        await self.flush_sessions()
        await self.flush_memory()

    async def count_check(self) -> None:
        sessions_found = events_found = 0
        keys = list(self.session_events)
        for batch in _chunks(keys, 500):
            found = await run_op(self.config, partial(count_session_events, self.dialect, batch), write=False)
            sessions_found += len(found)
            events_found += sum(found.values())
        self.counts.checked["sessions"] = (len(keys), sessions_found)
        self.counts.checked["events"] = (sum(self.session_events.values()), events_found)
        if self.state_dumps:
            missing = await run_op(
                self.config, partial(merge_missing_state, self.dialect, self.state_dumps, apply=False), write=False
            )
            self.counts.checked["app/user states"] = (len(self.state_dumps), len(self.state_dumps) - missing)
        if self.memory_keys:
            found_memory = 0
            for batch in _chunks(self.memory_keys, 500):
                found_memory += await run_op(self.config, partial(_memory_present, self.dialect, batch), write=False)
            self.counts.checked["memory"] = (len(self.memory_keys), found_memory)
        if self.artifact_keys:
            found_artifacts = 0
            for artifact in self.artifact_keys:
                found_artifacts += await run_op(
                    self.config, partial(artifact_exists, self.dialect, artifact), write=False
                )
            self.counts.checked["artifacts"] = (len(self.artifact_keys), found_artifacts)


async def import_jsonl(
    config: DatabaseConfig, path: str, *, owner_id: Any = UNSET, progress: bool = True
) -> TransferCounts:
    """Load a file written by :func:`export_jsonl` into ``config``'s tables (idempotent), then count-check.

    Raises ``ConfigError`` for a file that is not an export, is truncated (no
    ``end`` record) or whose counts disagree with its ``end`` record.
    """
    await upgrade(config)
    counts = TransferCounts()
    importer = _Importer(config, owner_id, counts)
    size = await asyncio.to_thread(lambda: Path(path).stat().st_size) if path != "-" else 0
    ended: dict[str, Any] | None = None
    with _open(path, "r") as handle, Progress("import", size, enabled=progress and size > 0) as bar:
        raw = (
            handle.buffer
            if isinstance(handle, io.TextIOWrapper) and path not in ("-",) and not path.endswith(".gz")
            else None
        )
        for number, record in _read_records(handle, path):
            kind = record["type"]
            if number == 1:
                if kind != "header" or record.get("format") != "sqlspec-adk":
                    raise ConfigError(f"{path} is not a sqlspec-adk export (no header line)")
                if int(record.get("format_version", 0)) > FORMAT_VERSION:
                    raise ConfigError(
                        f"{path} has format version {record['format_version']}; this sqlspec-adk reads up to "
                        f"{FORMAT_VERSION}: upgrade sqlspec-adk"
                    )
                continue
            if ended is not None:
                raise ConfigError(f"{path}:{number}: records after the end record")
            if kind == "end":
                ended = dict(record.get("counts") or {})
                continue
            if kind not in ("app_state", "user_state", "session", "memory", "artifact"):
                raise ConfigError(f"{path}:{number}: unknown record type {kind!r}")
            await importer.add(kind, record)
            if raw is not None and size:
                bar.done = min(raw.tell(), size)
                bar.advance(0)
        bar.done = size
    await importer.finish()
    if ended is None:
        raise ConfigError(f"{path} is truncated: it has no end record (what was read so far has been imported)")
    expected = {key: int(value) for key, value in ended.items()}
    seen = counts.as_dict()
    wrong = {key: (expected[key], seen.get(key, 0)) for key in expected if expected[key] != seen.get(key, 0)}
    if wrong:
        details = ", ".join(f"{key}: end record says {a}, file holds {b}" for key, (a, b) in wrong.items())
        raise ConfigError(f"{path} is inconsistent ({details})")
    await importer.count_check()
    return counts
