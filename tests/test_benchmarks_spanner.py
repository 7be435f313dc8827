"""The benchmark harness's ``spanner`` family: W1 to W4 on the Cloud Spanner emulator, labelled as emulator figures.

A quick run of the session workloads and W5 (which the emulator leaves out); nothing here asserts on time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.emulator import NOTE
from tests.backends import ADAPTERS, require_server

ROOT = Path(__file__).resolve().parent.parent


def test_spanner_rows_are_labelled_emulator_figures_and_meet_no_target(tmp_path: Path) -> None:
    require_server(next(spec for spec in ADAPTERS if spec.name == "spanner"))
    options = ["--quick", "--families", "spanner", "--workloads", "W1,W2,W3,W4,W5", "--out", str(tmp_path)]
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    data: dict[str, Any] = json.loads((tmp_path / "results-quick.json").read_text(encoding="utf-8"))
    rows = [row for row in data["rows"] if row["family"] == "spanner" and row["operations"] > 0]
    assert {row["workload"] for row in rows} == {"W1", "W2", "W3", "W4"}  # W5 is left out, with a note
    assert all(row["label"] == "sqlspec-adk spanner (emulator)" for row in rows)
    assert NOTE in data["notes"] and any("W5 not run on the emulator" in note for note in data["notes"])
    assert data["machine"]["servers"]["spanner"].startswith("Cloud Spanner emulator")
    assert not [verdict for verdict in data["targets"] if verdict["family"] == "spanner"]
    report = (tmp_path / "results-quick.md").read_text(encoding="utf-8")
    assert "| spanner | sqlspec-adk spanner (emulator) |" in report and NOTE in report
