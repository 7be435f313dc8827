"""CI smoke of the benchmark harness: ``python -m benchmarks --quick`` writes its reports with figures.

Nothing here asserts on time: the figures depend on the machine. It checks
that the run completes, that every workload (W1..W7, W1c, W1t) produced
figures for the contenders it must have, that the targets were evaluated over
them, that the inputs the harness checks itself are sound (the paraphrase
questions share no stem with their facts), and that the JSON, markdown and
PNG reports exist and agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    for workload in ("W1", "W2", "W3", "W4", "W5", "W6", "W1c", "W7", "W1t"):
        measured = [row for row in rows if row["workload"] == workload and row["operations"] > 0]
        assert measured, f"{workload} produced no figures"
        unfigured = [
            (row["case"], row["contender"], row["median_ms"])
            for row in measured
            if row["median_ms"] is None or row["median_ms"] <= 0
        ]
        assert not unfigured, f"{workload}: rows with operations but no median latency: {unfigured}"
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
    for heading in ("### Targets", "### W1", "### W2", "### W3", "### W4", "### W5", "### W6", "### W1c", "### W7"):
        assert heading in text
    assert "| sqlite | sqlspec-adk sqlite |" in text
    assert (out / "w2-get-quick.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (out / "w1c-events-quick.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "](w1c-events-quick.png)" in text


def _data(out: Path) -> dict[str, Any]:
    return json.loads((out / "results-quick.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_w1c_concurrency(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    data = _data(quick_run[1])
    rows = [row for row in data["rows"] if row["workload"] == "W1c" and row["family"] == "sqlite"]
    levels = sorted({row["extra"]["sessions"] for row in rows})
    assert levels == sorted(data["sizes"]["concurrency_levels"])
    for level in levels:
        kinds = {row["kind"] for row in rows if row["extra"]["sessions"] == level and row["operations"] > 0}
        assert {"ours", "floor", "adk"} <= kinds, (level, kinds)
    measured = [row for row in rows if row["operations"] > 0]
    assert all(row["rate"] > 0 and row["extra"]["p99_ms"] >= row["median_ms"] for row in measured)
    # Every append started is either timed or counted as failed; all of them unless the time budget cut a round.
    for row in measured:
        extra = row["extra"]
        assert row["operations"] + extra["errors"] == extra["attempted"], row["label"]
        if not extra["rounds_cut"]:
            assert extra["attempted"] == extra["sessions"] * extra["appends_each"] * data["sizes"]["concurrency_rounds"]
    goals = [t for t in data["targets"] if t["target"].startswith("W1c 32 sessions")]
    assert goals and all(isinstance(t["holds"], bool) for t in goals)
    # Group commit: measured, or skipped with the reason the library gave.
    group_commit = [row for row in rows if row["extra"].get("variant") == "group commit on"]
    refused = [s for s in data["skipped"] if s["variant"].startswith("group commit") and "group_commit" in s["why"]]
    assert group_commit or refused


def test_w5_question_sets_and_modes(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    data = _data(quick_run[1])
    search = [r for r in data["rows"] if r["workload"] == "W5" and r["case"].startswith("search") and r["operations"]]
    lexical = [r for r in search if r["kind"] == "ours" and r["extra"]["mode"] == "lexical"]
    assert lexical
    for row in lexical:
        asked = row["extra"]["questions_by_kind"]
        assert asked["keyword"] >= 40 and asked["frequent"] >= 10 and asked["paraphrase"] >= 40
        recall = row["extra"]["recall_by_kind"]
        # Lexical search cannot find paraphrases (they share no word with their fact) but finds keywords.
        assert recall["paraphrase"] < 0.5 < recall["keyword"], recall
        assert set(row["extra"]["median_ms_by_kind"]) == {"keyword", "frequent", "paraphrase"}
    ingest = [r for r in data["rows"] if r["workload"] == "W5" and r["case"].startswith("add_events")]
    assert ingest and all(r["extra"]["events_per_s"] > 0 for r in ingest if r["operations"])
    modes = [r for r in search if r["extra"]["mode"] != "lexical"]
    refused = [s for s in data["skipped"] if "memory_search_mode" in s["why"] or "memory_embedder" in s["why"]]
    assert modes or refused, "semantic/hybrid modes neither measured nor reported as refused"
    for row in modes:
        assert "paraphrase" in row["extra"]["recall_by_kind"]
    assert any(t["target"].startswith("W5 recall@5 vs ADK") for t in data["targets"])
    assert any(t["target"].startswith("W5 frequent-word questions: search") for t in data["targets"])


def test_w7_scale(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    from benchmarks.targets import SCALE_MEASURES, SCALE_UNGOALED

    data = _data(quick_run[1])
    rows = [r for r in data["rows"] if r["workload"] == "W7" and r["family"] == "sqlite"]
    for case in SCALE_MEASURES:
        scales = {r["extra"]["scale"] for r in rows if r["case"] == case and r["operations"] > 0}
        assert scales == {"base", "large"}, case
    for row in rows:
        extra = row["extra"]
        if row["case"].startswith("retention"):
            # Exactly a tenth of the rows of each kind is old enough to go.
            total = {"events": extra["events"], "sessions": extra["sessions"], "memory": extra["memory_entries"]}
            kind = row["case"].rsplit(" ", 1)[-1]
            assert extra["rows"] == total[kind] // 10, (row["case"], extra)
        if row["case"].startswith("memory search"):
            assert extra["recall_at_5"] > 0.5
    large = next(r for r in rows if r["extra"]["scale"] == "large")
    base = next(r for r in rows if r["extra"]["scale"] == "base")
    assert large["extra"]["memory_entries"] == 10 * base["extra"]["memory_entries"]
    verdicts = [t for t in data["targets"] if t["target"].startswith("W7") and t["family"] == "sqlite"]
    assert len(verdicts) == len(set(SCALE_MEASURES) - SCALE_UNGOALED) and all(
        isinstance(t["holds"], bool) for t in verdicts
    )


def test_w1t_tracing_probe(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    data = _data(quick_run[1])
    rows = [r for r in data["rows"] if r["workload"] == "W1t"]
    for driver in ("sqlite", "aiosqlite"):
        variants = {r["case"] for r in rows if r["driver"] == driver and r["operations"] > 0}
        assert len(variants) == 3, variants
    assert all(r["extra"]["traced_alone_ns"] > 0 for r in rows)
    assert any(t["target"].startswith("W1t tracing") for t in data["targets"])


def test_self_check_refuses_a_paraphrase_sharing_a_stem() -> None:
    from benchmarks.memory_corpus import Question, check_questions, load_questions
    from benchmarks.runner import self_check

    assert self_check() == []
    assert len(load_questions(("paraphrase",))) >= 40
    slipped = Question("Which peanut products should I skip?", "I'm allergic to peanuts.", "paraphrase")
    assert check_questions([slipped])
    assert check_questions([Question("Which foods must I avoid?", "I'm allergic to peanuts.", "paraphrase")]) == []


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
