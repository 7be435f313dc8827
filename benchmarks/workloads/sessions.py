"""W1 to W4: append_event, get_session, list_sessions and create_session.

- W1 append: sequential appends on one session from an empty history, the
  same at the deepest history of W2, and (server databases) appends to 32
  sessions at once.
- W2 get: ``get_session(num_recent_events=20)`` at each history length.
- W3 list: the first page and the whole list of one user with many sessions.
- W4 create: ``create_session`` with a small state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.contenders.base import SessionContender
from benchmarks.events import make_event, make_history, session_state
from benchmarks.group import Group
from benchmarks.timing import Batch, timed_batch, timed_concurrent
from benchmarks.workloads.common import measure

__all__ = ["run_sessions"]

APPEND_USER = "u-append"
GET_USER = "u-get"
LIST_USER = "u-list"
CREATE_USER = "u-create"

Sessions = Group[SessionContender]


async def run_sessions(group: Sessions, *, concurrent: bool) -> None:
    """Every session workload on every live contender of the group."""
    await w4_create(group)
    await w1_append(group)
    await w2_get(group)
    await w1_append_deep(group)
    if concurrent:
        await w1_concurrent(group)
    await w3_list(group)


# ------------------------------------------------------------------ W4 create
async def w4_create(group: Sessions) -> None:
    size = group.sizes.creates
    counts = {
        name: await group.count(
            name,
            _nothing,
            lambda c, _, i: c.create(CREATE_USER, f"count-{i}", session_state(i)),
        )
        for name in group.names
    }

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        return await timed_batch(size, lambda i: contender.create(CREATE_USER, f"r{number}-{i}", session_state(i)))

    await measure(group, "W4", "create_session", group.names, run_round, counts)


# ------------------------------------------------------------------ W1 append
async def w1_append(group: Sessions) -> None:
    size = group.sizes.appends
    handles: dict[str, Any] = {}
    for name, contender in group.live.items():
        handles[name] = await contender.create(APPEND_USER, "w1", session_state(0))
    counts = {name: await group.count(name, _fresh_session("count-w1"), _append) for name in group.names}

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]

        async def append(index: int) -> None:
            handles[name] = await contender.append(
                handles[name], make_event(number * size + index, invocation_id=f"r{number}")
            )

        return await timed_batch(size, append)

    await measure(group, "W1", "append, new session", group.names, run_round, counts)


async def w1_append_deep(group: Sessions) -> None:
    size = group.sizes.appends
    depth = group.sizes.histories[-1]
    handles: dict[str, Any] = {}
    for name, contender in group.live.items():
        handles[name] = await contender.get(GET_USER, f"h-{depth}", group.sizes.recent_events)

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]

        async def append(index: int) -> None:
            handles[name] = await contender.append(
                handles[name], make_event(number * size + index, invocation_id=f"deep{number}")
            )

        return await timed_batch(size, append)

    await measure(group, "W1", f"append, {depth:,} history", group.names, run_round)


async def w1_concurrent(group: Sessions) -> None:
    workers = group.sizes.concurrent_sessions
    size = group.sizes.concurrent_appends
    names = [name for name in group.names if group.spec(name).concurrent]
    handles: dict[str, list[Any]] = {}
    for name in names:
        contender = group.live[name]
        handles[name] = [await contender.create(APPEND_USER, f"w1c-{k}", session_state(k)) for k in range(workers)]

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]

        async def append(worker: int, index: int) -> None:
            handles[name][worker] = await contender.append(
                handles[name][worker], make_event(number * size + index, invocation_id=f"c{number}")
            )

        return await timed_concurrent(workers, size, append)

    await measure(group, "W1", f"append, {workers} sessions at once", names, run_round)


# --------------------------------------------------------------------- W2 get
async def w2_get(group: Sessions) -> None:
    recent = group.sizes.recent_events
    for depth in group.sizes.histories:
        history = make_history(depth)
        for name, contender in list(group.live.items()):
            try:
                await contender.seed_history(GET_USER, f"h-{depth}", history)
            except Exception as error:
                group.results.note(f"W2 seeding {depth}: {group.spec(name).label} failed ({error}); left out")
                del group.live[name]
    for depth in group.sizes.histories:
        session_id = f"h-{depth}"

        async def get(contender: SessionContender, context: Any, index: int, session_id: str = session_id) -> Any:
            return await contender.get(GET_USER, session_id, recent)

        counts = {name: await group.count(name, _nothing, get) for name in group.names}

        async def run_round(name: str, number: int, session_id: str = session_id) -> Batch:
            contender = group.live[name]
            return await timed_batch(group.sizes.gets, lambda i: contender.get(GET_USER, session_id, recent))

        await measure(group, "W2", f"get, {depth:,} history", group.names, run_round, counts)


# -------------------------------------------------------------------- W3 list
async def w3_list(group: Sessions) -> None:
    total = group.sizes.sessions
    page = group.sizes.page_size
    for name, contender in list(group.live.items()):
        try:
            await contender.seed_sessions(LIST_USER, total)
        except Exception as error:
            group.results.note(f"W3 seeding: {group.spec(name).label} failed ({error}); left out")
            del group.live[name]

    await _w3_case(group, f"list first {page} of {total:,}", lambda c: c.list_page(LIST_USER, page))
    await _w3_case(group, f"list all {total:,}", lambda c: c.list_all(LIST_USER))


async def _w3_case(group: Sessions, case: str, call: Callable[[SessionContender], Awaitable[int]]) -> None:
    counts = {name: await group.count(name, _nothing, lambda c, _, i: call(c)) for name in group.names}
    returned: dict[str, int] = {}

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]

        async def once(index: int) -> None:
            returned[name] = await call(contender)

        return await timed_batch(group.sizes.lists, once)

    await measure(
        group,
        "W3",
        case,
        group.names,
        run_round,
        counts,
        extra=lambda name: {"returned": returned.get(name), "paged": group.live[name].paged},
    )


# -------------------------------------------------------------------- helpers
async def _nothing(contender: SessionContender) -> None:
    return None


def _fresh_session(session_id: str) -> Any:
    async def prepare(contender: SessionContender) -> list[Any]:
        return [await contender.create(APPEND_USER, session_id, session_state(0))]

    return prepare


async def _append(contender: SessionContender, holder: list[Any], index: int) -> None:
    holder[0] = await contender.append(holder[0], make_event(index, invocation_id="count"))
