"""Shared by the workloads: fault-tolerant interleaved rounds and row recording."""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.counting import Counts
from benchmarks.group import Group
from benchmarks.timing import Batch, Timing, interleaved

__all__ = ["measure"]

_STARTED = time.perf_counter()


async def measure(
    group: Group[Any],
    workload: str,
    case: str,
    names: list[str],
    run_round: Callable[[str, int], Awaitable[Batch]],
    counts: dict[str, Counts | None] | None = None,
    extra: Callable[[str], dict[str, Any]] | None = None,
) -> dict[str, Timing]:
    """Interleaved rounds over ``names``; a contender that fails is reported and left out of later rounds."""
    failed: dict[str, str] = {}

    async def guarded(name: str, number: int) -> Batch:
        if name in failed:
            return Batch([], 0)
        try:
            return await run_round(name, number)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
            group.results.note(f"{workload} {case}: {group.spec(name).label} failed: {failed[name]}")
            traceback.print_exc()
            return Batch([], 0)

    timings = await interleaved(group.sizes.rounds, names, guarded)
    for name, timing in timings.items():
        details = extra(name) if extra else {}
        if name in failed:
            details["error"] = failed[name]
        row = group.results.add(workload, case, group.spec(name), timing, (counts or {}).get(name), **details)
        _print_row(row)
    return timings


def _print_row(row: Any) -> None:
    counts = row.counts or {}
    statements = counts.get("statements")
    trips = counts.get("round_trips")
    figures = f"{row.median_ms:9.3f} ms  {row.rate:10.1f} ops/s"
    if statements is not None:
        figures += f"  {statements:5.1f} stmts  {trips:5.1f} round trips"
    elapsed = time.perf_counter() - _STARTED
    print(f"  [{elapsed:6.1f}s] {row.workload} {row.case:<28} {row.label:<48} {figures}", flush=True)
