"""``sqlite3`` connection glue: one writer connection, a small thread-safe pool of readers."""

from __future__ import annotations

import queue
import sqlite3
import threading
from functools import partial

from sqlspec_adk.adapters._sqlite import (
    StdlibGlue,
    connect_arguments,
    connection_pragmas,
    is_memory_database,
    set_up,
    write_lock,
)
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.sqlite import SqliteDialect

__all__ = ["SqliteConfig"]


class SqliteConfig(StdlibGlue, SyncDatabaseConfig[sqlite3.Connection]):
    """Config for the stdlib ``sqlite3`` driver.

    ``connection_config`` takes ``sqlite3.connect`` keywords (``database``,
    ...); ``pool_config={"max_size": n}`` bounds open connections (default 4;
    an in-memory database always uses exactly one). A file database's writes
    run under the file's process-wide write lock
    (:class:`~sqlspec_adk.adapters._sqlite.WriteLock`), on one connection of
    their own when ``max_size`` leaves room for it (the readers get the
    others). Connections are shared across threads but used by one thread at a
    time, so the stores can run in worker threads.
    """

    dialect_class = SqliteDialect

    def configure(self) -> None:
        self.check_pool_keys(("max_size",), location="database")
        self.database, self._connect_kwargs = connect_arguments(self.connection_config, self.adk.busy_timeout)
        self._connect_kwargs["check_same_thread"] = False
        self.max_size = 1 if is_memory_database(self.database) else int(self.pool_config.get("max_size", 4))
        self._write_lock = write_lock(self.database)  # None in memory: the one connection does everything
        self._own_writer = self._write_lock is not None and self.max_size > 1
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.max_size - self._own_writer)
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []  # the pooled ones
        self._writer: sqlite3.Connection | None = None
        self._retired = False  # close_pool ran while the writer was in use: close it when it comes back
        self._locking: sqlite3.Connection | None = None  # the connection holding the write lock

    def _connect(self) -> sqlite3.Connection:
        self.claim_file()
        connection: sqlite3.Connection = sqlite3.connect(self.database, **self._connect_kwargs)
        for pragma in connection_pragmas(self.database, self.adk.busy_timeout, self.adk.backend.sqlite):
            set_up(partial(connection.execute, pragma), self.adk.busy_timeout)
        return connection

    def acquire(self, write: bool) -> sqlite3.Connection:
        if not write or self._write_lock is None:
            return self._pooled()
        self._write_lock.take(self.adk.busy_timeout)
        try:
            if not self._own_writer:
                connection = self._pooled()
            else:
                if self._writer is None:
                    self._writer = self._connect()
                connection = self._writer
        except BaseException:
            self._write_lock.give()
            raise
        self._locking = connection
        return connection

    def _pooled(self) -> sqlite3.Connection:
        self._slots.acquire()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            try:
                connection = self._connect()
            except BaseException:
                self._slots.release()
                raise
        with self._lock:
            self._all.append(connection)
        return connection

    def release(self, connection: sqlite3.Connection, discard: bool) -> None:
        locked = connection is self._locking
        if locked:
            self._locking = None
        try:
            if connection is not self._writer:
                if discard:
                    with self._lock:
                        if connection in self._all:
                            self._all.remove(connection)
                    connection.close()
                else:
                    self._idle.put(connection)
                self._slots.release()
            elif discard or self._retired:
                self._writer, self._retired = None, False
                connection.close()
        finally:
            if locked and self._write_lock is not None:
                self._write_lock.give()

    def close_pool(self) -> None:
        # A write in flight ends first; one that outlasts busy_timeout closes its connection on release.
        taken = self._write_lock is not None and self._write_lock.try_take(self.adk.busy_timeout)
        if self._writer is not None and not taken:
            self._retired = True
        elif self._writer is not None:
            self._writer.close()
            self._writer = None
        if taken and self._write_lock is not None:
            self._write_lock.give()
        with self._lock:
            connections, self._all = self._all, []
        while not self._idle.empty():
            self._idle.get_nowait()
        for connection in connections:
            connection.close()
        self.release_file()
