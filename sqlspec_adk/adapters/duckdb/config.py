"""``duckdb`` connection glue: one connection per config, transactions under the database's process-wide lock."""

from __future__ import annotations

from functools import cached_property, partial
from typing import Any

import duckdb

from sqlspec_adk.adapters._duckdb import (
    changed_rows,
    classify_duckdb,
    database_lock,
    duckdb_dialect,
    file_missing,
    open_waiting,
    setup_statements,
)
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["DuckdbConfig"]


class DuckdbConfig(SyncDatabaseConfig[duckdb.DuckDBPyConnection]):
    """Config for the embedded ``duckdb`` driver.

    ``connection_config`` takes ``duckdb.connect`` keywords (``database``,
    ``read_only``, ``config``). Every transaction on a database file runs under
    one lock shared by all configs of the process (see
    :func:`~sqlspec_adk.adapters._duckdb.database_lock`), so one connection per
    config is all a pool would ever use; ``pool_config`` takes ``max_size`` and ignores it.
    That connection is only used while the lock is held, so whether a
    transaction is open on it is the config's to know.
    """

    dialect_class = DuckdbDialect

    @cached_property
    def dialect(self) -> DuckdbDialect:
        return duckdb_dialect(self.adk)

    def configure(self) -> None:
        self.check_pool_keys(("max_size",), location="database")
        self._options = dict(self.connection_config)
        self.database = str(self._options.pop("database", ":memory:"))
        self._lock = database_lock(self.database)
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._in_transaction = False

    def acquire(self, write: bool) -> duckdb.DuckDBPyConnection:
        self._lock.acquire()
        try:
            if self._connection is None:
                # Another process may hold the file (DuckDB admits one): wait for it as a busy SQLite would.
                opened = partial(duckdb.connect, self.database, **self._options)
                connection = open_waiting(opened, self.adk.busy_timeout)
                try:
                    for sql in setup_statements(self.dialect):
                        connection.execute(sql)
                except BaseException:
                    connection.close()
                    raise
                self._connection, self._in_transaction = connection, False
            return self._connection
        except BaseException:
            self._lock.release()
            raise

    def release(self, connection: duckdb.DuckDBPyConnection, discard: bool) -> None:
        try:
            if discard and connection is self._connection:
                self._connection = None
                connection.close()
        finally:
            self._lock.release()

    def execute(self, connection: duckdb.DuckDBPyConnection, stmt: Stmt) -> Any:
        if stmt.many:
            connection.executemany(stmt.sql, stmt.params)
            return None
        connection.execute(stmt.sql, stmt.params)
        if stmt.fetch is Fetch.ONE:
            return connection.fetchone()
        if stmt.fetch is Fetch.ALL:
            return connection.fetchall()
        return changed_rows(connection.fetchone()) if stmt.fetch is Fetch.ROWCOUNT else None

    def command(self, connection: duckdb.DuckDBPyConnection, sql: str) -> None:
        if sql in (self.dialect.rules.commit, self.dialect.rules.rollback):
            self._in_transaction = False  # also when it fails: DuckDB then rolls the transaction back
        connection.execute(sql)
        self._in_transaction = self._in_transaction or sql.startswith("BEGIN")

    def in_transaction(self, connection: duckdb.DuckDBPyConnection) -> bool:
        return self._in_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_duckdb(error)

    def database_missing(self) -> bool:
        return file_missing(self.database)

    def close_pool(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
