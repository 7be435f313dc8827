"""W7 (scale): the same operations on a store at today's sizes and on one a hundred times larger.

Per family, one adapter (:data:`~benchmarks.contenders.scale.SCALE_ADAPTERS`)
gets two stores (:func:`~benchmarks.contenders.scale.layout`): ``base`` (today's
sizes: 20,000 memory entries over 20 users, 10,000 sessions of which 100 hold
100 events each) and ``large`` (1,000,000 memory entries over 1,000 users,
100,000 sessions of which 10,000 hold 100 events each: 1,000,000 events). Each
measurement runs on both, their rounds interleaved, and is reported as the
large store's cost over the base store's (the goal: at most 2x):

- memory search p50 and p90 for one user (the frequent-word and keyword
  questions; recall@5 beside);
- ``get_session(num_recent_events=20)`` on sessions holding 100 events;
- ``list_sessions_page`` of the app (100 per page): the first page and the last
  one (its token found by walking every page, untimed);
- ``append_event`` to those sessions;
- ingest: memory rows/s through ``add_memory_entries`` into the loaded store
  (40 batches of 500 entries spread over every user, as they arrive live, after
  the bulk load was checkpointed on SQLite) and
  events/s of the bulk session load (the bulk memory load is reported too,
  without a goal: it runs user by user);
- retention, once each, last: the oldest 10% of events, of sessions and of
  memory entries (cost per deleted row).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from benchmarks.contenders.scale import OursScale
from benchmarks.group import Group
from benchmarks.memory_corpus import load_questions
from benchmarks.timing import Batch, Timing, timed_batch
from benchmarks.workloads.common import measure

__all__ = ["run_scale"]

TOP = 5
Scales = Group[OursScale]


async def run_scale(group: Scales) -> None:
    facts = load_questions(("keyword", "frequent"))
    sizes = group.sizes
    ingest_memory: dict[str, list[tuple[int, int]]] = {}
    ingest_events: dict[str, list[tuple[int, int]]] = {}
    for name, contender in list(group.live.items()):
        memory_batches: list[tuple[int, int]] = []
        event_chunks: list[tuple[int, int]] = []
        shape = contender.shape
        print(
            f"  seeding {group.spec(name).label} {contender.scale}: {shape.memory:,} memory entries, "
            f"{shape.sessions:,} sessions, {shape.events:,} events",
            flush=True,
        )
        started = time.perf_counter()
        try:
            await contender.seed_memory(facts, partial(_record, memory_batches))
            await contender.seed_sessions(partial(_record, event_chunks))
            step = await contender.settle()
        except Exception as error:
            group.results.note(f"W7 seeding: {group.spec(name).label} {contender.scale} failed ({error}); left out")
            del group.live[name]
            continue
        if step:
            group.results.note(f"W7: {group.spec(name).label} {contender.scale} ran {step} after the bulk load")
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        ingest_memory[name], ingest_events[name] = memory_batches, event_chunks
    names = group.names
    if not names:
        return

    for name in names:
        _add_rows(group, name, "bulk load: memory entries", ingest_memory[name])
        _add_rows(group, name, "ingest: events (bulk)", ingest_events[name])
    # Live ingest into the loaded stores, interleaved: batches of 500 entries spread over every user.
    live: dict[str, list[tuple[int, int]]] = {name: [] for name in names}
    for number in range(max(4, sizes.scale_ops // 5)):
        for name in names:
            await group.live[name].ingest_live(1, 500, partial(_record, live[name]), start=number)
    for name in names:
        _add_rows(group, name, "ingest: memory entries", live[name])

    await _search(group, names, facts)
    await _rounds(group, names, "get_session(num_recent_events=20)", sizes.scale_ops, lambda c, i: c.get(i))
    await _rounds(
        group, names, "list_sessions_page, first page", max(1, sizes.scale_ops // 10), lambda c, i: c.page(None)
    )
    tokens: dict[str, str | None] = {}
    for name in names:
        try:
            tokens[name], group.live[name].pages = await group.live[name].last_page_token()
        except Exception as error:
            group.results.note(f"W7: {group.spec(name).label} could not walk to the last page ({error})")
    await _rounds(
        group,
        [name for name in names if name in tokens],
        "list_sessions_page, last page",
        max(1, sizes.scale_ops // 10),
        lambda c, i: c.page(tokens[c.spec.name]),
        extra=lambda name: {"pages": group.live[name].pages},
    )
    await _appends(group, names, sizes.scale_ops)
    for case, action in (
        ("retention: 10% of events", OursScale.delete_events),
        ("retention: 10% of sessions", OursScale.delete_sessions),
        ("retention: 10% of memory", OursScale.delete_memory),
    ):
        for name in names:
            contender = group.live[name]
            start = time.perf_counter_ns()
            try:
                deleted = await action(contender)
            except Exception as error:
                group.results.note(f"W7 {case}: {group.spec(name).label} {contender.scale} failed ({error})")
                continue
            elapsed = time.perf_counter_ns() - start
            _add(group, name, case, Timing([Batch([elapsed], elapsed)]), rows=deleted)


def _record(into: list[tuple[int, int]], rows: int, ns: int) -> None:
    into.append((rows, ns))


def _common(group: Scales, name: str) -> dict[str, Any]:
    contender = group.live[name]
    shape = contender.shape
    return {
        "scale": contender.scale,
        "memory_entries": shape.memory,
        "sessions": shape.sessions,
        "events": shape.events,
    }


def _add(group: Scales, name: str, case: str, timing: Timing, rows: int | None = None, **extra: Any) -> None:
    details = {**_common(group, name), **extra}
    if rows is not None:
        seconds = sum(batch.wall_ns for batch in timing.batches) / 1e9
        details["rows"] = rows
        details["rows_per_s"] = rows / seconds if seconds else None
        details["ms_per_row"] = seconds * 1000 / rows if rows else None
    row = group.results.add("W7", case, group.spec(name), timing, None, **details)
    figure = f"{row.median_ms:9.3f} ms"
    if rows is not None and details.get("rows_per_s"):
        figure += f"  {rows:,} rows, {details['rows_per_s']:,.0f} rows/s"
    print(f"  W7 {case:<36} {row.label} {details['scale']:<5} {figure}", flush=True)


def _add_rows(group: Scales, name: str, case: str, batches: list[tuple[int, int]]) -> None:
    if not batches:
        return
    timing = Timing([Batch([ns], ns) for _, ns in batches])
    _add(group, name, case, timing, rows=sum(rows for rows, _ in batches), batches=len(batches))


async def _search(group: Scales, names: list[str], facts: list[Any]) -> None:
    texts = [question.question for question in facts]
    hits: dict[str, int] = {}
    for name in names:
        contender = group.live[name]
        found = 0
        for question in facts:
            found += question.fact in (await contender.search(question.question))[:TOP]
        hits[name] = found

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        return await timed_batch(len(texts), lambda i: contender.search(texts[i]))

    def extra(name: str) -> dict[str, Any]:
        return {**_common(group, name), "recall_at_5": hits[name] / len(facts), "questions": len(facts)}

    timings = await measure(group, "W7", "memory search, one user", names, run_round, extra=extra)
    for name, timing in timings.items():
        group.results.add("W7", "memory search p90, one user", group.spec(name), timing, None, **extra(name))


async def _rounds(
    group: Scales, names: list[str], case: str, count: int, action: Any, extra: Any = None
) -> dict[str, Timing]:
    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        return await timed_batch(count, lambda i: action(contender, number * count + i))

    def details(name: str) -> dict[str, Any]:
        return {**_common(group, name), **(extra(name) if extra else {})}

    return await measure(group, "W7", case, names, run_round, extra=details)


async def _appends(group: Scales, names: list[str], count: int) -> None:
    sessions: dict[str, list[Any]] = {}
    for name in names:
        contender = group.live[name]
        sessions[name] = [await contender.get(k * 97) for k in range(min(count, contender.shape.event_sessions))]

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        handles = sessions[name]

        async def append(index: int) -> None:
            slot = index % len(handles)
            handles[slot] = await contender.append(handles[slot], number * count + index)

        return await timed_batch(count, append)

    await measure(group, "W7", "append_event", names, run_round, extra=lambda name: _common(group, name))
