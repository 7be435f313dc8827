"""``sqlite3`` connection glue: a small thread-safe pool and explicit transactions."""

from __future__ import annotations

import queue
import sqlite3
import threading
from typing import Any, TypeVar

from sqlspec_adk.adapters._sqlite import SqliteConfigBase
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync

__all__ = ["SqliteConfig"]

T = TypeVar("T")


class SqliteConfig(SqliteConfigBase, SyncDatabaseConfig):
    """Config for the stdlib ``sqlite3`` driver; keys as :class:`~sqlspec_adk.adapters._sqlite.SqliteConfigBase`.

    Connections are shared across threads but used by one thread at a time,
    so the stores can run in worker threads.
    """

    def configure_pool(self) -> None:
        self._connect_kwargs["check_same_thread"] = False
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.max_size)
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def _connect(self) -> sqlite3.Connection:
        self.claim_file()
        connection: sqlite3.Connection = sqlite3.connect(self.database, **self._connect_kwargs)
        for pragma in self.pragmas():
            connection.execute(pragma)
        with self._lock:
            self._all.append(connection)
        return connection

    def _acquire(self) -> sqlite3.Connection:
        self._slots.acquire()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            try:
                return self._connect()
            except BaseException:
                self._slots.release()
                raise

    def _release(self, connection: sqlite3.Connection | None) -> None:
        if connection is not None:
            self._idle.put(connection)
        self._slots.release()

    def run(self, op: Op[T], *, write: bool) -> T:
        acquired = self._acquire()
        connection: sqlite3.Connection | None = acquired
        try:
            acquired.execute(self.begin_sql(write))
            result = drive_sync(op, lambda stmt: _execute(acquired, stmt))
            acquired.execute("COMMIT")
            return result
        except BaseException:
            if acquired.in_transaction:
                try:
                    acquired.rollback()
                except sqlite3.Error:
                    self._discard(acquired)
                    connection = None
            raise
        finally:
            self._release(connection)

    def _discard(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if connection in self._all:
                self._all.remove(connection)
        connection.close()

    def close_pool(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        while not self._idle.empty():
            self._idle.get_nowait()
        for connection in connections:
            connection.close()
        self.release_file()


def _execute(connection: sqlite3.Connection, stmt: Stmt) -> Any:
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
