"""The run's reports: ``results.json``, ``results.md`` (medians, ratios, statement counts) and ``w2_get.png``.

With ``--docs PATH`` the markdown between ``<!-- results:start -->`` and
``<!-- results:end -->`` in that file is replaced by this run's report.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.plot import plot_w1c, plot_w2
from benchmarks.results import Results, Row
from benchmarks.targets import (
    SCALE_GOAL,
    SCALE_MEASURES,
    SCALE_UNGOALED,
    Verdict,
    adk_rows,
    evaluate,
    floor_row,
    is_concurrent,
    scale_figure,
    scale_pairs,
    speedup,
)

__all__ = ["markdown", "write_reports"]

START, END = "<!-- results:start -->", "<!-- results:end -->"
DASH, TIMES = "\u2013", "\u00d7"
_FAMILY_ORDER = {"memory": 0, "sqlite": 1, "postgres": 2, "mysql": 3, "duckdb": 4}
_KIND_ORDER = {"ceiling": 0, "ours": 1, "floor": 2, "adk": 3}


def write_reports(machine: dict[str, Any], results: Results, options: Any, out: Path, docs: Path | None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    verdicts = evaluate(results)
    name = "quick" if options.quick else "full"
    data = {
        "machine": machine,
        "sizes": asdict(options.sizes),
        "families": list(options.families),
        "workloads": sorted(options.workloads),
        "rows": [row.as_dict() for row in results.rows],
        "targets": [verdict.as_dict() for verdict in verdicts],
        "notes": results.notes,
        "skipped": results.skipped,
    }
    json_path = out / f"results-{name}.json"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    png_path = out / f"w2-get-{name}.png"
    plot_w2(results, png_path)
    w1c_path = out / f"w1c-events-{name}.png"
    has_w1c = plot_w1c(results, w1c_path)
    text = markdown(machine, results, verdicts, png_path.name, w1c_path.name if has_w1c else None)
    md_path = out / f"results-{name}.md"
    md_path.write_text(text, encoding="utf-8")
    paths = [json_path, md_path, png_path, *([w1c_path] if has_w1c else [])]
    if docs is not None:
        w1c = _relative(w1c_path, docs.parent) if has_w1c else None
        _splice(docs, markdown(machine, results, verdicts, _relative(png_path, docs.parent), w1c))
        paths.append(docs)
    return paths


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        import os

        return os.path.relpath(path.resolve(), base.resolve())


def _splice(docs: Path, section: str) -> None:
    """Replace what lies between the marker lines (markers quoted in prose are not lines of their own)."""
    current = docs.read_text(encoding="utf-8") if docs.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    lines = current.splitlines(keepends=True)
    bare = [line.strip() for line in lines]
    if START not in bare or END not in bare[bare.index(START) :]:
        lines += [f"\n{START}\n", f"{END}\n"]
        bare = [line.strip() for line in lines]
    start = bare.index(START)
    end = bare.index(END, start)
    docs.write_text("".join(lines[: start + 1]) + f"{section}\n" + "".join(lines[end:]), encoding="utf-8")


# ------------------------------------------------------------------ markdown
def _ms(value: float) -> str:
    if value is None or math.isnan(value):
        return DASH
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _rate(value: float) -> str:
    return DASH if value is None or math.isnan(value) else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return DASH
    return f"{value:.1f}{TIMES}" if value >= 10 else f"{value:.2f}{TIMES}"


def _count(row: Row, key: str) -> str:
    value = (row.counts or {}).get(key)
    if value is None:
        return "n/a"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _machine(machine: dict[str, Any]) -> str:
    servers = ", ".join(f"{family} {version}" for family, version in machine.get("servers", {}).items()) or "none"
    packages = ", ".join(f"{name} {version}" for name, version in machine.get("packages", {}).items())
    return "\n".join(
        [
            f"- Run: {machine.get('date')} ({'`--quick`' if machine.get('quick') else 'full run'}, "
            f"{machine.get('duration_s')} s, commit `{machine.get('commit')}`)",
            f"- Machine: {machine.get('nproc')} CPUs ({machine.get('cpu')}), {machine.get('ram_gib')} GiB RAM, "
            f"{machine.get('os')}; load average {machine.get('load_average_start')} at start, "
            f"{machine.get('load_average_end')} at end (a shared machine: other test suites ran concurrently)",
            f"- Python {machine.get('python')}, SQLite {machine.get('sqlite')}, servers: {servers}; "
            f"one 4 KiB write + fsync in the run's directory: {machine.get('fsync_ms')} ms (median)"
            + "".join(
                f"; one autocommitted one-row INSERT on {family}: {value} ms"
                for family, value in (machine.get("commit_ms") or {}).items()
            ),
            f"- Packages: {packages}",
        ]
    )


def _order(row: Row) -> tuple[int, int, str]:
    return (_FAMILY_ORDER.get(row.family, 9), _KIND_ORDER.get(row.kind, 9), row.driver)


def _case_table(results: Results, workload: str, case: str, ceiling: Row | None) -> list[str]:
    rows = sorted((r for r in results.rows if (r.workload, r.case) == (workload, case)), key=_order)
    concurrent = any(is_concurrent(r) for r in rows)
    lines = [
        "| database | contender | median ms | p90 ms | ops/s | stmts/op | round trips/op "
        f"| {TIMES} vs ADK (same db) | vs floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    shown = ([ceiling] if ceiling is not None and ceiling not in rows else []) + rows
    for row in shown:
        if row.operations == 0:
            lines.append(f"| {row.family} | {row.label} | failed: {row.extra.get('error', '?')} | | | | | | |")
            continue
        vs_adk = DASH
        if row.kind in ("ours", "floor"):
            ratios = [speedup(adk, row) for adk in adk_rows(results, row)]
            vs_adk = " / ".join(_ratio(value) for value in ratios) or DASH
        vs_floor = DASH
        floor = floor_row(results, row) if row.kind == "ours" else None
        if floor is not None:
            vs_floor = _ratio(speedup(row, floor))
        label = row.label + (" (ceiling)" if row.kind == "ceiling" else "")
        if "error" in row.extra:
            label += f" (failed after {len(row.round_medians_ms)} rounds: {row.extra['error'][:80]})"
        if row.extra.get("paged") is False and "first" in case:
            label += " †"
        lines.append(
            f"| {row.family} | {label} | {_ms(row.median_ms)} | {_ms(row.p90_ms)} | {_rate(row.rate)} | "
            f"{_count(row, 'statements')} | {_count(row, 'round_trips')} | {vs_adk} | {vs_floor} |"
        )
    if concurrent:
        lines.append("")
        lines.append("Concurrent rounds: ratios use aggregate throughput (ops/s), not latency.")
    return lines


def _targets(verdicts: list[Verdict]) -> list[str]:
    if not verdicts:
        return ["No target could be evaluated in this run."]
    lines = ["| target | contender | database | measured | goal | holds | against |", "|---|---|---|---:|---|---|---|"]
    for verdict in verdicts:
        mark = "yes" if verdict.holds else "**no**"
        measured = f"{verdict.measured:.2f}" if verdict.measured is not None else DASH
        lines.append(
            f"| {verdict.target} | {verdict.contender} | {verdict.family} | {measured} | {verdict.goal} | {mark} | "
            f"{verdict.detail} |"
        )
    return lines


_TITLES = {
    "W1": "W1 — append_event",
    "W2": "W2 — get_session(num_recent_events=20)",
    "W3": "W3 — list_sessions, one user",
    "W4": "W4 — create_session",
    "W5": "W5 — memory search",
    "W6": "W6 — artifacts",
    "W1c": "W1c — concurrent appends (N sessions at once, one process)",
    "W1t": "W1t — tracing probe (per-operation tracing, no tracer provider)",
    "W7": "W7 — scale (today's sizes vs a hundred times more rows)",
}
_ORDER = ("W1", "W1c", "W1t", "W2", "W3", "W4", "W5", "W6", "W7")


def markdown(
    machine: dict[str, Any], results: Results, verdicts: list[Verdict], png: str, w1c_png: str | None = None
) -> str:
    lines = ["## Latest results", "", _machine(machine), ""]
    lines += [
        "Medians over every operation of every round; rounds interleave the contenders of one database. "
        f"`{TIMES} vs ADK`: how many times faster than each of ADK's own services on the same database "
        "(higher is better). `vs floor`: this library's time over the raw floor's on the same driver "
        "(lower is better; below 1 means faster than the floor). Statements and round trips are per operation, "
        "counted in a separate pass at the database boundary (SQLite trace callback / wire proxy), "
        "BEGIN and COMMIT included. † ADK's services cannot page: their first page is the whole list.",
        "",
        "### Targets",
        "",
        *_targets(verdicts),
        "",
    ]
    ceilings = {(r.workload, r.case): r for r in results.rows if r.kind == "ceiling"}
    for workload in _ORDER:
        cases = list(dict.fromkeys(r.case for r in results.rows if r.workload == workload))
        if not cases:
            continue
        lines += [f"### {_TITLES[workload]}", ""]
        if workload == "W1c" and w1c_png:
            lines += [f"![W1c aggregate events/s against sessions at once]({w1c_png})", ""]
        if workload in _WHOLE:
            lines += [*_WHOLE[workload](results), ""]
            continue
        if workload == "W2":
            lines += [f"![W2 latency against history length]({png})", ""]
        for case in cases:
            lines += [f"**{case}**", ""]
            if workload in _REFERENCES:
                lines += _reference_table(results, workload, case)
            else:
                lines += _case_table(results, workload, case, ceilings.get((workload, case)))
            lines.append("")
    if results.skipped:
        lines += ["### Not measured", "", "| contender | database | variant | why |", "|---|---|---|---|"]
        lines += [f"| {s['label']} | {s['family']} | {s['variant'] or DASH} | {s['why']} |" for s in results.skipped]
        lines.append("")
    if results.notes:
        lines += ["### Notes from this run", "", *(f"- {note}" for note in results.notes), ""]
    return "\n".join(lines)


_REFERENCES = {
    "W5": ("adk-memory-sqlite", "ADK SqliteMemoryService"),
    "W6": ("adk-artifact-file", "ADK FileArtifactService"),
}


def _reference_table(results: Results, workload: str, case: str) -> list[str]:
    """W5/W6: ADK has one reference service for every database, so ratios are against it."""
    reference_name, reference_label = _REFERENCES[workload]
    rows = sorted((r for r in results.rows if (r.workload, r.case) == (workload, case)), key=_order)
    reference = next((r for r in rows if r.contender == reference_name and r.operations), None)
    recall = workload == "W5" and case.startswith("search")
    ingest = workload == "W5" and case.startswith("add_events")
    extra_heads = (
        " keyword recall@5 (keyword + frequent-word sets) | frequent-word recall@5 | paraphrase recall@5 |"
        " frequent-word median ms | embed ms/query |"
        if recall
        else ""
    )
    extra_heads += " events/s |" if ingest else ""
    lines = [
        "| database | contender | median ms | p90 ms | ops/s |"
        + extra_heads
        + f" stmts/op | round trips/op | {TIMES} vs {reference_label} |",
        "|---|---|---:|---:|---:|" + ("---:|" * 5 if recall else "") + ("---:|" if ingest else "") + "---:|---:|---:|",
    ]
    for row in rows:
        if row.operations == 0:
            lines.append(f"| {row.family} | {row.label} | failed: {row.extra.get('error', '?')} | | | | | |")
            continue
        ratio = _ratio(speedup(reference, row)) if reference is not None and row is not reference else DASH
        label = row.label + (" (ceiling)" if row.kind == "ceiling" else "")
        recall_cell = ""
        if recall:
            by_kind = row.extra.get("recall_by_kind") or {}
            values = [row.extra.get("recall_at_5"), by_kind.get("frequent"), by_kind.get("paraphrase")]
            recall_cell = "".join(f" {DASH if v is None else f'{v:.2f}'} |" for v in values)
            frequent_ms = (row.extra.get("median_ms_by_kind") or {}).get("frequent")
            embed = row.extra.get("embed_ms")
            recall_cell += f" {DASH if frequent_ms is None else _ms(frequent_ms)} |"
            recall_cell += f" {DASH if embed is None else _ms(embed)} |"
        if ingest:
            rate = row.extra.get("events_per_s")
            recall_cell += f" {DASH if rate is None else _rate(rate)} |"
        lines.append(
            f"| {row.family} | {label} | {_ms(row.median_ms)} | {_ms(row.p90_ms)} | {_rate(row.rate)} |{recall_cell} "
            f"{_count(row, 'statements')} | {_count(row, 'round_trips')} | {ratio} |"
        )
    return lines


# ------------------------------------------------------ W1c, W1t and W7 tables
def _w1c_tables(results: Results) -> list[str]:
    rows = [r for r in results.rows if r.workload == "W1c"]
    lines = [
        "Aggregate events/s: successful appends over each round's wall time (median over rounds); latency per "
        "append. `vs floor`: this contender's events/s over the raw per-append-transaction floor's on the same "
        "driver (higher is better); `vs ADK`: over each of ADK's services on the same database. ‡ a round hit "
        "its time budget: its tasks started no new append after it, the figures are over the appends done.",
        "",
    ]
    for case in dict.fromkeys(r.case for r in rows):
        lines += [
            f"**{case}**",
            "",
            "| database | contender | events/s | p50 ms | p90 ms | p99 ms | failed appends | vs floor | vs ADK |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in sorted((r for r in rows if r.case == case), key=_order):
            if row.operations == 0:
                lines.append(f"| {row.family} | {row.label} | failed: {row.extra.get('error', '?')} | | | | | | |")
                continue
            floor = floor_row(results, row) if row.kind == "ours" else None
            vs_floor = _ratio(row.rate / floor.rate) if floor is not None and floor.rate else DASH
            adk = [r for r in rows if r.kind == "adk" and r.family == row.family and r.case == case and r.rate]
            vs_adk = " / ".join(_ratio(row.rate / r.rate) for r in adk) if row.kind != "adk" and adk else DASH
            label = row.label
            if row.extra.get("rounds_cut"):
                label += f" ‡ ({row.extra.get('attempted', '?'):,} appends in the time budget)"
            lines.append(
                f"| {row.family} | {label} | {_rate(row.rate)} | {_ms(row.median_ms)} | {_ms(row.p90_ms)} | "
                f"{_ms(row.extra.get('p99_ms', math.nan))} | {row.extra.get('errors', 0)} | {vs_floor} | {vs_adk} |"
            )
        lines.append("")
    return lines


def _w1t_table(results: Results) -> list[str]:
    rows = [r for r in results.rows if r.workload == "W1t"]
    variants = list(dict.fromkeys(r.case for r in rows))
    others = [v for v in variants if "no-op" not in v]
    lines = [
        "Median per append in each variant; one adapter's variants run back to back each round (order rotated), "
        "and `/ no-op` is the median over rounds of a round's median over the no-op's in the same round. "
        "`traced() share`: what `traced()` alone adds over the no-op (one enter and exit, timed in loops), as a "
        "share of the append's median.",
        "",
        "| database | contender | "
        + " | ".join(f"{_short(v)} ms" for v in variants)
        + " | "
        + " | ".join(f"{_short(v)} / no-op" for v in others)
        + " | traced() share, as is |",
        "|---|---|" + "---:|" * (len(variants) + len(others) + 1),
    ]
    for key in dict.fromkeys((r.family, r.contender) for r in rows):
        mine = {r.case: r for r in rows if (r.family, r.contender) == key}
        first = next(iter(mine.values()))
        cells = [_ms(mine[v].median_ms) if v in mine else DASH for v in variants]
        ratios = [_ratio(mine[v].extra.get("vs_no_op")) if v in mine else DASH for v in others]
        share = next((mine[v].extra.get("traced_share") for v in others if v in mine and "as is" in v), None)
        cells += [*ratios, DASH if not isinstance(share, float) else f"{share:.2%}"]
        lines.append(f"| {first.family} | {first.label} | " + " | ".join(cells) + " |")
    alone = {r.case: r.extra.get("traced_alone_ns") for r in rows}
    lines += [
        "",
        "`traced()` alone, per operation: "
        + ", ".join(f"{_short(v)}: {alone[v]:,.0f} ns" for v in variants if alone.get(v) is not None),
    ]
    return lines


def _short(variant: str) -> str:
    return variant.split(" (")[0]


def _w7_table(results: Results) -> list[str]:
    pairs = scale_pairs(results)
    lines = [
        f"Each measurement on a store at today's sizes and on one a hundred times larger (goal: at most "
        f"{SCALE_GOAL:g}{TIMES}). Latencies are medians (p90 where named); ingest and retention are per row.",
        "",
    ]
    shapes: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for first, second in pairs:
        shapes[(first.family, first.driver)] = (first.extra, second.extra)
    for (family, driver), (small, big) in shapes.items():
        lines.append(
            f"- {family} / {driver}: today's sizes {small.get('memory_entries', 0):,} memory entries, "
            f"{small.get('sessions', 0):,} sessions, {small.get('events', 0):,} events; at scale "
            f"{big.get('memory_entries', 0):,} memory entries, {big.get('sessions', 0):,} sessions, "
            f"{big.get('events', 0):,} events"
        )
    lines += [
        "",
        "| database | contender | measurement | today's sizes | at scale | at scale / today | holds |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for base, large in pairs:
        before, after = scale_figure(base), scale_figure(large)
        per_row = SCALE_MEASURES.get(base.case) == "ms_per_row"

        def cell(value: float | None, row: Row, per_row: bool = per_row) -> str:
            if value is None:
                return DASH
            if per_row:
                rate = row.extra.get("rows_per_s")
                return f"{value * 1000:.1f} µs/row ({_rate(rate)} rows/s)" if rate else f"{value * 1000:.1f} µs/row"
            recall = row.extra.get("recall_at_5")
            return _ms(value) + (f" ms (recall@5 {recall:.2f})" if recall is not None else " ms")

        ratio = after / before if before and after is not None else None
        holds = DASH if ratio is None else ("yes" if ratio <= SCALE_GOAL else "**no**")
        if base.case in SCALE_UNGOALED:
            holds = "(no goal)"
        lines.append(
            f"| {base.family} | sqlspec-adk {base.driver} | {base.case} | {cell(before, base)} | "
            f"{cell(after, large)} | {_ratio(ratio)} | {holds} |"
        )
    return lines


_WHOLE = {"W1c": _w1c_tables, "W1t": _w1t_table, "W7": _w7_table}
