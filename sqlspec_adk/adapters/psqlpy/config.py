"""``psqlpy`` connection glue: a psqlpy pool running the PostgreSQL transaction plan.

psqlpy reports no row counts, so a statement whose row count is wanted gets a
top-level ``RETURNING 1`` and its rows are counted. Its errors carry no
SQLSTATE, so the retry class is read from the server's message.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psqlpy
from psqlpy import exceptions

from sqlspec_adk.adapters._postgres import PostgresAsyncConfigBase
from sqlspec_adk.dialects.postgres import ADMIN_SHUTDOWN, ErrorKind, dollar_sql, rowcount_sql
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["PsqlpyConfig"]

_MESSAGES = (
    ("could not serialize access", ErrorKind.SERIALIZATION),
    ("deadlock detected", ErrorKind.SERIALIZATION),
    (ADMIN_SHUTDOWN, ErrorKind.UNSENT),
    ("the database system is", ErrorKind.UNSENT),  # starting up / shutting down
    ("connection closed", ErrorKind.LOST),
    ("connection reset", ErrorKind.LOST),
    ("error communicating with the server", ErrorKind.LOST),
)


class PsqlpyConfig(PostgresAsyncConfigBase):
    """Config for ``psqlpy``: ``connection_config`` takes ``psqlpy.ConnectionPool`` keywords
    (``dsn``, ``connect_timeout_sec``, ...); ``pool_config={"max_size": n}`` (default 10).
    psqlpy opens connections on demand, so there is no ``min_size``."""

    def configure(self) -> None:
        options = dict(self.pool_config)
        if "min_size" in options:
            raise ConfigError("psqlpy pools open connections on demand: pool_config['min_size'] is not supported")
        self._options = {"max_db_pool_size": int(options.pop("max_size", 10)), **options}
        self._pool: psqlpy.ConnectionPool | None = None
        self._in_transaction: set[int] = set()  # psqlpy tracks only its own Transaction objects

    def pool(self) -> psqlpy.ConnectionPool:
        if self._pool is None:
            self._pool = psqlpy.ConnectionPool(**self.connection_config, **self._options)
        return self._pool

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    async def checkout(self) -> psqlpy.Connection:
        return await self.pool().connection()

    async def release(self, connection: psqlpy.Connection, *, broken: bool) -> None:
        self._in_transaction.discard(id(connection))
        connection.close()  # back to the pool, which drops it if it is closed

    async def refresh(self) -> None:
        await asyncio.sleep(0)  # the pool checks is_closed() on every checkout

    async def execute(self, connection: psqlpy.Connection, stmt: Stmt) -> Any:
        if stmt.many and stmt.fetch is not Fetch.ROWCOUNT:
            await connection.execute_many(dollar_sql(stmt.sql), [list(row) for row in stmt.params])
            return None
        if stmt.many:
            return sum([await self.execute(connection, Stmt(stmt.sql, row, stmt.fetch)) for row in stmt.params])
        sql = dollar_sql(rowcount_sql(stmt.sql) if stmt.fetch is Fetch.ROWCOUNT else stmt.sql)
        result = await connection.execute(sql, list(stmt.params))
        if stmt.fetch is Fetch.NONE:
            return None
        rows = result.result(as_tuple=True)
        if stmt.fetch is Fetch.ROWCOUNT:
            return len(rows)
        if stmt.fetch is Fetch.ONE:
            return rows[0] if rows else None
        return rows

    async def command(self, connection: psqlpy.Connection, sql: str) -> None:
        if sql.startswith("BEGIN"):
            self._in_transaction.add(id(connection))
        else:
            self._in_transaction.discard(id(connection))
        await connection.execute(sql, prepared=False)

    def in_transaction(self, connection: psqlpy.Connection) -> bool:
        return id(connection) in self._in_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        if isinstance(error, (exceptions.BaseConnectionPoolError, exceptions.ConnectionClosedError, OSError)):
            return ErrorKind.LOST
        text = str(error).lower()
        return next((kind for marker, kind in _MESSAGES if marker in text), None)
