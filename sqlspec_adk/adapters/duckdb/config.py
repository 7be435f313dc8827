"""``duckdb`` connection glue: one connection per config, transactions under the database's lock."""

from __future__ import annotations

import contextlib
import threading
from functools import cached_property
from typing import Any, TypeVar

import duckdb

from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.duckdb import DuckdbDialect, database_lock
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync

__all__ = ["DuckdbConfig"]

T = TypeVar("T")
_GUARD = threading.Lock()


class DuckdbConfig(SyncDatabaseConfig):
    """Config for the embedded ``duckdb`` driver.

    ``connection_config`` takes ``duckdb.connect`` keywords (``database``,
    ``read_only``, ``config``). Every transaction on a database file runs under
    one lock shared by all configs of the process (see
    :func:`~sqlspec_adk.dialects.duckdb.database_lock`), so one connection per
    config is all a pool would ever use; ``pool_config`` is accepted and unused.
    """

    dialect_class = DuckdbDialect
    dialect: DuckdbDialect

    _connection: duckdb.DuckDBPyConnection | None = None

    @cached_property
    def database(self) -> str:
        return str(self.connection_config.get("database", ":memory:"))

    @cached_property
    def _lock(self) -> threading.Lock:
        return database_lock(self.database)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        with _GUARD:
            _ = self._lock  # computed once, under the guard
            if self._connection is None:
                options = {key: value for key, value in self.connection_config.items() if key != "database"}
                connection = duckdb.connect(self.database, **options)
                for sql in self.dialect.connection_setup():
                    connection.execute(sql)
                self._connection = connection
            return self._connection

    def run(self, op: Op[T], *, write: bool) -> T:
        connection = self._connect()
        with self._lock:
            connection.execute("BEGIN TRANSACTION")
            try:
                result = drive_sync(op, lambda stmt: _execute(connection, stmt))
                connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT already ended the transaction
                    connection.execute("ROLLBACK")
                raise
        return result

    def close_pool(self) -> None:
        with _GUARD:
            connection, self._connection = self._connection, None
        if connection is not None:
            with self._lock:
                connection.close()


def _execute(connection: duckdb.DuckDBPyConnection, stmt: Stmt) -> Any:
    if stmt.many:
        connection.executemany(stmt.sql, stmt.params)
        return None
    connection.execute(stmt.sql, stmt.params)
    if stmt.fetch is Fetch.ONE:
        return connection.fetchone()
    if stmt.fetch is Fetch.ALL:
        return connection.fetchall()
    if stmt.fetch is Fetch.ROWCOUNT:
        row = connection.fetchone()  # DuckDB reports changed rows as a one-row result
        return int(row[0]) if row else 0
    return None
