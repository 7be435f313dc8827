"""``psycopg`` 3 connection glue: async and sync pools, one pooled connection per operation.

Connections are in autocommit mode; the engine sends ``BEGIN``/``COMMIT``
itself and runs a lone statement in its implicit transaction (one round trip).
Cursors are raw (``$n`` placeholders, psycopg >= 3.2), so statements reach the
server exactly as asyncpg and psqlpy send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from sqlspec_adk.adapters._postgres import PostgresAsyncGlue, PostgresSyncGlue, classify_sqlstate, hung_up
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["PsycopgAsyncConfig", "PsycopgSyncConfig"]

AsyncConnection = psycopg.AsyncConnection[Any]
Connection = psycopg.Connection[Any]


def pool_arguments(
    connection_config: Mapping[str, Any], pool_config: Mapping[str, Any], cursor_factory: type[Any]
) -> dict[str, Any]:
    """Keywords for ``psycopg_pool``: ``conninfo`` plus connect keywords, autocommit on, raw cursors, ``min_size`` 1."""
    options = dict(connection_config)
    conninfo = str(options.pop("conninfo", ""))
    kwargs = {**options.pop("kwargs", {}), **options, "autocommit": True, "cursor_factory": cursor_factory}
    return {"conninfo": conninfo, "kwargs": kwargs, "min_size": 1, "max_size": 10, **pool_config, "open": False}


class _PsycopgGlue:
    """The answers both psycopg configs give alike (connection state, error kinds)."""

    def in_transaction(self, connection: Connection | AsyncConnection) -> bool:
        return connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def hung_up(self, connection: Connection | AsyncConnection) -> bool:
        try:
            return connection.closed or hung_up(connection.pgconn.socket)
        except psycopg.OperationalError:  # libpq already knows the connection is lost
            return True

    def classify(self, error: BaseException) -> ErrorKind | None:
        """By SQLSTATE; an OperationalError without one is a lost connection."""
        code = getattr(error, "sqlstate", None)
        if not code and isinstance(error, psycopg.OperationalError):
            return ErrorKind.LOST
        return classify_sqlstate(code)


class PsycopgAsyncConfig(_PsycopgGlue, PostgresAsyncGlue[AsyncConnection]):
    """Config for psycopg's async driver: ``connection_config={"conninfo": ...}`` plus connect keywords;
    ``pool_config`` takes ``AsyncConnectionPool`` options (``min_size`` 1, ``max_size`` 10, ``timeout``, ...)."""

    _pool: AsyncConnectionPool[AsyncConnection] | None = None

    async def pool(self) -> AsyncConnectionPool[AsyncConnection]:
        if self._pool is None:
            pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
                **pool_arguments(self.connection_config, self.pool_config, psycopg.AsyncRawCursor)
            )
            self._pool = pool
            await pool.open()
        return self._pool

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def checkout(self) -> AsyncConnection:
        return await (await self.pool()).getconn()

    async def release(self, connection: AsyncConnection, discard: bool) -> None:
        if discard:
            await connection.close()
        await (await self.pool()).putconn(connection)

    async def refresh(self) -> None:
        await (await self.pool()).check()

    async def execute(self, connection: AsyncConnection, stmt: Stmt) -> Any:
        async with connection.cursor() as cursor:
            if stmt.many:
                await cursor.executemany(dollar(stmt.sql), stmt.params)
            else:
                await cursor.execute(dollar(stmt.sql), stmt.params)
            if stmt.fetch is Fetch.ONE:
                return await cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return await cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    async def command(self, connection: AsyncConnection, sql: str) -> None:
        await connection.execute(sql)


class PsycopgSyncConfig(_PsycopgGlue, PostgresSyncGlue[Connection]):
    """Config for psycopg's sync driver; same keys as :class:`PsycopgAsyncConfig` (``ConnectionPool``)."""

    _pool: ConnectionPool[Connection] | None = None

    def pool(self) -> ConnectionPool[Connection]:
        if self._pool is None:
            pool: ConnectionPool[Connection] = ConnectionPool(
                **pool_arguments(self.connection_config, self.pool_config, psycopg.RawCursor)
            )
            self._pool = pool
            pool.open()
        return self._pool

    def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def checkout(self) -> Connection:
        return self.pool().getconn()

    def release(self, connection: Connection, discard: bool) -> None:
        if discard:
            connection.close()
        self.pool().putconn(connection)

    def refresh(self) -> None:
        self.pool().check()

    def execute(self, connection: Connection, stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            if stmt.many:
                cursor.executemany(dollar(stmt.sql), stmt.params)
            else:
                cursor.execute(dollar(stmt.sql), stmt.params)
            if stmt.fetch is Fetch.ONE:
                return cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    def command(self, connection: Connection, sql: str) -> None:
        connection.execute(sql)
