"""ThreadedGroup: a sync config's group commit for callers on an event loop, whose writer thread takes its
slot's next batch itself."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.group import ThreadedGroup
from sqlspec_adk.engine.loop import run_sync
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt


def _update() -> Op[int]:
    count = yield Stmt("UPDATE t SET n = n + 1", (), Fetch.ROWCOUNT)
    return int(count)


def _refused() -> Op[int]:
    raise ValueError("refused input")
    yield  # a generator


class GatedSyncDriver:
    """Sync driver glue: the first COMMIT waits for ``gate``; records the threads and batches it ran."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.first_commit = threading.Event()  #: set when the first COMMIT started waiting on the gate
        self.commits = 0
        self.statements_per_commit: list[int] = []
        self.threads: set[int] = set()
        self._open: dict[int, int] = {}
        self._connections = 0
        self._lock = threading.Lock()

    def acquire(self, write: bool) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def release(self, connection: int, discard: bool) -> None:
        assert connection not in self._open

    def refresh(self) -> None:
        pass

    def execute(self, connection: int, stmt: Stmt) -> Any:
        self._open[connection] += 1
        return 1

    def command(self, connection: int, sql: str) -> None:
        self.threads.add(threading.get_ident())
        if sql.startswith("BEGIN"):
            self._open[connection] = 0
        elif sql == "COMMIT":
            if self.commits == 0:
                self.first_commit.set()
                assert self.gate.wait(20)
            self.commits += 1
            self.statements_per_commit.append(self._open.pop(connection))
        elif sql == "ROLLBACK":
            self._open.pop(connection, None)

    def in_transaction(self, connection: int) -> bool:
        return connection in self._open

    def classify(self, error: BaseException) -> ErrorKind | None:
        return None


@pytest.fixture
def pool() -> Any:
    executor = ThreadPoolExecutor(4)
    yield executor
    executor.shutdown(wait=True)


def _group(driver: GatedSyncDriver, pool: ThreadPoolExecutor) -> ThreadedGroup:
    return ThreadedGroup(32, SqliteDialect.rules, driver, partial(run_sync, driver), pool.submit)


async def _until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_the_writer_runs_the_next_batch_without_the_event_loop(pool: ThreadPoolExecutor) -> None:
    """While the event loop is blocked, what queued behind a running transaction still commits: the thread
    that ran the transaction takes the next batch itself (an event loop hand-off would wait for the loop)."""
    driver = GatedSyncDriver()
    group = _group(driver, pool)
    first = asyncio.create_task(group.run(Operation("update", _update, True)))
    await _until(driver.first_commit.is_set)
    rest = [asyncio.create_task(group.run(Operation("update", _update, True))) for _ in range(5)]
    await _until(lambda: len(group._current()[0]._waiting) == 5)
    driver.gate.set()
    # Block the event loop (no await) until the queued batch committed on the writer thread.
    for _ in range(2000):
        if driver.commits == 2:
            break
        threading.Event().wait(0.005)
    assert driver.commits == 2, "the next batch waited for the event loop"
    assert await first == 1 and await asyncio.gather(*rest) == [1] * 5
    assert driver.statements_per_commit == [1, 5]  # one lone transaction, then one batch of five
    assert len(driver.threads) == 1 and threading.get_ident() not in driver.threads
    assert (group.stats.transactions, group.stats.operations, group.stats.largest) == (2, 6, 5)


async def test_a_cancelled_caller_in_a_running_batch_leaves_the_others_their_outcomes(pool: ThreadPoolExecutor) -> None:
    driver = GatedSyncDriver()
    group = _group(driver, pool)
    first = asyncio.create_task(group.run(Operation("update", _update, True)))
    await _until(driver.first_commit.is_set)
    queued = [asyncio.create_task(group.run(Operation("update", _update, True))) for _ in range(3)]
    refused = asyncio.create_task(group.run(Operation("update", _refused, True)))
    await _until(lambda: len(group._current()[0]._waiting) == 4)
    queued[0].cancel()  # still waiting: withdrawn, never runs
    first.cancel()  # already running: the caller is cancelled, its transaction runs on
    # cancel() only schedules the CancelledError: the withdrawal happens when the loop runs the task. The
    # writer takes its next batch without the loop, so the gate opens only once the withdrawal is done.
    await _until(lambda: queued[0].done() and first.done())
    assert len(group._current()[0]._waiting) == 3
    driver.gate.set()
    assert await asyncio.gather(*queued[1:]) == [1, 1]
    with pytest.raises(ValueError, match="refused input"):
        await refused
    for task in (first, queued[0]):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert driver.statements_per_commit == [1, 2]  # the cancelled lone write committed; the withdrawn one did not


def test_a_batch_that_ends_after_its_event_loop_closed_is_settled_quietly(pool: ThreadPoolExecutor) -> None:
    driver = GatedSyncDriver()
    group = _group(driver, pool)
    loop = asyncio.new_event_loop()
    task = loop.create_task(group.run(Operation("update", _update, True)))

    async def started() -> None:
        await _until(driver.first_commit.is_set)

    loop.run_until_complete(started())
    task.cancel()
    loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    loop.close()
    driver.gate.set()  # the writer finishes after the loop closed: nothing to wake, nothing raised
    for _ in range(2000):
        if group._queue is not None and group._queue._running == 0:
            break
        threading.Event().wait(0.005)
    assert driver.statements_per_commit == [1]
    assert asyncio.run(group.run(Operation("update", _update, True))) == 1  # a new loop: a queue of its own
