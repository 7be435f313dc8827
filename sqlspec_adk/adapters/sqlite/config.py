"""``sqlite3`` connection glue: a small thread-safe pool of stdlib connections."""

from __future__ import annotations

import queue
import sqlite3
import threading

from sqlspec_adk.adapters._sqlite import StdlibGlue, connect_arguments, connection_pragmas, is_memory_database
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.sqlite import SqliteDialect

__all__ = ["SqliteConfig"]


class SqliteConfig(StdlibGlue, SyncDatabaseConfig[sqlite3.Connection]):
    """Config for the stdlib ``sqlite3`` driver.

    ``connection_config`` takes ``sqlite3.connect`` keywords (``database``,
    ...); ``pool_config={"max_size": n}`` bounds open connections (default 4;
    an in-memory database always uses exactly one). Connections are shared
    across threads but used by one thread at a time, so the stores can run in
    worker threads.
    """

    dialect_class = SqliteDialect

    def configure(self) -> None:
        self.database, self._connect_kwargs = connect_arguments(self.connection_config, self.adk.busy_timeout)
        self._connect_kwargs["check_same_thread"] = False
        self.max_size = 1 if is_memory_database(self.database) else int(self.pool_config.get("max_size", 4))
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.max_size)
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def _connect(self) -> sqlite3.Connection:
        self.claim_file()
        connection: sqlite3.Connection = sqlite3.connect(self.database, **self._connect_kwargs)
        for pragma in connection_pragmas(self.database, self.adk.busy_timeout):
            connection.execute(pragma)
        with self._lock:
            self._all.append(connection)
        return connection

    def acquire(self, write: bool) -> sqlite3.Connection:
        self._slots.acquire()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            try:
                return self._connect()
            except BaseException:
                self._slots.release()
                raise

    def release(self, connection: sqlite3.Connection, discard: bool) -> None:
        if discard:
            with self._lock:
                if connection in self._all:
                    self._all.remove(connection)
            connection.close()
        else:
            self._idle.put(connection)
        self._slots.release()

    def close_pool(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        while not self._idle.empty():
            self._idle.get_nowait()
        for connection in connections:
            connection.close()
        self.release_file()
