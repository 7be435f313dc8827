"""Connection glue the DuckDB adapters share (``duckdb`` and ADBC's DuckDB driver).

- :func:`database_lock`: every transaction on one database file runs under one
  lock per process (DuckDB allows one writer per file and process, and its
  optimistic concurrency control fails conflicting transactions at commit
  rather than making them wait). The configs take it in ``acquire`` and give
  it back in ``release``.
- :func:`fts_load_sql` / :func:`duckdb_dialect`: whether the ``fts`` extension
  loads (probed once per process, never downloaded) decides the dialect's
  ``fts_extension``; :func:`setup_statements` loads it on each new connection.
- :func:`changed_rows`, :func:`classify_duckdb`: DuckDB's answers to "how many
  rows changed" and "what kind of error is this".
- :class:`SharedInstances` / :func:`adbc_connection`: one database instance
  per file and process, opened by its first user and closed by its last, so
  another process can open the file once every config on it closed its pool
  (ADBC's DuckDB driver; the ``duckdb`` module keeps its own instance cache).
- :func:`open_waiting`: DuckDB admits one process per database file; opening
  a file another process holds is retried until ``busy_timeout`` (two
  processes starting at once, such as two ``migrate upgrade`` runs, take
  turns instead of one failing). :func:`file_missing`: whether a database
  file does not exist yet, so a read-only check creates none.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.settings import ADKConfig

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

__all__ = [
    "Closable",
    "DatabaseSlot",
    "SharedInstances",
    "adbc_connection",
    "changed_rows",
    "classify_duckdb",
    "close_quietly",
    "database_lock",
    "duckdb_dialect",
    "file_missing",
    "fts_load_sql",
    "open_waiting",
    "setup_statements",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")


@functools.cache
def fts_load_sql() -> str | None:
    """The ``LOAD`` statement that makes the ``fts`` extension available, or None (logged once per process).

    Tries the ``duckdb-extension-fts`` package built for the installed DuckDB
    version, then an extension already installed in DuckDB's own directory.
    Automatic installs stay off: this never reaches the network.
    """
    import duckdb

    candidates: list[str] = []
    spec = importlib.util.find_spec("duckdb_extension_fts")
    for base in (spec.submodule_search_locations or []) if spec else []:
        path = Path(base) / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"
        if path.is_file():
            candidates.append("LOAD '{}'".format(str(path).replace("'", "''")))
    candidates.append("LOAD fts")
    settings: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    for sql in candidates:
        try:
            with duckdb.connect(":memory:", config=settings) as probe:
                probe.execute(sql)
        except duckdb.Error:
            continue
        return sql
    logger.warning(
        "DuckDB full-text search is unavailable (no fts extension for duckdb %s; "
        "pip install 'duckdb-extension-fts==%s'); memory search falls back to LIKE matching",
        duckdb.__version__,
        duckdb.__version__,
    )
    return None


def duckdb_dialect(adk: ADKConfig) -> DuckdbDialect:
    """A config's dialect: BM25 search where the ``fts`` extension loads (unprobed if ``memory_use_fts`` is false)."""
    return DuckdbDialect(adk, fts_extension=adk.memory_use_fts is not False and fts_load_sql() is not None)


def setup_statements(dialect: Dialect) -> list[str]:
    """Statements each new connection runs: load ``fts`` when memory search uses it."""
    load = fts_load_sql() if dialect.memory.memory_fts else None
    return [load] if load else []


def _file_key(database: str) -> str | None:
    """The key a database is shared under in this process, None for a private in-memory one."""
    if database in ("", ":memory:"):
        return None
    return database if database.startswith(":memory:") else os.path.realpath(database)


def file_missing(database: str) -> bool:
    """Whether ``database`` names a file that does not exist yet (an in-memory database never is missing)."""
    return not database.startswith(":memory:") and _file_key(database) is not None and not os.path.exists(database)


#: DuckDB's message when another process holds the database file.
FILE_LOCKED = "Could not set lock on file"


def open_waiting(open_file: Callable[[], R], timeout: float) -> R:
    """``open_file()``, retried for up to ``timeout`` seconds while another process holds the database file."""
    deadline, pause = time.monotonic() + timeout, 0.01
    while True:
        try:
            return open_file()
        except Exception as error:
            if FILE_LOCKED not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def database_lock(database: str) -> threading.Lock:
    """The lock every transaction on ``database`` runs under, shared by all configs of this process.

    A private in-memory database (``:memory:`` or empty) belongs to one config,
    so it gets a lock of its own.
    """
    key = _file_key(database)
    if key is None:
        return threading.Lock()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class DatabaseSlot:
    """The one slot of a config on ``database``: its :func:`database_lock`, for reads and writes alike."""

    def __init__(self, database: str) -> None:
        self._lock = database_lock(database)

    def take(self, write: bool) -> None:
        self._lock.acquire()

    def give(self, held: object) -> None:
        self._lock.release()


def changed_rows(row: Sequence[Any] | None) -> int:
    """The rows an INSERT, UPDATE or DELETE changed: DuckDB reports them as a one-row result."""
    return int(row[0]) if row else 0


def classify_duckdb(error: BaseException) -> ErrorKind | None:
    """A unique-key violation is DUPLICATE, DDL finding its table, column or index there EXISTS (a catalog error
    leaves DuckDB's transaction usable); nothing is retried (under the lock no transaction conflicts).

    Read from the message: ADBC's DuckDB driver raises its own types around DuckDB's text.
    """
    text = str(error)
    if "duplicate key" in text.lower():
        return ErrorKind.DUPLICATE
    return ErrorKind.EXISTS if "Catalog Error" in text and "already exists" in text else None


@dataclass
class _Instance(Generic[R]):
    instance: R
    users: int = 0


class SharedInstances(Generic[R]):
    """One database instance per file and process, opened by its first user and closed by its last.

    ``open_instance(database)`` opens one (``database`` as the config names it;
    a private in-memory database gets an instance per user; a file another
    process holds is waited for, see :func:`open_waiting`), ``close_instance``
    closes it.
    """

    def __init__(self, open_instance: Callable[[str], R], close_instance: Callable[[R], None]) -> None:
        self._open, self._close = open_instance, close_instance
        self._shared: dict[str, _Instance[R]] = {}
        self._guard = threading.Lock()

    def hold(self, database: str, wait: float = 0.0) -> tuple[R, Callable[[], None]]:
        """The instance of ``database`` (waiting up to ``wait`` seconds for another process's file lock) and the
        call that lets go of it (once)."""
        key = _file_key(database)
        with self._guard:
            held = self._shared.get(key) if key else None
            if held is None:
                held = _Instance(open_waiting(functools.partial(self._open, database), wait))
                if key:
                    self._shared[key] = held
            held.users += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._guard:
                if released:
                    return
                released, held.users = True, held.users - 1
                last = held.users == 0
                if last and key and self._shared.get(key) is held:
                    del self._shared[key]
            if last:
                self._close(held.instance)

        return held.instance, release


def _open_adbc(database: str) -> AdbcConnection:
    """An ADBC connection holding a new DuckDB database instance open; its clones share the instance."""
    import adbc_driver_duckdb  # shipped in the duckdb wheel; connect() and driver_path() are its public API
    import adbc_driver_manager
    import adbc_driver_manager.dbapi

    instance = adbc_driver_duckdb.connect(None if _file_key(database) is None else database)
    return adbc_driver_manager.dbapi.Connection(instance, adbc_driver_manager.AdbcConnection(instance), autocommit=True)


class Closable(Protocol):
    def close(self) -> None: ...


def close_quietly(closable: Closable) -> None:
    """Close an ADBC connection or cursor; one whose database is already gone has nothing left to close."""
    with contextlib.suppress(Exception):
        closable.close()


_ADBC_INSTANCES: SharedInstances[AdbcConnection] = SharedInstances(_open_adbc, close_quietly)


def adbc_connection(database: str, wait: float = 0.0) -> tuple[AdbcConnection, Callable[[], None]]:
    """A new autocommit ADBC connection to this process's DuckDB instance of ``database`` (another process's
    file lock waited for up to ``wait`` seconds), and its let-go call.

    Call the let-go once the connection is closed: the last one closes the
    instance, and with it the file lock.
    """
    root, let_go = _ADBC_INSTANCES.hold(database, wait)
    try:
        clone = root.adbc_clone()
        clone.adbc_connection.set_autocommit(True)  # a clone starts out in a driver-managed transaction
    except BaseException:
        let_go()
        raise
    return clone, let_go
