"""``aiosqlite`` connection glue: a writer connection and a small pool; each plan runs whole in one thread.

aiosqlite gives every connection a thread of its own. The engine's sync plan
runs there in one call (one thread hop per operation, not one per
statement), through ``Connection._execute`` and the raw ``Connection._conn``:
aiosqlite has no public way to run a function in its thread. Both are private
but present since 0.11 (tested with 0.22.1); ``tests/sqlite`` fails loudly if
they go away. A file database's writes run in the writer connection's thread
(its queue orders them), under the file's process-wide write lock, taken
there (:class:`~sqlspec_adk.adapters._sqlite.WriteLock`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from functools import cached_property, partial
from typing import Any, TypeVar

import aiosqlite

from sqlspec_adk.adapters._sqlite import (
    StdlibGlue,
    WriteLock,
    connect_arguments,
    connection_pragmas,
    is_memory_database,
    set_up_async,
    write_lock,
)
from sqlspec_adk.config import AsyncDatabaseConfig
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.group import AsyncGroup
from sqlspec_adk.engine.loop import run_sync
from sqlspec_adk.engine.tracing import traced
from sqlspec_adk.engine.transaction import Plan, transaction
from sqlspec_adk.protocol import Operation

__all__ = ["AiosqliteConfig"]

T = TypeVar("T")


class _Held(StdlibGlue):
    """The sync driver over the one connection a plan holds, inside that connection's thread."""

    def __init__(self, connection: sqlite3.Connection, lock: WriteLock | None, timeout: float) -> None:
        self.connection, self.discarded = connection, False
        self.lock, self.timeout, self.locked = lock, timeout, False

    def acquire(self, write: bool) -> sqlite3.Connection:
        if write and self.lock is not None:
            self.lock.take(self.timeout)
            self.locked = True
        return self.connection

    def release(self, connection: sqlite3.Connection, discard: bool) -> None:
        self.discarded = self.discarded or discard
        if self.locked and self.lock is not None:
            self.locked = False
            self.lock.give()

    def refresh(self) -> None:
        """Nothing to drop: a SQLite connection does not die on its own."""


class AiosqliteConfig(StdlibGlue, AsyncDatabaseConfig):
    """Config for ``aiosqlite``: ``connection_config`` and ``pool_config`` as for the ``sqlite`` adapter."""

    dialect_class = SqliteDialect

    def configure(self) -> None:
        self.check_pool_keys(("max_size",), location="database")
        self.database, self._connect_kwargs = connect_arguments(self.connection_config, self.adk.busy_timeout)
        self.max_size = 1 if is_memory_database(self.database) else int(self.pool_config.get("max_size", 4))
        self._write_lock = write_lock(self.database)
        self._own_writer = self._write_lock is not None and self.max_size > 1
        self._idle: list[aiosqlite.Connection] = []
        self._open: set[aiosqlite.Connection] = set()
        self._writer: aiosqlite.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _guards(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        """The readers' slots and the writer's opening lock, of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._slots, self._opening, self._loop = (
                asyncio.Semaphore(self.max_size - self._own_writer),
                asyncio.Lock(),
                loop,
            )
        return self._slots, self._opening

    async def _connect(self) -> aiosqlite.Connection:
        self.claim_file()
        connection = aiosqlite.connect(self.database, **self._connect_kwargs)
        connection._thread.daemon = True  # a forgotten close_pool must not keep the interpreter alive at exit
        await connection
        for pragma in connection_pragmas(self.database, self.adk.busy_timeout, self.adk.backend.sqlite):
            await set_up_async(partial(connection.execute, pragma), self.adk.busy_timeout)
        self._open.add(connection)
        return connection

    async def arun(self, operation: Operation[T]) -> T:
        with traced(operation, self.dialect.db_system) as on_retry:
            group = self.group_commit
            if group is not None and operation.write:
                return await group.run(operation, on_retry)
            result: T = await self._execute(transaction(operation, self.dialect.rules, self, on_retry), operation.write)
            return result

    @cached_property
    def group_commit(self) -> AsyncGroup | None:
        """The group commit of this config's writes (its ``stats`` say what it ran), None when off."""
        if not self.group_commit_cap:
            return None
        return AsyncGroup(self.group_commit_cap, self.dialect.rules, self, self._execute)

    async def _execute(self, plan: Plan[Any], write: bool = True) -> Any:
        """Run ``plan`` whole in one connection's thread: the writer's for a write, else a pooled one's."""
        slots, opening = self._guards()
        if write and self._own_writer:
            async with opening:
                if self._writer is None:
                    self._writer = await self._connect()
                connection = self._writer
            pooled = None
        else:
            await slots.acquire()
            try:
                connection = self._idle.pop() if self._idle else await self._connect()
            except BaseException:
                slots.release()
                raise
            pooled = slots
        held = _Held(connection._conn, self._write_lock, self.adk.busy_timeout)
        execute: Callable[..., Awaitable[Any]] = connection._execute
        work = asyncio.ensure_future(execute(run_sync, held, plan))
        work.add_done_callback(lambda done: self._settle(done, connection, held, pooled))
        # A cancelled caller does not cut the transaction short: it ends (commits or rolls back) in the
        # thread, and only then does the connection go back to the pool.
        return await asyncio.shield(work)

    def _settle(
        self, done: asyncio.Future[Any], connection: aiosqlite.Connection, held: _Held, slots: asyncio.Semaphore | None
    ) -> None:
        if not done.cancelled():
            done.exception()  # retrieved here too, in case the caller was cancelled and never awaits it
        if connection not in self._open:
            pass  # close_pool ran meanwhile and closed it
        elif held.discarded:  # even the rollback failed: the connection is unusable
            self._open.discard(connection)
            if connection is self._writer:
                self._writer = None
            connection.stop()  # closes it in its own thread, after anything still queued there
        elif slots is not None:
            self._idle.append(connection)
        if slots is not None:
            slots.release()

    async def close_pool(self) -> None:
        connections, self._open, self._idle, self._writer = list(self._open), set(), [], None
        for connection in connections:
            await connection.close()
        self.release_file()
