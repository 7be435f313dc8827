"""Connection glue the SQLite adapters share (sqlite, aiosqlite, ADBC's SQLite driver).

The database and connect keywords (transactions explicit), the pool bound (an
in-memory database always uses exactly one connection), the PRAGMAs every new
connection runs, the stdlib driver's answers to the engine's questions, and
the write lock.

SQLite admits one writer at a time, and a writer that finds the database
locked sleeps in SQLite's busy handler (1, 2, 5, 10 ... 100 ms steps) whatever
the lock's holder is doing. So each config writes on one connection of its
own (readers keep the pool), and every write transaction on a database file
takes that file's :class:`WriteLock`, shared by every config of the process:
writers of one process queue for each other here and wake the
moment the file is free; only writers of other processes meet in the busy
handler.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from sqlspec_adk.adapters._sqlite_files import claim_sqlite_file, release_sqlite_file
from sqlspec_adk.backend_options import SqliteOptions
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = [
    "ADBC_SQLITE",
    "PoolSlots",
    "adbc_sqlite_connection",
    "adbc_command",
    "release_adbc_sqlite",
    "StdlibGlue",
    "WriteLock",
    "write_lock",
    "classify_sqlite",
    "connect_arguments",
    "database_file",
    "file_missing",
    "set_up",
    "set_up_async",
    "connection_pragmas",
    "execute_stdlib",
    "is_memory_database",
]

#: What :func:`claim_sqlite_file` calls the library the stdlib adapters open files with.
STDLIB = "the stdlib sqlite3 module (sqlite/aiosqlite adapters)"
#: ... and the one the ADBC adapter opens them with.
ADBC_SQLITE = "ADBC's SQLite driver (adbc adapter)"

R = TypeVar("R")


def is_memory_database(database: str) -> bool:
    """Whether ``database`` names a private in-memory database (one connection only)."""
    return database in ("", ":memory:") or ("mode=memory" in database and database.startswith("file:"))


def database_file(database: str) -> str | None:
    """The file a ``database`` argument names, or None for an in-memory database."""
    if is_memory_database(database):
        return None
    if database.startswith("file:"):
        return unquote(urlsplit(database).path)
    return database


#: SQLite's text for a lock another connection holds.
LOCKED = "database is locked"


def _locked(error: Exception, deadline: float) -> bool:
    return LOCKED in str(error) and time.monotonic() < deadline


def set_up(pragma: Callable[[], R], busy_timeout: float) -> R:
    """Run one connection-setup PRAGMA, retried for up to ``busy_timeout`` while the database is locked.

    ``PRAGMA journal_mode = WAL`` on a file not yet in WAL mode takes its lock without SQLite's busy
    handler: two processes opening a new file at once (two replicas booting, two ``migrate upgrade``
    runs) would otherwise fail at once with "database is locked".
    """
    deadline, pause = time.monotonic() + busy_timeout, 0.005
    while True:
        try:
            return pragma()
        except Exception as error:
            if not _locked(error, deadline):
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


async def set_up_async(pragma: Callable[[], Awaitable[R]], busy_timeout: float) -> R:
    """:func:`set_up` for an async connection."""
    deadline, pause = time.monotonic() + busy_timeout, 0.005
    while True:
        try:
            return await pragma()
        except Exception as error:
            if not _locked(error, deadline):
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.1)


def file_missing(database: str) -> bool:
    """Whether ``database`` names a file that does not exist yet (an in-memory database never is missing)."""
    path = database_file(database)
    return path is not None and not os.path.exists(path)


class WriteLock:
    """The write lock of one database file in this process (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def take(self, timeout: float) -> None:
        """Wait for the file's writers of this process; past ``timeout`` seconds, fail as SQLite would."""
        if not self._lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")

    def try_take(self, timeout: float) -> bool:
        """:meth:`take`, answering False instead of failing."""
        return self._lock.acquire(timeout=timeout)

    def give(self) -> None:
        self._lock.release()


_write_locks: dict[str, WriteLock] = {}
_write_locks_guard = threading.Lock()


def write_lock(database: str) -> WriteLock | None:
    """The process-wide write lock of ``database``'s file; None for an in-memory database (one connection)."""
    path = database_file(database)
    if path is None:
        return None
    with _write_locks_guard:
        return _write_locks.setdefault(os.path.realpath(path), WriteLock())


class PoolSlots:
    """A pool's connection slots; a write takes its file's :class:`WriteLock` first (``database`` None: none)."""

    def __init__(self, size: int, database: str | None, timeout: float) -> None:
        self._free = threading.BoundedSemaphore(size)
        self._write = write_lock(database) if database is not None else None
        self._timeout = timeout

    def take(self, write: bool) -> WriteLock | None:
        """Wait for a slot (and, for a write, the write lock); give back what this returns to :meth:`give`."""
        lock = self._write if write else None
        if lock is not None:
            lock.take(self._timeout)
        try:
            self._free.acquire()
        except BaseException:
            if lock is not None:
                lock.give()
            raise
        return lock

    def give(self, lock: WriteLock | None) -> None:
        self._free.release()
        if lock is not None:
            lock.give()


def adbc_command(cursor: Any, sql: str, *, rollback: bool) -> None:
    """Run a transaction command on an ADBC cursor (SQLite or DuckDB). A ``ROLLBACK`` that finds no
    transaction succeeded: those databases roll back by themselves on some errors (SQLITE_FULL, an I/O
    error), and discarding the connection would drop its per-connection settings (``PRAGMA
    max_page_count`` and the like) and cost a reconnect."""
    try:
        cursor.executemany(sql, None)
    except Exception as error:
        if not (rollback and "no transaction is active" in str(error)):
            raise


def adbc_sqlite_connection(uri: str, holder: object) -> Any:
    """A new autocommit connection of ADBC's SQLite driver to ``uri``, once ``holder`` claimed the file."""
    import adbc_driver_sqlite.dbapi

    claim_sqlite_file(uri, ADBC_SQLITE, holder)
    return adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)


def release_adbc_sqlite(uri: str, holder: object) -> None:
    """Give back ``holder``'s ADBC claim on ``uri``'s file (no-op without one)."""
    release_sqlite_file(uri, ADBC_SQLITE, holder)


def connect_arguments(connection_config: dict[str, Any], busy_timeout: float) -> tuple[str, dict[str, Any]]:
    """(database, keyword arguments) for ``sqlite3.connect`` / ``aiosqlite.connect``; transactions explicit."""
    options = dict(connection_config)
    database = str(options.pop("database", ":memory:"))
    options.setdefault("timeout", busy_timeout)
    options["isolation_level"] = None
    if database.startswith("file:"):
        options.setdefault("uri", True)
    return database, options


def connection_pragmas(database: str, busy_timeout: float, tuning: SqliteOptions | None = None) -> list[str]:
    """PRAGMAs run on every new connection, in order.

    ``busy_timeout`` comes first: switching to WAL needs a lock, and a connection opened while another
    one recovers the WAL of a crashed writer must wait for it rather than fail at once.
    ``synchronous = FULL``: an acknowledged commit survives a power loss. Then the ``sqlite_cache_size``,
    ``sqlite_mmap_size`` and ``sqlite_journal_size_limit`` settings that are set, and
    ``sqlite_wal_autocheckpoint`` (``tuning``).
    """
    pragmas = [f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}"]
    if not is_memory_database(database):
        pragmas.append("PRAGMA journal_mode = WAL")
    pragmas += ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = FULL"]
    return [*pragmas, *(tuning.pragmas() if tuning is not None else [])]


def classify_sqlite(error: BaseException) -> ErrorKind | None:
    """A unique-key violation is DUPLICATE, DDL finding its column or index there EXISTS; nothing else is
    retried (a busy database was already waited for, ``busy_timeout``).

    Read from the message, since ADBC's SQLite driver raises its own types around SQLite's text
    (``[SQLite] Failed to prepare query: duplicate column name: ...``).
    """
    text = str(error)
    if not isinstance(error, sqlite3.Error) and "[SQLite]" not in text:
        return None
    if "UNIQUE constraint failed" in text:
        return ErrorKind.DUPLICATE
    if "duplicate column name" in text or ("index " in text and "already exists" in text):
        return ErrorKind.EXISTS
    return None


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
    return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None


class StdlibGlue:
    """The engine's statement-level questions, answered for a stdlib ``sqlite3.Connection``."""

    database: str

    def execute(self, connection: sqlite3.Connection, stmt: Stmt) -> Any:
        return execute_stdlib(connection, stmt)

    def command(self, connection: sqlite3.Connection, sql: str) -> None:
        connection.execute(sql)

    def in_transaction(self, connection: sqlite3.Connection) -> bool:
        return connection.in_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_sqlite(error)

    def database_missing(self) -> bool:
        return file_missing(self.database)

    def claim_file(self) -> None:
        """Refuse a file ADBC's SQLite has open in this process; call before opening a connection."""
        claim_sqlite_file(self.database, STDLIB, self)

    def release_file(self) -> None:
        """Give the file back once every connection is closed."""
        release_sqlite_file(self.database, STDLIB, self)
