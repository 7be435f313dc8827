"""The README's first quickstart command: ``sqlspec-adk demo`` runs offline on SQLite, twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("driver", ["aiosqlite", "sqlite"])
def test_demo_survives_a_restart_and_runs_again_on_the_same_file(tmp_path: Path, driver: str) -> None:
    database = tmp_path / "adk.db"
    command = [sys.executable, "-m", "sqlspec_adk.cli", "demo", "--database", str(database), "--driver", driver]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "survived the restart" in first.stdout
    assert "[after restart] session 'demo-session': 8 events" in first.stdout
    assert "Skipping missing token usage" not in first.stderr  # the demo's output stays readable
    # A second run finds the first one's data and still succeeds.
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "survived the restart" in second.stdout
