"""Group commit's slots: how many write transactions a group runs at once, and what waits for them."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest

from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.batch import Ticket
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.group import AsyncGroup, GroupStats, _Queue
from sqlspec_adk.engine.loop import run_async
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt


def _update() -> Op[int]:
    count = yield Stmt("UPDATE t SET n = n + 1", (), Fetch.ROWCOUNT)
    return int(count)


def _ticket() -> Ticket[int]:
    return Ticket(Operation("update", _update, True))


def test_a_queue_admits_one_transaction_per_slot_and_a_freed_slot_takes_its_share_of_the_next_batch() -> None:
    queue = _Queue(32, GroupStats(), slots=2)
    assert queue.arrive(_ticket()) and queue.arrive(_ticket())
    waiting = [_ticket() for _ in range(3)]
    assert not any(queue.arrive(ticket) for ticket in waiting)
    assert queue.next_batch() == waiting[:2]  # a freed slot takes ceil(3 / 2), oldest first; the other is busy
    assert queue.next_batch() == waiting[2:]  # the other slot ends and takes what is left
    assert queue.next_batch() is None  # a slot frees
    assert queue.arrive(_ticket())  # ... and is taken again at once
    assert not queue.arrive(_ticket())  # both slots busy again


def test_one_slot_takes_everything_waiting_up_to_the_cap() -> None:
    queue = _Queue(4, GroupStats(), slots=1)
    assert queue.arrive(_ticket())
    waiting = [_ticket() for _ in range(6)]
    assert not any(queue.arrive(ticket) for ticket in waiting)
    assert queue.next_batch() == waiting[:4]
    assert queue.next_batch() == waiting[4:]
    assert queue.next_batch() is None


def test_many_slots_share_a_long_queue_evenly() -> None:
    """Five slots, 27 waiting: each slot that ends takes its share of what still waits, never the lot."""
    queue = _Queue(32, GroupStats(), slots=5)
    assert all(queue.arrive(_ticket()) for _ in range(5))
    assert not any(queue.arrive(_ticket()) for _ in range(27))
    sizes = [len(queue.next_batch() or []) for _ in range(7)]
    assert sizes == [6, 5, 4, 3, 2, 2, 1]  # ceil(27/5), ceil(21/5), ... while the slots keep ending
    assert sum(sizes) + len(queue._waiting) == 27


class GatedDriver:
    """Async driver glue whose COMMITs wait for ``gate``; records how many transactions were open at once."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.most_open = 0
        self.connections = 0
        self.gate = asyncio.Event()

    async def acquire(self, write: bool) -> int:
        self.connections += 1
        return self.connections

    async def release(self, connection: int, discard: bool) -> None:
        assert connection not in self.open

    async def refresh(self) -> None:
        pass

    async def execute(self, connection: int, stmt: Stmt) -> Any:
        assert connection in self.open
        return 1

    async def command(self, connection: int, sql: str) -> None:
        if sql == "BEGIN IMMEDIATE" or sql == "BEGIN":
            self.open.add(connection)
            self.most_open = max(self.most_open, len(self.open))
        elif sql == "COMMIT":
            await self.gate.wait()
            self.open.discard(connection)
        elif sql == "ROLLBACK":
            self.open.discard(connection)

    def in_transaction(self, connection: int) -> bool:
        return connection in self.open

    def classify(self, error: BaseException) -> ErrorKind | None:
        return None


@pytest.mark.parametrize("slots", [1, 2, 3])
async def test_an_async_group_runs_at_most_its_slots_transactions_at_once(slots: int) -> None:
    driver = GatedDriver()
    group = AsyncGroup(32, SqliteDialect.rules, driver, partial(run_async, driver), slots)
    calls = [asyncio.create_task(group.run(Operation("update", _update, True))) for _ in range(10)]
    for _ in range(1000):  # the first ``slots`` run alone, the rest wait
        if len(group._current()[0]._waiting) == 10 - slots:
            break
        await asyncio.sleep(0)
    assert len(group._current()[0]._waiting) == 10 - slots
    assert driver.most_open == slots
    driver.gate.set()
    assert await asyncio.gather(*calls) == [1] * 10
    assert driver.most_open == slots
    # Each transaction that ends takes its slot's share of what waits: ceil(waiting / slots).
    shares, waiting = [], 10 - slots
    while waiting:
        shares.append(-(-waiting // slots))
        waiting -= shares[-1]
    assert (group.stats.transactions, group.stats.largest) == (slots + len(shares), shares[0])
    assert not driver.open
