"""``sqlite3`` connection glue: a small thread-safe pool and explicit transactions."""

from __future__ import annotations

import queue
import sqlite3
import threading
from typing import TypeVar

from sqlspec_adk.adapters._sqlite import SqliteConfigBase, run_transaction
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.protocol import Op

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
            return run_transaction(acquired, op, self.begin_sql(write))
        except BaseException:
            if acquired.in_transaction:  # the rollback failed too
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
