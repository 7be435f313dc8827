"""``prune`` (retention, dry run first) and ``doctor`` (findings a user can act on)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.adk_integration import URIArtifactService, URIMemoryService, URISessionService
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import LATEST_VERSION
from sqlspec_adk.operations.database import close_config
from sqlspec_adk.operations.prune import parse_age
from tests.cli.adk_fixtures import cli
from tests.helpers import event

DAY = 86400.0


async def _aged_data(uri: str) -> None:
    """Two sessions (one idle for 100 days), events of many ages, old and new memory, two artifact versions."""
    now = time.time()
    sessions = URISessionService(uri)
    idle = await sessions.create_session(app_name="app", user_id="u", session_id="idle")
    for age in (120, 100):
        await sessions.append_event(idle, event(f"old {age}", timestamp=now - age * DAY))
    live = await sessions.create_session(app_name="app", user_id="u", session_id="live")
    for age in (40, 35, 1):
        await sessions.append_event(live, event(f"age {age}", timestamp=now - age * DAY))
    other = await sessions.create_session(app_name="other", user_id="u", session_id="x")
    await sessions.append_event(other, event("other app", timestamp=now - 50 * DAY))
    memory = URIMemoryService(uri)
    await memory.add_memory(
        app_name="app",
        user_id="u",
        memories=[
            MemoryEntry(
                id="old", content=types.Content(parts=[types.Part(text="old fact")]), timestamp=str(now - 400 * DAY)
            ),
            MemoryEntry(id="new", content=types.Content(parts=[types.Part(text="new fact")])),
        ],
    )
    artifacts = URIArtifactService(uri)
    for text in ("v0", "v1"):
        await artifacts.save_artifact(
            app_name="app", user_id="u", session_id="live", filename="f.txt", artifact=types.Part(text=text)
        )
    for service in (sessions, memory, artifacts):
        await close_config(service.config)


def _count(database: Path, table: str) -> int:
    return int(sqlite3.connect(database).execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_prune_dry_run_counts_then_deletes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "p.db"
    uri = f"sqlspec+aiosqlite:///{database}"
    await _aged_data(uri)
    rules = ["--sessions-idle", "90d", "--events-older-than", "30d", "--memory-older-than", "365d"]
    assert await cli(["prune", uri, *rules, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 1 idle session(s)" in out
    assert "would delete 2 event(s) of those sessions" in out
    assert "would delete 3 old event(s)" in out  # 40d, 35d and the other app's 50d; not the idle session's
    assert "would delete 1 memory entr(y/ies)" in out
    assert _count(database, "adk_session") == 3 and _count(database, "adk_event") == 6

    assert await cli(["prune", uri, *rules]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 idle session(s)" in out and "deleted 3 old event(s)" in out
    assert _count(database, "adk_session") == 2 and _count(database, "adk_event") == 1
    assert _count(database, "adk_memory") == 1

    # Artifacts: rows and content go together; --app limits the rule.
    blobs = lambda: [p for p in (tmp_path / "p.artifacts").rglob("*") if p.is_file()]  # noqa: E731
    assert len(blobs()) == 2
    assert await cli(["prune", uri, "--artifacts-older-than", "0s", "--app", "elsewhere"]) == 0
    assert "deleted 0 artifact version(s)" in capsys.readouterr().out
    assert await cli(["prune", uri, "--artifacts-older-than", "0s"]) == 0
    assert "deleted 2 artifact version(s)" in capsys.readouterr().out
    assert blobs() == [] and _count(database, "adk_artifact") == 0


async def test_prune_takes_its_default_ages_from_the_retention_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """retention_*_days in the URI are prune's ages where no flag is given; a flag overrides its rule only."""
    database = tmp_path / "r.db"
    uri = f"sqlspec+aiosqlite:///{database}"
    await _aged_data(uri)
    configured = f"{uri}?retention_idle_sessions_days=90&retention_memory_days=365&retention_events_days=45"
    assert await cli(["prune", configured, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 1 idle session(s)" in out
    assert "would delete 1 old event(s)" in out  # the other app's 50d; 40d and 35d are younger than 45 days
    assert "would delete 1 memory entr(y/ies)" in out
    assert "artifact" not in out  # no retention_artifacts_days, no flag: the rule is off
    assert await cli(["prune", configured, "--events-older-than", "30d", "--dry-run"]) == 0
    assert "would delete 3 old event(s)" in capsys.readouterr().out
    assert _count(database, "adk_session") == 3 and _count(database, "adk_event") == 6  # dry runs only
    assert await cli(["prune", f"{uri}?retention_events_days=0"]) == 2
    assert "retention_events_days" in capsys.readouterr().err and _count(database, "adk_event") == 6


async def test_prune_needs_a_rule_and_valid_ages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlspec+sqlite:///{tmp_path / 'x.db'}"
    assert await cli(["prune", uri]) == 2
    assert "say what to prune" in capsys.readouterr().err
    assert await cli(["prune", uri, "--events-older-than", "soon"]) == 2
    assert "90s, 15m, 12h, 30d or 2w" in capsys.readouterr().err
    assert parse_age("2w") == 14 * DAY and parse_age("12h") == 12 * 3600 and parse_age("3") == 3 * DAY
    with pytest.raises(ConfigError):
        parse_age("-1d")


async def test_doctor_healthy_missing_schema_and_broken_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "d.db"
    uri = f"sqlspec+sqlite:///{database}"
    assert await cli(["doctor", uri]) == 1
    out = capsys.readouterr().out
    assert "no sqlspec-adk schema here" in out and "sqlspec-adk migrate upgrade" in out

    await _aged_data(uri)
    assert await cli(["doctor", uri]) == 0
    out = capsys.readouterr().out
    for expected in (
        f"schema: version {LATEST_VERSION} (latest",
        "table adk_event: 6 row(s)",
        "memory search: full-text search available and working",
        "consistency: session revisions and events agree",
        "newest versions' content is present",
        "no problems found",
    ):
        assert expected in out, out

    connection = sqlite3.connect(database)
    connection.execute("UPDATE adk_session SET revision = 0 WHERE id = 'live'")
    connection.execute(
        "INSERT INTO adk_event SELECT app_name, user_id, 'gone', seq, id, invocation_id, author, "
        "timestamp, event_data, compaction FROM adk_event WHERE session_id = 'x'"
    )
    connection.commit()
    connection.close()
    for blob in (tmp_path / "d.artifacts").rglob("*"):
        if blob.is_file():
            blob.unlink()
    assert await cli(["doctor", uri]) == 1
    out = capsys.readouterr().out
    assert "1 session(s) have a revision below their newest event's seq" in out
    assert "1 event(s) belong to no session" in out
    assert "have no content under" in out


async def test_doctor_reports_configuration_and_connection_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(["doctor", "sqlspec+sqlite:///x.db?memory_table=1bad"]) == 1
    assert "memory_table" in capsys.readouterr().out
    assert await cli(["doctor", "sqlspec+asyncpg://nobody@127.0.0.1:1/none"]) == 1
    out = capsys.readouterr().out
    assert "cannot connect" in out and "server running" in out
