"""``psycopg`` 3 connection glue: async and sync pools running the PostgreSQL transaction plan.

Connections are in autocommit mode; the plan sends ``BEGIN``/``COMMIT`` itself
and runs a lone statement in its implicit transaction (one round trip). Cursors
are raw (``$n`` placeholders, psycopg >= 3.2), so statements reach the server
exactly as asyncpg and psqlpy send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from sqlspec_adk.adapters._postgres import PostgresAsyncConfigBase, PostgresSyncConfigBase, hung_up
from sqlspec_adk.dialects.postgres import ErrorKind, dollar_sql, kind_of_sqlstate
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["PsycopgAsyncConfig", "PsycopgSyncConfig"]


def pool_arguments(
    connection_config: Mapping[str, Any], pool_config: Mapping[str, Any], cursor_factory: type[Any]
) -> dict[str, Any]:
    """Keywords for ``psycopg_pool``: ``conninfo`` plus connect keywords, autocommit on, raw cursors, ``min_size`` 1."""
    options = dict(connection_config)
    conninfo = str(options.pop("conninfo", ""))
    kwargs = {**options.pop("kwargs", {}), **options, "autocommit": True, "cursor_factory": cursor_factory}
    return {"conninfo": conninfo, "kwargs": kwargs, "min_size": 1, "max_size": 10, **pool_config, "open": False}


def classify(error: BaseException) -> ErrorKind | None:
    """Retry class of a psycopg error: by SQLSTATE, else any OperationalError is a lost connection."""
    kind = kind_of_sqlstate(getattr(error, "sqlstate", None))
    if kind is None and isinstance(error, psycopg.OperationalError) and not getattr(error, "sqlstate", None):
        return ErrorKind.LOST
    return kind


class _PsycopgGlue:
    """The glue the async and sync psycopg configs share (connection state, error classes)."""

    def in_transaction(self, connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
        return connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def hung_up(self, connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
        try:
            return connection.closed or hung_up(connection.pgconn.socket)
        except psycopg.OperationalError:  # libpq already knows the connection is lost
            return True

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify(error)


class PsycopgAsyncConfig(_PsycopgGlue, PostgresAsyncConfigBase):
    """Config for psycopg's async driver: ``connection_config={"conninfo": ...}`` plus connect keywords;
    ``pool_config`` takes ``AsyncConnectionPool`` options (``min_size`` 1, ``max_size`` 10, ``timeout``, ...)."""

    _pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None

    async def pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        if self._pool is None:
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                **pool_arguments(self.connection_config, self.pool_config, psycopg.AsyncRawCursor)
            )
            self._pool = pool
            await pool.open()
        return self._pool

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def checkout(self) -> psycopg.AsyncConnection[Any]:
        return await (await self.pool()).getconn()

    async def release(self, connection: psycopg.AsyncConnection[Any], *, broken: bool) -> None:
        if broken:
            await connection.close()
        await (await self.pool()).putconn(connection)

    async def refresh(self) -> None:
        await (await self.pool()).check()

    async def execute(self, connection: psycopg.AsyncConnection[Any], stmt: Stmt) -> Any:
        async with connection.cursor() as cursor:
            if stmt.many:
                await cursor.executemany(dollar_sql(stmt.sql), stmt.params)
            else:
                await cursor.execute(dollar_sql(stmt.sql), stmt.params)
            if stmt.fetch is Fetch.ONE:
                return await cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return await cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    async def command(self, connection: psycopg.AsyncConnection[Any], sql: str) -> None:
        await connection.execute(sql)


class PsycopgSyncConfig(_PsycopgGlue, PostgresSyncConfigBase):
    """Config for psycopg's sync driver; same keys as :class:`PsycopgAsyncConfig` (``ConnectionPool``)."""

    _pool: ConnectionPool[psycopg.Connection[Any]] | None = None

    def pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        if self._pool is None:
            pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                **pool_arguments(self.connection_config, self.pool_config, psycopg.RawCursor)
            )
            self._pool = pool
            pool.open()
        return self._pool

    def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def checkout(self) -> psycopg.Connection[Any]:
        return self.pool().getconn()

    def release(self, connection: psycopg.Connection[Any], *, broken: bool) -> None:
        if broken:
            connection.close()
        self.pool().putconn(connection)

    def refresh(self) -> None:
        self.pool().check()

    def execute(self, connection: psycopg.Connection[Any], stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            if stmt.many:
                cursor.executemany(dollar_sql(stmt.sql), stmt.params)
            else:
                cursor.execute(dollar_sql(stmt.sql), stmt.params)
            if stmt.fetch is Fetch.ONE:
                return cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    def command(self, connection: psycopg.Connection[Any], sql: str) -> None:
        connection.execute(sql)
