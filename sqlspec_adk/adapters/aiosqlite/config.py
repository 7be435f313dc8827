"""``aiosqlite`` connection glue: a small pool; each transaction runs whole in its connection's thread.

aiosqlite gives every connection a thread of its own. The engine's sync plan
runs there in one call (one thread hop per operation, not one per
statement), through ``Connection._execute`` and the raw ``Connection._conn``:
aiosqlite has no public way to run a function in its thread. Both are private
but present since 0.11 (tested with 0.22.1); ``tests/sqlite`` fails loudly if
they go away.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiosqlite

from sqlspec_adk.adapters._sqlite import StdlibGlue, connect_arguments, connection_pragmas, is_memory_database
from sqlspec_adk.config import AsyncDatabaseConfig
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.loop import run_sync
from sqlspec_adk.engine.tracing import traced
from sqlspec_adk.engine.transaction import transaction
from sqlspec_adk.protocol import Operation

__all__ = ["AiosqliteConfig"]

T = TypeVar("T")


class _Held(StdlibGlue):
    """The sync driver over the one connection a transaction holds, inside that connection's thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection, self.discarded = connection, False

    def acquire(self, write: bool) -> sqlite3.Connection:
        return self.connection

    def release(self, connection: sqlite3.Connection, discard: bool) -> None:
        self.discarded = self.discarded or discard

    def refresh(self) -> None:
        """Nothing to drop: a SQLite connection does not die on its own."""


class AiosqliteConfig(StdlibGlue, AsyncDatabaseConfig):
    """Config for ``aiosqlite``: ``connection_config`` and ``pool_config`` as for the ``sqlite`` adapter."""

    dialect_class = SqliteDialect

    def configure(self) -> None:
        self.database, self._connect_kwargs = connect_arguments(self.connection_config, self.adk.busy_timeout)
        self.max_size = 1 if is_memory_database(self.database) else int(self.pool_config.get("max_size", 4))
        self._idle: list[aiosqlite.Connection] = []
        self._open: set[aiosqlite.Connection] = set()
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.max_size), loop
        return self._slots

    async def _connect(self) -> aiosqlite.Connection:
        self.claim_file()
        connection = aiosqlite.connect(self.database, **self._connect_kwargs)
        connection._thread.daemon = True  # a forgotten close_pool must not keep the interpreter alive at exit
        await connection
        for pragma in connection_pragmas(self.database, self.adk.busy_timeout):
            await connection.execute(pragma)
        self._open.add(connection)
        return connection

    async def arun(self, operation: Operation[T]) -> T:
        slots = self._semaphore()
        await slots.acquire()
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
        except BaseException:
            slots.release()
            raise
        held = _Held(connection._conn)
        with traced(operation, self.dialect.db_system) as on_retry:
            plan = transaction(operation, self.dialect.rules, held, on_retry)
            execute: Callable[..., Awaitable[T]] = connection._execute
            work = asyncio.ensure_future(execute(run_sync, held, plan))
            work.add_done_callback(lambda done: self._settle(done, connection, held, slots))
            # A cancelled caller does not cut the transaction short: it ends (commits or rolls back) in the
            # thread, and only then does the connection go back to the pool.
            result: T = await asyncio.shield(work)
            return result

    def _settle(self, done: asyncio.Future[Any], connection: aiosqlite.Connection, held: _Held, slots: Any) -> None:
        if not done.cancelled():
            done.exception()  # retrieved here too, in case the caller was cancelled and never awaits it
        if connection not in self._open:
            pass  # close_pool ran meanwhile and closed it
        elif held.discarded:  # even the rollback failed: the connection is unusable
            self._open.discard(connection)
            connection.stop()  # closes it in its own thread, after anything still queued there
        else:
            self._idle.append(connection)
        slots.release()

    async def close_pool(self) -> None:
        connections, self._open, self._idle = list(self._open), set(), []
        for connection in connections:
            await connection.close()
        self.release_file()
