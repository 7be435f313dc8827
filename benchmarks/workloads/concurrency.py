"""W1c: N sessions appended to at once from one process, for N in :attr:`Sizes.concurrency_levels`.

Each level gets N fresh sessions per contender; a round starts N tasks
(``asyncio.gather``), each appending :attr:`Sizes.concurrency_appends` events
(built before the round's clock starts) to its own session one after another. Recorded per contender and level:
aggregate events/s (successful appends over the round's wall time, median over
rounds), p50/p90/p99 per-append latency, and the appends that failed (a failed
append is counted, its session is read again and the task goes on: ADK's
services on SQLite time out on the database lock under load). A round has a
time budget (:attr:`Sizes.concurrency_budget_s`): past it, tasks start no new
append, so a contender far slower than the others (ADK's services at 128
sessions) is measured on the appends it completed in that time; the report
says which rounds were cut.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.contenders.base import SessionContender
from benchmarks.events import make_event, session_state
from benchmarks.group import Group
from benchmarks.timing import Batch
from benchmarks.workloads.common import measure

__all__ = ["CONCURRENCY_USER", "case_name", "run_concurrency"]

CONCURRENCY_USER = "u-concurrent"
Sessions = Group[SessionContender]


def case_name(sessions: int) -> str:
    return f"{sessions} session{'s' if sessions != 1 else ''} at once"


async def run_concurrency(group: Sessions) -> None:
    """Every level on every live contender of the group; contenders' rounds interleave per level."""
    sizes = group.sizes
    for level in sizes.concurrency_levels:
        await _level(group, level, sizes.concurrency_appends)


async def _level(group: Sessions, sessions: int, appends: int) -> None:
    names = [name for name in group.names if group.spec(name).concurrent]
    handles: dict[str, list[Any]] = {}
    for name in list(names):
        contender = group.live[name]
        try:
            handles[name] = [
                await contender.create(CONCURRENCY_USER, f"c{sessions}-{k}", session_state(k)) for k in range(sessions)
            ]
        except Exception as error:
            group.results.note(
                f"W1c {case_name(sessions)}: {group.spec(name).label} could not create sessions: {error}"
            )
            names.remove(name)
    errors: dict[str, int] = {name: 0 for name in names}
    attempted: dict[str, int] = {name: 0 for name in names}
    cut: dict[str, int] = {name: 0 for name in names}
    last_error: dict[str, str] = {}
    budget_ns = int(group.sizes.concurrency_budget_s * 1e9)

    async def run_round(name: str, number: int) -> Batch:
        import asyncio

        contender = group.live[name]
        latencies: list[int] = []
        clock = time.perf_counter_ns

        # Built before the clock starts: making an event is the caller's work, not the store's, and on a
        # busy event loop it would be charged to whichever contender is bound by CPU rather than by I/O.
        events = [
            [make_event(number * appends + index, invocation_id=f"c{sessions}-{number}") for index in range(appends)]
            for _ in range(sessions)
        ]

        async def worker(worker: int) -> None:
            session_id = f"c{sessions}-{worker}"
            for event in events[worker]:
                if clock() - start > budget_ns:
                    stopped.append(worker)
                    return
                attempted[name] += 1
                before = clock()
                try:
                    handles[name][worker] = await contender.append(handles[name][worker], event)
                except Exception as error:
                    errors[name] += 1
                    last_error[name] = f"{type(error).__name__}: {error}"[:200]
                    handles[name][worker] = await contender.get(CONCURRENCY_USER, session_id, 1)
                    continue
                latencies.append(clock() - before)

        stopped: list[int] = []
        start = clock()
        await asyncio.gather(*(worker(k) for k in range(sessions)))
        cut[name] += bool(stopped)
        return Batch(latencies, clock() - start)

    def extra(name: str) -> dict[str, Any]:
        details: dict[str, Any] = {
            "sessions": sessions,
            "appends_each": appends,
            "errors": errors.get(name, 0),
            "attempted": attempted.get(name, 0),
            "rounds_cut": cut.get(name, 0),
            "variant": group.spec(name).variant,
        }
        if name in last_error:
            details["last_error"] = last_error[name]
        return details

    timings = await measure(group, "W1c", case_name(sessions), names, run_round, extra=extra)
    for name, timing in timings.items():
        row = group.results.find("W1c", case_name(sessions), name)
        if row is not None:
            row.extra["p99_ms"] = timing.percentile_ms(0.99)
