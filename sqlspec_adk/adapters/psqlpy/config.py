"""``psqlpy`` connection glue: a psqlpy pool, one pooled connection per operation.

psqlpy reports no row count (its ``QueryResult`` holds the returned rows
only; checked up to psqlpy 0.13.1). The PostgreSQL dialect never needs one
from it: its deletes and updates select their own count (one row), and the
statements it runs for ``Fetch.ROWCOUNT`` (skip-if-present inserts) return one
row per row changed (``RETURNING``), so the returned rows are counted here.
Its errors carry no SQLSTATE, so their kind is read from the server's message.
"""

from __future__ import annotations

from typing import Any

import psqlpy
from psqlpy import exceptions

from sqlspec_adk.adapters._postgres import ADMIN_SHUTDOWN, PostgresAsyncGlue
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["PsqlpyConfig"]

_MESSAGES = (
    ("could not serialize access", ErrorKind.ROLLED_BACK),
    ("deadlock detected", ErrorKind.ROLLED_BACK),
    (ADMIN_SHUTDOWN, ErrorKind.UNSENT),
    ("the database system is", ErrorKind.UNSENT),  # starting up / shutting down
    ("connection closed", ErrorKind.LOST),
    ("connection reset", ErrorKind.LOST),
    ("error communicating with the server", ErrorKind.LOST),
    ("duplicate key value violates unique constraint", ErrorKind.DUPLICATE),
)


class PsqlpyConfig(PostgresAsyncGlue[psqlpy.Connection]):
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

    # ------------------------------------------------------------ driver glue
    async def checkout(self) -> psqlpy.Connection:
        return await self.pool().connection()

    async def release(self, connection: psqlpy.Connection, discard: bool) -> None:
        self._in_transaction.discard(id(connection))
        connection.close()  # back to the pool, which drops it if it is closed

    async def refresh(self) -> None:
        """Nothing to drop by hand: the pool checks ``is_closed()`` on every checkout."""

    async def execute(self, connection: psqlpy.Connection, stmt: Stmt) -> Any:
        sql = dollar(stmt.sql)
        if stmt.many and stmt.fetch is not Fetch.ROWCOUNT:
            await connection.execute_many(sql, [list(row) for row in stmt.params])
            return None
        if stmt.many:
            return sum([await self.execute(connection, Stmt(stmt.sql, row, stmt.fetch)) for row in stmt.params])
        result = await connection.execute(sql, list(stmt.params))
        if stmt.fetch is Fetch.NONE:
            return None
        rows = result.result(as_tuple=True)
        if stmt.fetch is Fetch.ONE:
            return rows[0] if rows else None
        return len(rows) if stmt.fetch is Fetch.ROWCOUNT else rows  # ROWCOUNT: see the module docstring

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
