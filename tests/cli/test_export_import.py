"""``export`` / ``import``: a JSON Lines move from SQLite to each database family is lossless and idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.service import SQLSpecSessionService
from sqlspec_adk.transfer.jsonl import export_jsonl, import_jsonl
from tests.backends import ADAPTERS, require_server
from tests.cli.adk_fixtures import cli, populate, snapshot
from tests.conftest import Backend
from tests.helpers import event

#: One adapter per SQL family (the others share its dialect SQL).
FAMILY_REPRESENTATIVES = ("aiosqlite", "duckdb", "asyncpg", "psycopg_sync", "asyncmy", "spanner")
TARGETS = [spec for spec in ADAPTERS if spec.name in FAMILY_REPRESENTATIVES]


async def _fill(sessions: Any, memory: Any, artifacts: Any) -> list[tuple[str, str, str]]:
    keys = await populate(sessions)
    # NUL (JSONB cannot hold it as such) and an exponent float (JSONB would make it an int) travel too.
    first = await sessions.get_session(app_name=keys[0][0], user_id=keys[0][1], session_id=keys[0][2])
    await sessions.append_event(first, event("nul \x00 here", delta={"nul\x00key": "v\x00", "big": 1e20}))
    for app_name, user_id, session_id in keys:
        session = await sessions.get_session(app_name=app_name, user_id=user_id, session_id=session_id)
        await memory.add_session_to_memory(session)
    await memory.add_memory(
        app_name="notebook_app",
        user_id="alice",
        memories=[MemoryEntry(id="fact-1", content=types.Content(parts=[types.Part(text="Alice likes tea")]))],
        custom_metadata={"source": "manual"},
    )
    found = await memory.search_memory(app_name="notebook_app", user_id="alice", query="dentist")
    await memory.delete_memory(app_name="notebook_app", user_id="alice", memory_id=found.memories[0].id)
    part = types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG" + bytes(range(40))))
    await artifacts.save_artifact(
        app_name="notebook_app", user_id="alice", session_id="s1", filename="a.png", artifact=part
    )
    await artifacts.save_artifact(
        app_name="notebook_app", user_id="alice", session_id="s1", filename="a.png", artifact=types.Part(text="v1")
    )
    await artifacts.save_artifact(
        app_name="notebook_app",
        user_id="alice",
        filename="user:profile.txt",
        artifact=types.Part(text="hi"),
        custom_metadata={"nul\x00key": "a\x00b", "big": 1e20},
    )
    link = types.Part(file_data=types.FileData(file_uri="gs://bucket/x.pdf", mime_type="application/pdf"))
    await artifacts.save_artifact(app_name="notebook_app", user_id="bob", session_id="s2", filename="x", artifact=link)
    return keys


async def _observe(sessions: Any, memory: Any, artifacts: Any, keys: list[tuple[str, str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = {"sessions": await snapshot(sessions, keys)}
    for query in ("oat milk", "tea", "dentist", "plants"):
        found = await memory.search_memory(app_name="notebook_app", user_id="alice", query=query)
        result[f"memory:{query}"] = sorted(entry.model_dump_json() for entry in found.memories)
    for user_id, session_id in (("alice", "s1"), ("bob", "s2")):
        names = await artifacts.list_artifact_keys(app_name="notebook_app", user_id=user_id, session_id=session_id)
        result[f"keys:{user_id}"] = names
        for name in names:
            versions = await artifacts.list_versions(
                app_name="notebook_app", user_id=user_id, session_id=session_id, filename=name
            )
            loaded = [
                await artifacts.load_artifact(
                    app_name="notebook_app", user_id=user_id, session_id=session_id, filename=name, version=version
                )
                for version in versions
            ]
            result[f"artifact:{user_id}:{name}"] = (versions, [p.model_dump_json() if p else None for p in loaded])
    return result


def _records(path: Path) -> list[dict[str, Any]]:
    """The export's records without what legitimately differs between databases (time, dialect, blob names)."""
    import gzip

    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    for record in records:
        record.pop("exported_at", None)
        record.pop("dialect", None)
        if record.get("kind") in ("inline", "text"):
            record.pop("canonical_uri", None)
    return records


@pytest.mark.parametrize("spec", TARGETS, ids=[spec.name for spec in TARGETS])
async def test_move_between_backends_is_lossless_and_idempotent(spec: Any, tmp_path: Path) -> None:
    require_server(spec)
    source = Backend(next(s for s in ADAPTERS if s.name == "sqlite"), tmp_path / "source")
    (tmp_path / "source").mkdir()
    target = Backend(spec, tmp_path)
    try:
        source_config = source.config(artifact_storage_uri=(tmp_path / "source-blobs").as_uri())
        source_services = (
            await source.sessions(source_config),
            await source.memory(source_config),
            await source.artifacts(source_config, artifact_storage_uri=(tmp_path / "source-blobs").as_uri()),
        )
        keys = await _fill(*source_services)
        expected = await _observe(*source_services, keys)
        dump = tmp_path / "backup.jsonl.gz"
        counts = await export_jsonl(source_services[0].store.config, str(dump), progress=False)
        assert counts.sessions == 4 and counts.events == 16 and counts.artifacts == 4 and counts.memory > 3

        storage = (tmp_path / "target-blobs").as_uri()
        config = target.config(artifact_storage_uri=storage)
        first = await import_jsonl(config, str(dump), progress=False)
        assert first.ok and first.imported_sessions == 4 and first.imported_artifacts == 4
        second = await import_jsonl(config, str(dump), progress=False)
        assert second.ok and second.imported_sessions == 0 and second.imported_artifacts == 0

        sessions = SQLSpecSessionService(await target.session_store(config))
        memory = SQLSpecMemoryService(await target.memory_store(config))
        artifacts = SQLSpecArtifactService(await target.artifact_store(config), artifact_storage_uri=storage)
        assert await _observe(sessions, memory, artifacts, keys) == expected

        # Exporting the target again gives the same records (content locations aside).
        again = tmp_path / "again.jsonl"
        await export_jsonl(config, str(again), progress=False)
        assert _records(again) == _records(dump)

        # The deleted memory stays deleted when its session is added again; imported sessions take new events.
        session = await sessions.get_session(app_name="notebook_app", user_id="alice", session_id="s1")
        await memory.add_session_to_memory(session)
        assert await _observe(sessions, memory, artifacts, keys) == expected
        await sessions.append_event(session, event("more", delta={"x": 1}))
    finally:
        await source.close()
        await target.close()


async def test_truncated_or_foreign_files_are_refused(tmp_path: Path) -> None:
    from sqlspec_adk.adapters.sqlite import SqliteConfig

    config = SqliteConfig(connection_config={"database": str(tmp_path / "t.db")})
    try:
        foreign = tmp_path / "foreign.jsonl"
        foreign.write_text('{"type": "session"}\n')
        with pytest.raises(ConfigError, match="not a sqlspec-adk export"):
            await import_jsonl(config, str(foreign), progress=False)
        truncated = tmp_path / "truncated.jsonl"
        truncated.write_text('{"type": "header", "format": "sqlspec-adk", "format_version": 1}\n')
        with pytest.raises(ConfigError, match="truncated"):
            await import_jsonl(config, str(truncated), progress=False)
    finally:
        config.close_pool()


async def test_cli_export_import_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = f"sqlspec+sqlite:///{tmp_path / 'a.db'}"
    target = f"sqlspec+aiosqlite:///{tmp_path / 'b.db'}"
    assert await cli(["migrate", "upgrade", source]) == 0
    dump = tmp_path / "out.jsonl"
    assert await cli(["export", source, str(dump), "--include", "sessions", "--no-progress"]) == 0
    assert await cli(["import", str(dump), target, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "count check passed" in out or "0 sessions" in out
    assert await cli(["import", str(tmp_path / "nope.jsonl"), target]) == 2
    assert "no such file" in capsys.readouterr().err
