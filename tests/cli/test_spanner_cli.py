"""``sqlspec-adk migrate``, ``doctor``, ``prune``, ``export`` and ``import`` on a ``sqlspec+spanner:///projects/...``
URI, against the test session's Spanner emulator (tests/spanner_emulator.py). The ``api_server`` round trip on
Spanner is in test_adk_server.py; the lossless move between backends in test_export_import.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import spanner

from sqlspec_adk.migrations import LATEST_VERSION
from tests import spanner_emulator
from tests.cli.adk_fixtures import cli
from tests.cli.test_prune_doctor import _aged_data


@pytest.fixture
def uri(spanner_emulator_running: Any, tmp_path: Path) -> Iterator[str]:
    storage = (tmp_path / "artifacts").as_uri()
    yield f"{spanner_emulator.uri(tmp_path)}?artifact_storage_uri={storage}"
    spanner_emulator.discard(tmp_path)


def count(tmp_path: Path, table: str) -> int:
    found = spanner_emulator.connection(tmp_path)
    database = spanner.Client(project=found["project"]).instance(found["instance_id"]).database(found["database_id"])
    with database.snapshot() as snapshot:
        return int(next(iter(snapshot.execute_sql(f"SELECT COUNT(*) FROM {table}")))[0])


async def test_migrate_current_upgrade_current(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(["migrate", "current", uri]) == 0
    assert "schema version 0" in capsys.readouterr().out
    assert await cli(["migrate", "upgrade", uri]) == 0
    assert f"schema at version {LATEST_VERSION}" in capsys.readouterr().out
    assert await cli(["migrate", "upgrade", uri]) == 0  # nothing pending: no DDL, same version
    assert f"schema at version {LATEST_VERSION}" in capsys.readouterr().out
    assert await cli(["migrate", "current", uri]) == 0
    assert "up to date" in capsys.readouterr().out


async def test_doctor_then_prune(uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(["doctor", uri]) == 1
    assert "no sqlspec-adk schema here" in capsys.readouterr().out
    await _aged_data(uri)
    assert await cli(["doctor", uri]) == 0
    out = capsys.readouterr().out
    for expected in (
        f"schema: version {LATEST_VERSION} (latest",
        "table adk_event: 6 row(s)",
        "memory search: full-text search available and working",
        "consistency: session revisions and events agree",
        "no problems found",
    ):
        assert expected in out, out

    rules = ["--sessions-idle", "90d", "--events-older-than", "30d", "--memory-older-than", "365d"]
    assert await cli(["prune", uri, *rules, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 1 idle session(s)" in out and "would delete 3 old event(s)" in out
    assert count(tmp_path, "adk_session") == 3 and count(tmp_path, "adk_event") == 6
    assert await cli(["prune", uri, *rules]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 idle session(s)" in out and "deleted 3 old event(s)" in out
    assert count(tmp_path, "adk_session") == 2 and count(tmp_path, "adk_event") == 1
    assert count(tmp_path, "adk_memory") == 1
    assert await cli(["prune", uri, "--artifacts-older-than", "0s"]) == 0
    assert "deleted 2 artifact version(s)" in capsys.readouterr().out
    assert count(tmp_path, "adk_artifact") == 0


async def test_export_then_import_into_a_fresh_database(uri: str, tmp_path: Path) -> None:
    await _aged_data(uri)
    dump = tmp_path / "dump.jsonl"
    assert await cli(["export", uri, str(dump)]) == 0
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    target = f"{spanner_emulator.uri(target_dir)}?artifact_storage_uri={(target_dir / 'artifacts').as_uri()}"
    try:
        assert await cli(["import", str(dump), target]) == 0
        assert await cli(["import", str(dump), target]) == 0  # idempotent
        for table, rows in (("adk_session", 3), ("adk_event", 6), ("adk_memory", 2), ("adk_artifact", 2)):
            assert count(target_dir, table) == rows, table
        again = tmp_path / "again.jsonl"
        assert await cli(["export", target, str(again)]) == 0
        assert len(again.read_text().splitlines()) == len(dump.read_text().splitlines())
    finally:
        spanner_emulator.discard(target_dir)
