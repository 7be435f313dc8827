"""``aiosqlite`` connection glue: a small pool and explicit transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import aiosqlite

from sqlspec_adk.adapters._sqlite import SqliteConfigBase, run_transaction
from sqlspec_adk.config import AsyncDatabaseConfig
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_async

__all__ = ["AiosqliteConfig"]

T = TypeVar("T")

#: aiosqlite runs every call in a thread of its own per connection; ``Connection._execute`` (private,
#: present since aiosqlite 0.11; tested here with 0.22) runs a function there. Without it, the
#: adapter falls back to one public call, so one thread hop, per statement.
ONE_HOP = callable(getattr(aiosqlite.Connection, "_execute", None)) and hasattr(aiosqlite.Connection, "_conn")


class AiosqliteConfig(SqliteConfigBase, AsyncDatabaseConfig):
    """Config for ``aiosqlite``; keys as :class:`~sqlspec_adk.adapters._sqlite.SqliteConfigBase`."""

    def configure_pool(self) -> None:
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
        # A forgotten close_pool must not keep the interpreter alive at exit.
        worker = getattr(connection, "_thread", None)
        if worker is not None:
            worker.daemon = True
        await connection
        for pragma in self.pragmas():
            await connection.execute(pragma)
        self._open.add(connection)
        return connection

    async def run(self, op: Op[T], *, write: bool) -> T:
        if not ONE_HOP:
            return await self._run_per_statement(op, write=write)
        slots = self._semaphore()
        await slots.acquire()
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
            raw: sqlite3.Connection = connection._conn
        except BaseException:
            slots.release()
            raise
        # The whole transaction is one call in the connection's thread: one hop, not one per statement.
        in_thread = cast("Callable[..., Awaitable[T]]", connection._execute)
        work = asyncio.ensure_future(in_thread(run_transaction, raw, op, self.begin_sql(write)))
        work.add_done_callback(lambda done: self._settle(done, connection, raw, slots))
        # A cancelled caller does not cut the transaction short: it ends (commits or rolls back) in the
        # thread, and only then does the connection go back to the pool.
        return await asyncio.shield(work)

    def _settle(
        self, done: asyncio.Future[Any], connection: aiosqlite.Connection, raw: sqlite3.Connection, slots: Any
    ) -> None:
        if not done.cancelled():
            done.exception()  # retrieved here too, in case the caller was cancelled and never awaits it
        if connection not in self._open:
            pass  # close_pool ran meanwhile and closed it
        elif raw.in_transaction:  # even the rollback failed: the connection is unusable
            self._open.discard(connection)
            connection.stop()  # closes it in its own thread, after anything still queued there
        else:
            self._idle.append(connection)
        slots.release()

    async def _run_per_statement(self, op: Op[T], *, write: bool) -> T:
        """The portable path, for an aiosqlite without ``Connection._execute``: a hop per statement."""
        slots = self._semaphore()
        async with slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            healthy = True
            try:
                await connection.execute(self.begin_sql(write))
                result = await drive_async(op, lambda stmt: _execute(connection, stmt))
                await connection.execute("COMMIT")
                return result
            except BaseException:
                if connection.in_transaction:
                    try:
                        await connection.rollback()
                    except (sqlite3.Error, ValueError):
                        healthy = False
                raise
            finally:
                if healthy:
                    self._idle.append(connection)
                else:
                    self._open.discard(connection)

    async def close_pool(self) -> None:
        connections, self._open, self._idle = list(self._open), set(), []
        for connection in connections:
            await connection.close()
        self.release_file()


async def _execute(connection: aiosqlite.Connection, stmt: Stmt) -> Any:
    """Run one statement in one trip to the connection's thread.

    Each aiosqlite call is a hop to its worker thread; execute, fetch and
    close as separate calls made three hops per statement. Rows are read with
    ``execute_fetchall`` (Fetch.ONE statements are single-row lookups, so the
    first of all rows is the row), and cursors are left to the garbage
    collector, as for BEGIN/COMMIT.
    """
    if stmt.many:
        cursor = await connection.executemany(stmt.sql, stmt.params)
        return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None
    if stmt.fetch is Fetch.ALL:
        return list(await connection.execute_fetchall(stmt.sql, stmt.params))
    if stmt.fetch is Fetch.ONE:
        rows = await connection.execute_fetchall(stmt.sql, stmt.params)
        return next(iter(rows), None)
    cursor = await connection.execute(stmt.sql, stmt.params)
    return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None
