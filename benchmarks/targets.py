"""The issue's targets, as ratios from one run, evaluated over the result rows."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.results import Results, Row

__all__ = ["Verdict", "adk_rows", "evaluate", "floor_row", "is_concurrent"]


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    contender: str
    family: str
    measured: float | None
    goal: str
    holds: bool | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_concurrent(row: Row) -> bool:
    return "at once" in row.case


def _cost(row: Row) -> float:
    """Seconds-like cost of one operation: median latency, or inverse throughput for concurrent rounds."""
    if is_concurrent(row):
        return 1.0 / row.rate if row.rate else math.nan
    return row.median_ms


def _ok(row: Row | None) -> bool:
    return row is not None and row.operations > 0 and not math.isnan(_cost(row))


def adk_rows(results: Results, row: Row) -> list[Row]:
    """ADK's own services (not the in-memory ceiling) on the same database, same workload and case."""
    return [
        other
        for other in results.rows
        if other.kind == "adk"
        and other.family == row.family
        and (other.workload, other.case) == (row.workload, row.case)
        and _ok(other)
    ]


def floor_row(results: Results, row: Row) -> Row | None:
    found = results.find(row.workload, row.case, f"floor-{row.driver}")
    return found if _ok(found) else None


def speedup(slow: Row, fast: Row) -> float:
    return _cost(slow) / _cost(fast)


def _ours(results: Results, workload: str, case_prefix: str) -> list[Row]:
    return [
        row
        for row in results.rows
        if row.kind == "ours" and row.workload == workload and row.case.startswith(case_prefix) and _ok(row)
    ]


def evaluate(results: Results) -> list[Verdict]:
    verdicts: list[Verdict] = []
    # W1: >= 5x each ADK service on the same database; within 1.5x of the floor.
    for row in _ours(results, "W1", "append"):
        if "history" in row.case:
            continue
        floor = floor_row(results, row)
        for adk in adk_rows(results, row):
            ratio = speedup(adk, row)
            detail = f"vs {adk.label}"
            if floor is not None:
                # What the least possible work achieves against the same service in the same run.
                detail += f" (raw floor: {speedup(adk, floor):.2f}x)"
            verdicts.append(
                Verdict(f"W1 {row.case}: >= 5x ADK", row.label, row.family, ratio, ">= 5x", ratio >= 5, detail)
            )
        if floor is not None:
            ratio = _cost(row) / _cost(floor)
            verdicts.append(
                Verdict(
                    f"W1 {row.case}: within 1.5x of floor",
                    row.label,
                    row.family,
                    ratio,
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"vs {floor.label}",
                )
            )
    # W1: no slow-down with history (deep rate within 1.5x of the start rate).
    for row in _ours(results, "W1", "append, new session"):
        deep = next(
            (
                r
                for r in results.rows
                if r.workload == "W1" and "history" in r.case and r.contender == row.contender and _ok(r)
            ),
            None,
        )
        if deep is not None:
            ratio = deep.median_ms / row.median_ms
            verdicts.append(
                Verdict(
                    "W1 appends at depth vs at start",
                    row.label,
                    row.family,
                    ratio,
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"{deep.case} vs new session",
                )
            )
    # W2: flat.
    w2 = [row for row in _ours(results, "W2", "get")]
    by_contender: dict[str, list[Row]] = {}
    for row in w2:
        by_contender.setdefault(row.contender, []).append(row)
    for rows in by_contender.values():
        if len(rows) >= 2:
            ratio = rows[-1].median_ms / rows[0].median_ms
            detail = f"{rows[-1].case} vs {rows[0].case}"
            shallow, deep = floor_row(results, rows[0]), floor_row(results, rows[-1])
            if shallow is not None and deep is not None:
                # The shallowest history returns fewer events than num_recent_events; the floor
                # decodes the same events, so its ratio is what the returned events alone cost.
                detail += f" (raw floor: {deep.median_ms / shallow.median_ms:.2f}x)"
            verdicts.append(
                Verdict(
                    "W2 get: deepest history vs shallowest",
                    rows[0].label,
                    rows[0].family,
                    ratio,
                    "<= 1.5x",
                    ratio <= 1.5,
                    detail,
                )
            )
        if len(rows) >= 3:
            # Same number of events returned at both depths: the cost of history alone.
            ratio = rows[-1].median_ms / rows[1].median_ms
            verdicts.append(
                Verdict(
                    "W2 get: deepest history vs a full page (same events returned)",
                    rows[0].label,
                    rows[0].family,
                    ratio,
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"{rows[-1].case} vs {rows[1].case}",
                )
            )
    # W3: first page >= 20x faster than ADK's list_sessions.
    for row in _ours(results, "W3", "list first"):
        total = row.case.split(" of ")[-1]
        for adk in (
            r
            for r in results.rows
            if r.kind == "adk"
            and r.family == row.family
            and r.workload == "W3"
            and r.case == f"list all {total}"
            and _ok(r)
        ):
            ratio = speedup(adk, row)
            verdicts.append(
                Verdict(
                    "W3 first page vs ADK list_sessions: >= 20x",
                    row.label,
                    row.family,
                    ratio,
                    ">= 20x",
                    ratio >= 20,
                    f"vs {adk.label}",
                )
            )
    # W5: at least as fast as ADK's SqliteMemoryService, with equal or better recall.
    adk_memory = next(
        (
            r
            for r in results.rows
            if r.workload == "W5" and r.contender == "adk-memory-sqlite" and r.case.startswith("search") and _ok(r)
        ),
        None,
    )
    if adk_memory is not None:
        for row in _ours(results, "W5", "search"):
            ratio = speedup(adk_memory, row)
            verdicts.append(
                Verdict(
                    "W5 search latency vs ADK SqliteMemoryService",
                    row.label,
                    row.family,
                    ratio,
                    ">= 1x",
                    ratio >= 1,
                    f"{row.median_ms:.2f} ms vs {adk_memory.median_ms:.2f} ms",
                )
            )
            ours_recall, adk_recall = row.extra.get("recall_at_5"), adk_memory.extra.get("recall_at_5")
            if ours_recall is not None and adk_recall is not None:
                verdicts.append(
                    Verdict(
                        "W5 recall@5 vs ADK SqliteMemoryService",
                        row.label,
                        row.family,
                        ours_recall,
                        f">= {adk_recall:.2f}",
                        ours_recall >= adk_recall,
                        f"ADK {adk_recall:.2f}",
                    )
                )
    return verdicts
