"""``oracledb`` connection glue (thin mode): a driver pool per config, async and sync.

The engine runs each operation in one transaction by the dialect's rules:
writes in Oracle's implicit READ COMMITTED transaction, reads after ``SET
TRANSACTION READ ONLY``; COMMIT, or ROLLBACK on error; a deadlock, a
serialization failure or a lost connection is retried with a fresh copy of
the operation (see :mod:`sqlspec_adk.adapters._oracle` for what each error is).
A connection in an unknown state is dropped from the pool, not reused.
"""

from __future__ import annotations

import threading
from typing import Any

import oracledb

from sqlspec_adk.adapters._oracle import OracleGlue, run_async, run_sync, statement
from sqlspec_adk.config import AsyncDriverConfig, SyncDatabaseConfig
from sqlspec_adk.protocol import Stmt

__all__ = ["OracledbAsyncConfig", "OracledbSyncConfig"]


async def _drop(pool: Any, connection: oracledb.AsyncConnection) -> None:
    """``AsyncConnectionPool.drop``, which python-oracledb 26.1 annotates as taking a sync ``Connection``
    (it requires an ``AsyncConnection`` at run time; tests/oracle checks what it receives)."""
    await pool.drop(connection)


class OracledbAsyncConfig(OracleGlue, AsyncDriverConfig[oracledb.AsyncConnection]):
    """Config for python-oracledb's async thin driver.

    ``connection_config`` takes ``oracledb.create_pool_async`` connect keywords
    (``user``, ``password``, ``dsn``, ...); ``pool_config`` its pool sizing
    (``min``, ``max``, ``increment``, ...).
    """

    def configure(self) -> None:
        self._pool: oracledb.AsyncConnectionPool | None = None

    async def acquire(self, write: bool) -> oracledb.AsyncConnection:
        if self._pool is None:
            self._pool = oracledb.create_pool_async(**self.connection_config, **self.pool_config)
        connection: oracledb.AsyncConnection = await self._pool.acquire()
        self.observe(connection)
        return connection

    async def release(self, connection: oracledb.AsyncConnection, discard: bool) -> None:
        self.read_only.discard(connection)
        if self._pool is not None:  # else close_pool closed it meanwhile
            await (_drop(self._pool, connection) if discard else self._pool.release(connection))

    async def execute(self, connection: oracledb.AsyncConnection, stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            return await run_async(statement(cursor, stmt))

    async def command(self, connection: oracledb.AsyncConnection, sql: str) -> None:
        self.track(connection, sql, done=False)
        if sql == self.dialect.rules.commit:
            await connection.commit()
        elif sql == self.dialect.rules.rollback:
            await connection.rollback()
        else:
            with connection.cursor() as cursor:
                await cursor.execute(sql)
            self.track(connection, sql, done=True)

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close(force=True)


class OracledbSyncConfig(OracleGlue, SyncDatabaseConfig[oracledb.Connection]):
    """Config for python-oracledb's sync thin driver; same keys as :class:`OracledbAsyncConfig`."""

    def configure(self) -> None:
        self._pool: oracledb.ConnectionPool | None = None
        self._lock = threading.Lock()

    def acquire(self, write: bool) -> oracledb.Connection:
        with self._lock:
            if self._pool is None:
                self._pool = oracledb.create_pool(**self.connection_config, **self.pool_config)
            pool = self._pool
        connection = pool.acquire()
        self.observe(connection)
        return connection

    def release(self, connection: oracledb.Connection, discard: bool) -> None:
        self.read_only.discard(connection)
        pool = self._pool
        if pool is not None:  # else close_pool closed it meanwhile
            (pool.drop if discard else pool.release)(connection)

    def execute(self, connection: oracledb.Connection, stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            return run_sync(statement(cursor, stmt))

    def command(self, connection: oracledb.Connection, sql: str) -> None:
        self.track(connection, sql, done=False)
        if sql == self.dialect.rules.commit:
            connection.commit()
        elif sql == self.dialect.rules.rollback:
            connection.rollback()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql)
            self.track(connection, sql, done=True)

    def close_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(force=True)
