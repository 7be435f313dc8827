"""Group commit: write operations arriving while a write transaction is in flight run together in the next one.

A config with group commit on hands each batchable write operation (see
:func:`batchable`) to its :class:`SyncGroup` (threads) or :class:`AsyncGroup`
(tasks). The policy is one, :class:`_Queue`, and the transaction is one plan,
:func:`~sqlspec_adk.engine.batch.batch_transaction`; the two front ends only
differ in how a caller waits.

- A group runs at most ``slots`` write transactions at once: one where the
  database has one writer (a file), up to the pool's connections on a server,
  whose concurrent transactions overlap their round trips.
- No timer: with a slot free, an operation runs at once, alone, exactly as
  without group commit (same plan, same latency).
- Otherwise it waits in the queue. When a transaction in flight ends, its
  slot's share of the waiting operations (any session, oldest first,
  ``ceil(waiting / slots)``, at most ``cap``: all of them with one slot) run
  together in the next transaction, in the slot it freed; each caller gets its
  own outcome once that transaction committed (or failed).
- Who runs a batch: on threads, the first waiter of the batch (its own
  operation is in it); on an event loop, a task of its own, so no caller's
  cancellation can cut a batch short; for a sync config called from an event
  loop (:class:`ThreadedGroup`), a worker thread, which goes on to its slot's
  next batches while the loop resumes the callers of the last one.
- Cancellation (a task cancelled, an interrupt on a thread): a caller still
  waiting in the queue is withdrawn, its operation never runs. A caller whose
  operation was already taken into a batch gets the cancellation at once, but
  the batch runs on for the others: its operation commits with the batch (or
  fails with it) as if the caller had stayed. As without group commit, a
  cancelled write may therefore have been written.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlspec_adk.engine.batch import Ticket, batch_transaction
from sqlspec_adk.engine.transaction import Inspector, Plan, transaction
from sqlspec_adk.protocol import Operation, TransactionRules

__all__ = ["AsyncGroup", "GroupCommitInterrupted", "GroupStats", "SyncGroup", "ThreadedGroup", "batchable"]

T = TypeVar("T")


class GroupCommitInterrupted(RuntimeError):
    """The batch an operation ran in was interrupted (its runner cancelled): the outcome is unknown."""


@dataclass(slots=True)
class GroupStats:
    """What a group has run: transactions, the operations in them, the largest batch."""

    transactions: int = 0
    operations: int = 0
    largest: int = 0


def batchable(operation: Operation[Any], rules: TransactionRules, kinds: dict[str, bool]) -> bool:
    """Whether ``operation`` may share a transaction: a write, on a pooled connection, whose first statement
    is neither DDL (``exists_ok``: MySQL and Oracle commit implicitly at DDL) nor a lone autocommit
    statement (``alone``). Reads keep the pool; ``own_connection`` closes its connection.

    The first statement is looked at once per operation name (``kinds`` remembers it): an operation
    kind's first statement is of one sort.
    """
    if not operation.write or operation.own_connection:
        return False
    known = kinds.get(operation.name)
    if known is not None:
        return known
    op = operation.build()  # a fresh copy, only to look at its first statement
    try:
        first = next(op)
    except StopIteration:
        return True  # nothing to run; not remembered, the next one may run something
    finally:
        op.close()
    kinds[operation.name] = result = not first.exists_ok and not (first.alone and rules.alone_autocommit)
    return result


class _Queue:
    """How many write transactions are in flight (at most ``slots``), and the tickets waiting for one
    (thread-safe, never waits)."""

    def __init__(self, cap: int, stats: GroupStats, slots: int = 1) -> None:
        self.cap, self.stats, self.slots = cap, stats, slots
        self._lock = threading.Lock()
        self._waiting: deque[Ticket[Any]] = deque()
        self._running = 0

    def arrive(self, ticket: Ticket[Any]) -> bool:
        """True: a slot is free, the caller runs its operation now, alone; False: it waits in the queue."""
        with self._lock:
            if self._running >= self.slots:
                self._waiting.append(ticket)
                return False
            self._running += 1
            self._count(1)
            return True

    def next_batch(self) -> list[Ticket[Any]] | None:
        """A transaction in flight ended: the next batch for its slot (oldest first), or None (the slot is free).

        A batch takes its slot's share of the waiting tickets, ``ceil(waiting / slots)``, at most ``cap``:
        the other slots are busy and take theirs as they end. Taking them all (a batch of 27 on one of 5
        connections at 32 sessions) left the other connections idle while its members ran one after another.
        """
        with self._lock:
            waiting = len(self._waiting)
            if not waiting:
                self._running -= 1
                return None
            share = -(-waiting // self.slots)
            batch = [self._waiting.popleft() for _ in range(min(self.cap, share))]
            self._count(len(batch))
            return batch

    def withdraw(self, ticket: Ticket[Any]) -> bool:
        """Take a waiting ticket out of the queue; False when a batch already took it."""
        with self._lock:
            try:
                self._waiting.remove(ticket)
            except ValueError:
                return False
            return True

    def abandon(self) -> list[Ticket[Any]]:
        """Every waiting ticket, the queue left idle (its runners are gone: the event loop is shutting down)."""
        with self._lock:
            waiting, self._waiting, self._running = list(self._waiting), deque(), 0
            return waiting

    def _count(self, size: int) -> None:
        self.stats.transactions += 1
        self.stats.operations += size
        self.stats.largest = max(self.stats.largest, size)


def _interrupted(batch: list[Ticket[Any]]) -> None:
    """Settle what an interrupted batch left undecided."""
    for ticket in batch:
        if not ticket.done:
            ticket.settle(error=GroupCommitInterrupted("sqlspec-adk: the group commit batch was interrupted"))


class SyncGroup:
    """Group commit for a sync config: callers are threads; ``execute`` runs a plan on the config's driver."""

    def __init__(
        self,
        cap: int,
        rules: TransactionRules,
        driver: Inspector,
        execute: Callable[[Plan[Any]], Any],
        slots: int = 1,
    ) -> None:
        self.cap, self.rules, self.driver, self.execute, self.slots = cap, rules, driver, execute, slots
        self.stats = GroupStats()
        self._queue = _Queue(cap, self.stats, slots)
        self._kinds: dict[str, bool] = {}  #: operation name -> batchable

    def run(self, operation: Operation[T], on_retry: Callable[[int, Exception], None] | None = None) -> T:
        """Run a write operation, alone at once or in the next batch; its result, or its error raised."""
        if not batchable(operation, self.rules, self._kinds):
            return self._alone(operation, on_retry)
        ticket: Ticket[T] = Ticket(operation, on_retry, waiter=threading.Event())
        if self._queue.arrive(ticket):
            try:
                return self._alone(operation, on_retry)
            finally:
                self._hand_off()
        try:
            ticket.waiter.wait()
        except BaseException:
            if self._queue.withdraw(ticket):
                raise
            # Already in a batch: it may be handed to this thread to run, so the others are not stranded.
            while not ticket.waiter.wait(1.0):
                pass
            if ticket.handed is not None:
                self._lead(ticket.handed)
            raise
        if ticket.handed is not None:
            self._lead(ticket.handed)
        return ticket.outcome()

    def _alone(self, operation: Operation[T], on_retry: Callable[[int, Exception], None] | None) -> T:
        result: T = self.execute(transaction(operation, self.rules, self.driver, on_retry))
        return result

    def _lead(self, batch: list[Ticket[Any]]) -> None:
        try:
            self.execute(batch_transaction(batch, self.rules, self.driver))
        finally:
            _interrupted(batch)
            for ticket in batch[1:]:  # batch[0] is this thread's own ticket
                ticket.waiter.set()
            self._hand_off()

    def _hand_off(self) -> None:
        batch = self._queue.next_batch()
        if batch is not None:
            batch[0].handed = batch
            batch[0].waiter.set()


class AsyncGroup:
    """Group commit for an async config: callers are tasks; ``execute`` awaits a plan on the config's driver."""

    def __init__(
        self,
        cap: int,
        rules: TransactionRules,
        driver: Inspector,
        execute: Callable[[Plan[Any]], Awaitable[Any]],
        slots: int = 1,
    ) -> None:
        self.cap, self.rules, self.driver, self.execute, self.slots = cap, rules, driver, execute, slots
        self.stats = GroupStats()
        self._kinds: dict[str, bool] = {}  #: operation name -> batchable
        self._queue: _Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _current(self) -> tuple[_Queue, asyncio.AbstractEventLoop]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:  # a queue's runners belong to one event loop
            self._queue, self._loop = _Queue(self.cap, self.stats, self.slots), loop
        return self._queue, loop

    async def run(self, operation: Operation[T], on_retry: Callable[[int, Exception], None] | None = None) -> T:
        """Run a write operation, alone at once or in the next batch; its result, or its error raised."""
        if not batchable(operation, self.rules, self._kinds):
            return await self._alone(operation, on_retry)
        queue, loop = self._current()
        ticket: Ticket[T] = Ticket(operation, on_retry)
        if queue.arrive(ticket):
            return await self._first(queue, loop, ticket)
        waiter: asyncio.Future[None] = loop.create_future()
        ticket.waiter = waiter
        try:
            await waiter  # only this caller awaits it: a cancelled waiter is skipped when its batch settles
        except asyncio.CancelledError:
            queue.withdraw(ticket)  # still waiting: it never runs; else its batch runs on without this caller
            raise
        return ticket.outcome()

    async def _alone(self, operation: Operation[T], on_retry: Callable[[int, Exception], None] | None) -> T:
        result: T = await self.execute(transaction(operation, self.rules, self.driver, on_retry))
        return result

    async def _first(self, queue: _Queue, loop: asyncio.AbstractEventLoop, ticket: Ticket[T]) -> T:
        """The caller whose arrival found a slot free: its operation runs now, alone, then the slot's next batch."""
        try:
            return await self._alone(ticket.operation, ticket.on_retry)
        finally:
            self._hand_off(queue, loop)

    def _hand_off(self, queue: _Queue, loop: asyncio.AbstractEventLoop) -> None:
        batch = queue.next_batch()
        if batch is not None:
            task = loop.create_task(self._batch(queue, loop, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _batch(self, queue: _Queue, loop: asyncio.AbstractEventLoop, batch: list[Ticket[Any]]) -> None:
        cancelled = False
        try:
            await self.execute(batch_transaction(batch, self.rules, self.driver))
        except asyncio.CancelledError:
            cancelled = True  # the loop is shutting down: nothing runs after this batch
            raise
        finally:
            left = queue.abandon() if cancelled else []
            _interrupted(batch + left)
            if not cancelled:
                # The next batch's task is scheduled ahead of this batch's callers: its transaction gets
                # under way while they run on to their next write (on a thread, or on the server).
                self._hand_off(queue, loop)
            for ticket in batch + left:
                if not ticket.waiter.done():
                    ticket.waiter.set_result(None)


class ThreadedGroup(AsyncGroup):
    """Group commit for a sync config called from an event loop: callers wait as tasks, each transaction runs
    whole on a worker thread, and that thread, once its transaction ended, takes its slot's next batch
    itself (``execute`` runs a plan on the calling thread; ``submit`` starts a call on a worker thread).

    Handed back through the event loop, the next batch waited behind every caller the loop was resuming
    (and a task and a thread hop per batch). Here the writer goes on with whoever queued meanwhile.
    Under CPython's GIL a busy event loop still delays the writer each time it takes the GIL back from a
    driver call, so at 32 sessions on one slot batches still alternate about 31 and 1 members.
    """

    def __init__(
        self,
        cap: int,
        rules: TransactionRules,
        driver: Inspector,
        execute: Callable[[Plan[Any]], Any],
        submit: Callable[..., Future[Any]],
        slots: int = 1,
    ) -> None:
        super().__init__(cap, rules, driver, self._on_thread, slots)
        self.run_plan, self.submit = execute, submit

    async def _on_thread(self, plan: Plan[Any]) -> Any:
        """A transaction that shares no batch (not batchable): on a worker thread, awaited."""
        return await asyncio.wrap_future(self.submit(contextvars.copy_context().run, self.run_plan, plan))

    async def _first(self, queue: _Queue, loop: asyncio.AbstractEventLoop, ticket: Ticket[T]) -> T:
        # A batch of one is the lone transaction itself (batch_transaction): the same plan and statements.
        waiter: asyncio.Future[None] = loop.create_future()
        ticket.waiter = waiter
        self._start(queue, loop, [ticket])
        await waiter  # cancelled: its transaction runs on without this caller, as a taken batch member's does
        return ticket.outcome()

    def _hand_off(self, queue: _Queue, loop: asyncio.AbstractEventLoop) -> None:
        batch = queue.next_batch()
        if batch is not None:
            self._start(queue, loop, batch)

    def _start(self, queue: _Queue, loop: asyncio.AbstractEventLoop, batch: list[Ticket[Any]]) -> None:
        context = contextvars.copy_context()
        self.submit(context.run, self._drain, queue, loop, batch)

    def _drain(self, queue: _Queue, loop: asyncio.AbstractEventLoop, batch: list[Ticket[Any]] | None) -> None:
        """On a worker thread: run ``batch``, then each next batch of this slot, until none waits."""
        while batch is not None:
            try:
                self.run_plan(batch_transaction(batch, self.rules, self.driver))
            except Exception as error:  # a plan settles every ticket; a defect still reaches each caller
                for ticket in batch:
                    if not ticket.done:
                        ticket.settle(error=error)
            finally:
                _interrupted(batch)
            following = queue.next_batch()  # taken before these callers wake, as AsyncGroup._batch does
            with contextlib.suppress(RuntimeError):  # the event loop is closed: no caller waits any more
                loop.call_soon_threadsafe(_wake, batch)
            batch = following


def _wake(batch: list[Ticket[Any]]) -> None:
    """On the event loop: every caller of a settled batch that still waits goes on."""
    for ticket in batch:
        if not ticket.waiter.done():
            ticket.waiter.set_result(None)
