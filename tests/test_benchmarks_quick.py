"""CI smoke of the benchmark harness: ``python -m benchmarks --quick`` writes its reports with figures.

Nothing here asserts on time: the figures depend on the machine. It checks
that the run completes, that every session workload produced medians and
statement counts for this library, ADK's services and the floor, and that the
JSON, markdown and PNG reports exist and agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    print(completed.stdout)  # the figures, in the CI log
    return completed, out


def test_quick_run_succeeds(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    completed, _ = quick_run
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "W1 append" in completed.stdout


def test_json_has_figures(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = quick_run
    data = json.loads((out / "results-quick.json").read_text(encoding="utf-8"))
    assert data["machine"]["nproc"] and data["machine"]["python"]
    rows = data["rows"]
    for workload in ("W1", "W2", "W3", "W4", "W5", "W6"):
        measured = [row for row in rows if row["workload"] == workload and row["operations"] > 0]
        assert measured, f"{workload} produced no figures"
        assert all(row["median_ms"] is not None and row["median_ms"] > 0 for row in measured)
    kinds = {row["kind"] for row in rows if row["workload"] == "W1"}
    assert {"ours", "adk", "floor", "ceiling"} <= kinds
    ours_append = [row for row in rows if row["workload"] == "W1" and row["kind"] == "ours" and row["counts"]]
    assert ours_append and all(row["counts"]["statements"] >= 1 for row in ours_append)
    assert all(row["counts"]["stmt_yields"] >= 1 for row in ours_append)
    recall = [row for row in rows if row["workload"] == "W5" and "recall_at_5" in row["extra"]]
    assert recall and all(0 <= row["extra"]["recall_at_5"] <= 1 for row in recall)
    assert data["targets"], "no target was evaluated"


def test_markdown_and_plot(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = quick_run
    text = (out / "results-quick.md").read_text(encoding="utf-8")
    for heading in ("### Targets", "### W1", "### W2", "### W3", "### W4", "### W5", "### W6"):
        assert heading in text
    assert "| sqlite | sqlspec-adk sqlite |" in text
    assert (out / "w2-get-quick.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_pure_python_png_fallback(tmp_path: Path) -> None:
    from benchmarks.png import line_chart

    path = tmp_path / "chart.png"
    line_chart({"a": [(10, 1.0), (1000, 1.2), (10000, 1.3)], "b": [(10, 2.0), (10000, 40.0)]}, path, title="t")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data


def test_render_rebuilds_the_same_reports(
    quick_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _, out = quick_run
    rendered = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--render", str(out / "results-quick.json"), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert rendered.returncode == 0, rendered.stderr[-4000:]
    first = json.loads((out / "results-quick.json").read_text(encoding="utf-8"))
    again = json.loads((tmp_path / "results-quick.json").read_text(encoding="utf-8"))
    assert again["rows"] == first["rows"] and again["targets"] == first["targets"]
    assert (tmp_path / "results-quick.md").read_text(encoding="utf-8") == (out / "results-quick.md").read_text(
        encoding="utf-8"
    )
