"""What the ``sqlite3`` and ``aiosqlite`` configs share.

The database and connect keywords (transactions explicit), the pool bound (an
in-memory database always uses exactly one connection), the PRAGMAs every new
connection runs, and the statement that opens a read or write transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, TypeVar

from sqlspec_adk.adapters._sqlite_files import claim_sqlite_file, release_sqlite_file
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.dialects.sqlite import (
    BEGIN_READ,
    BEGIN_WRITE,
    SqliteDialect,
    connect_arguments,
    connection_pragmas,
    is_memory_database,
)
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync

__all__ = ["SqliteConfigBase", "execute_stdlib", "run_transaction"]

T = TypeVar("T")


class SqliteConfigBase(DatabaseConfig):
    """Base of the SQLite configs.

    ``connection_config`` takes the driver's ``connect`` keywords (``database``,
    ...); ``pool_config={"max_size": n}`` bounds open connections (default 4;
    an in-memory database always uses exactly one).
    """

    dialect_class = SqliteDialect

    def configure(self) -> None:
        self.database, self._connect_kwargs = connect_arguments(self.connection_config, self.adk.busy_timeout)
        self.max_size = 1 if is_memory_database(self.database) else int(self.pool_config.get("max_size", 4))
        self.configure_pool()

    def configure_pool(self) -> None:
        """Set up the (empty) pool; runs at construction, after :attr:`database` and :attr:`max_size`."""
        raise NotImplementedError

    #: What :func:`claim_sqlite_file` calls the library these configs open files with.
    library = "the stdlib sqlite3 module (sqlite/aiosqlite adapters)"

    def claim_file(self) -> None:
        """Refuse a file ADBC's SQLite has open in this process; call before opening a connection."""
        claim_sqlite_file(self.database, self.library, self)

    def release_file(self) -> None:
        """Give the file back once every connection is closed."""
        release_sqlite_file(self.database, self.library, self)

    def pragmas(self) -> list[str]:
        """Statements every new connection runs first."""
        return connection_pragmas(self.database, self.adk.busy_timeout)

    @staticmethod
    def begin_sql(write: bool) -> str:
        """``BEGIN IMMEDIATE`` for writes (the write lock up front), plain ``BEGIN`` for reads."""
        return BEGIN_WRITE if write else BEGIN_READ


def execute_stdlib(connection: sqlite3.Connection, stmt: Stmt) -> Any:
    """Run one statement on a stdlib connection and return what its ``fetch`` asks for."""
    if stmt.many:
        cursor = connection.executemany(stmt.sql, stmt.params)
    else:
        cursor = connection.execute(stmt.sql, stmt.params)
    if stmt.fetch is Fetch.ONE:
        return cursor.fetchone()
    if stmt.fetch is Fetch.ALL:
        return cursor.fetchall()
    if stmt.fetch is Fetch.ROWCOUNT:
        return cursor.rowcount
    return None


def run_transaction(connection: sqlite3.Connection, op: Op[T], begin: str) -> T:
    """Run ``op`` in one transaction on a stdlib connection (``begin``, its statements, ``COMMIT``).

    On any error the transaction is rolled back and the error re-raised; if
    even the rollback fails, ``connection.in_transaction`` stays true and the
    caller must discard the connection.
    """
    try:
        connection.execute(begin)
        result = drive_sync(op, lambda stmt: execute_stdlib(connection, stmt))
        connection.execute("COMMIT")
        return result
    except BaseException:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # if it fails, in_transaction tells the caller
                connection.rollback()
        raise
