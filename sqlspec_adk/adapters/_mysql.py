"""Connection glue the four MySQL/MariaDB adapters share (aiomysql, asyncmy, PyMySQL, mysql-connector).

The adapters differ only in how they open a connection (or a pool), how they
make a cursor and how they tell an open transaction; everything else is here
once, as answers to the engine's questions (:mod:`sqlspec_adk.engine.driver`):

- connect keywords: ``utf8mb4`` and autocommit forced (transactions are
  explicit: :attr:`~sqlspec_adk.dialects.mysql.MysqlDialect.rules`),
  ``db``/``database`` accepted under either name;
- per connection, once: READ COMMITTED as the session default, the lock wait
  timeout from ``busy_timeout``, strict mode (an over-long value is an error,
  never silently cut);
- statements in the drivers' ``%s`` style (:func:`prepare`);
- what an error is (:func:`classify_mysql`): deadlock, lock wait timeout and
  MariaDB's snapshot conflict are ROLLED_BACK, a connection gone is LOST, a
  duplicate key is DUPLICATE, DDL finding its object there (or gone) is
  EXISTS. A pooled connection that fails the first statement of a
  transaction (killed, timed out, server restarted) is thus replaced by the
  engine, after :meth:`refresh` dropped the other idle ones.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import math
import queue
import threading
import weakref
from collections.abc import Awaitable, Generator, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from sqlspec_adk.config import AsyncDriverConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.mysql import MysqlDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.paramstyle import format_percent, placeholder_count
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = [
    "AsyncPool",
    "Cursor",
    "MysqlAsyncConfig",
    "MysqlSyncConfig",
    "classify_mysql",
    "connect_kwargs",
    "error_code",
    "prepare",
    "session_setup",
]

DUPLICATE_KEY = 1062
#: Deadlock, lock wait timeout, MariaDB's "record has changed since last read" (snapshot isolation).
ROLLED_BACK = frozenset({1213, 1205, 1020})
#: The connection is gone: gone away, lost, lost while reading, idle timeout (MySQL), killed (MariaDB), shutdown.
CONNECTION_LOST = frozenset({2006, 2013, 2055, 4031, 1927, 1053})
#: DDL whose object is already there (table, column, index) or already gone (unknown table, can't drop).
ALREADY = frozenset({1050, 1060, 1061, 1051, 1091})


class Closable(Protocol):
    def close(self) -> object: ...


class Cursor(Protocol):
    """The DB-API cursor calls used here; an async driver's calls return awaitables."""

    @property
    def rowcount(self) -> Any: ...

    @property
    def description(self) -> Any: ...

    def execute(self, sql: str, params: Any, /) -> Any: ...

    def executemany(self, sql: str, params: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...

    def close(self) -> Any: ...


class AsyncPool(Protocol):
    """The public calls of an aiomysql / asyncmy pool used here."""

    def acquire(self) -> Awaitable[Any]: ...

    def release(self, connection: Any, /) -> object: ...

    async def clear(self) -> None: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


C = TypeVar("C", bound=Closable)


def error_code(error: BaseException) -> int | None:
    """The server error number of any of the four drivers' exceptions, or None."""
    args = getattr(error, "args", ())
    for value in (getattr(error, "errno", None), args[0] if args else None):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def classify_mysql(error: BaseException) -> ErrorKind | None:
    """What the engine does with a driver error: retry (rolled back, connection lost), 0 rows (duplicate),
    done already (DDL whose object exists or is gone, for a statement marked ``exists_ok``), or raise."""
    code = error_code(error)
    if code == DUPLICATE_KEY:
        return ErrorKind.DUPLICATE
    if code in ROLLED_BACK:
        return ErrorKind.ROLLED_BACK
    if code in CONNECTION_LOST or isinstance(error, ConnectionError):
        return ErrorKind.LOST
    if code in ALREADY:
        return ErrorKind.EXISTS
    return None


def session_setup(lock_timeout: float) -> tuple[str, ...]:
    """Statements run once on every new connection."""
    seconds = max(1, math.ceil(lock_timeout))
    return (
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        f"SET SESSION innodb_lock_wait_timeout = {seconds}, "
        "SESSION sql_notes = 0, SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
    )


def connect_kwargs(connection_config: Mapping[str, Any], database_key: str) -> dict[str, Any]:
    """The driver's connect keywords: ``utf8mb4``, autocommit, the database under the driver's own name."""
    options = dict(connection_config)
    other = "database" if database_key == "db" else "db"
    if other in options:
        if database_key in options:
            raise ConfigError(f"connection_config names the database twice ('db' and 'database'); use {database_key!r}")
        options[database_key] = options.pop(other)
    charset = options.setdefault("charset", "utf8mb4")
    if charset != "utf8mb4":
        raise ConfigError(f"connection_config['charset'] must be 'utf8mb4' (emoji and every script), got {charset!r}")
    if options.get("autocommit") is False:
        raise ConfigError("connection_config['autocommit'] must stay on: sqlspec-adk runs explicit transactions")
    options["autocommit"] = True
    return options


def pool_size(pool_config: Mapping[str, Any], default: int) -> int:
    """``max_size`` (or the driver spelling ``maxsize``) of a pool config, validated."""
    value = pool_config.get("max_size", pool_config.get("maxsize", default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"pool_config max_size must be a positive integer, got {value!r}")
    return value


def prepare(stmt: Stmt, escape_percent: bool) -> tuple[str, Any]:
    """(sql, params) in the driver's ``%s`` style; no params means no ``%`` processing at all.

    A parameter count that does not match the placeholders is the same clear
    error on every driver (each would word it differently, or not name the statement).
    """
    if not stmt.params:
        return stmt.sql, None
    placeholders = placeholder_count(stmt.sql)
    rows = [tuple(row) for row in stmt.params] if stmt.many else [tuple(stmt.params)]
    for row in rows:
        if len(row) != placeholders:
            raise ValueError(f"{len(row)} parameters for {placeholders} placeholders in: {stmt.sql}")
    return format_percent(stmt.sql, escape_percent=escape_percent), rows if stmt.many else rows[0]


def statement(cursor: Cursor, stmt: Stmt, escape_percent: bool) -> Generator[Any, Any, Any]:
    """One statement on a DB-API cursor, written once for sync and async cursors.

    Yields each cursor call's return value (a result, or an awaitable on an
    async cursor) and receives its outcome back.
    """
    sql, params = prepare(stmt, escape_percent)
    yield cursor.executemany(sql, params) if stmt.many else cursor.execute(sql, params)
    if stmt.fetch is Fetch.ROWCOUNT:
        return cursor.rowcount
    if stmt.fetch is Fetch.NONE or cursor.description is None:  # no result set: nothing to fetch
        return [] if stmt.fetch is Fetch.ALL else None
    return (yield cursor.fetchone() if stmt.fetch is Fetch.ONE else cursor.fetchall())


def _close_quietly(connection: Closable) -> None:
    with contextlib.suppress(Exception):  # the connection is being thrown away
        connection.close()


class MysqlSyncConfig(SyncDatabaseConfig[C]):
    """Base of the sync MySQL configs: a small thread-safe pool of driver connections.

    ``pool_config={"max_size": n}`` (default 5) bounds open connections.
    Each connection keeps one cursor for its lifetime (mysql-connector pings
    the server whenever it makes a cursor). A driver sets
    :attr:`database_key` and implements :meth:`connect`, :meth:`cursor` and
    ``in_transaction``.
    """

    dialect_class = MysqlDialect
    #: The driver's name for the database keyword.
    database_key: ClassVar[str] = "database"
    #: Whether the driver turns ``%%`` back into ``%`` (PyMySQL does, mysql-connector does not).
    escape_percent: ClassVar[bool] = True

    def configure(self) -> None:
        self.connect_kwargs = connect_kwargs(self.connection_config, self.database_key)
        self.setup = session_setup(self.adk.busy_timeout)
        self.max_size = pool_size(self.pool_config, 5)
        self._idle: queue.LifoQueue[C] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.max_size)
        #: The cursor of every open connection (a connection leaves only through :meth:`_close`).
        self._cursors: dict[C, Cursor] = {}

    @abc.abstractmethod
    def connect(self) -> C:
        """A new driver connection from :attr:`connect_kwargs`."""

    @abc.abstractmethod
    def cursor(self, connection: C) -> Cursor:
        """A buffered cursor (every result is read before the next statement)."""

    def group_commit_slots(self) -> int:
        return self.max_size

    def _close(self, connection: C) -> None:
        self._cursors.pop(connection, None)
        _close_quietly(connection)

    def acquire(self, write: bool) -> C:
        self._slots.acquire()
        try:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            connection = self.connect()
            try:
                self._cursors[connection] = self.cursor(connection)
                for sql in self.setup:
                    self.command(connection, sql)
            except BaseException:
                self._close(connection)
                raise
            return connection
        except BaseException:
            self._slots.release()
            raise

    def release(self, connection: C, discard: bool) -> None:
        try:
            if discard:
                self._close(connection)
            else:
                self._idle.put(connection)
        finally:
            self._slots.release()

    def refresh(self) -> None:
        while True:
            try:
                self._close(self._idle.get_nowait())
            except queue.Empty:
                return

    def execute(self, connection: C, stmt: Stmt) -> Any:
        steps = statement(self._cursors[connection], stmt, self.escape_percent)
        try:
            value = next(steps)
            while True:
                value = steps.send(value)
        except StopIteration as stop:
            return stop.value

    def command(self, connection: C, sql: str) -> None:
        self._cursors[connection].execute(sql, None)

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_mysql(error)

    def close_pool(self) -> None:
        self.refresh()


class MysqlAsyncConfig(AsyncDriverConfig[C]):
    """Base of the async MySQL configs: the driver's own pool, one per event loop.

    ``pool_config`` goes to the driver's ``create_pool`` (``minsize``,
    ``maxsize``, ``pool_recycle``, ...; ``min_size``/``max_size`` are accepted
    too). A driver sets :attr:`database_key` and implements
    :meth:`create_pool`, :meth:`cursor` and ``in_transaction``. A connection
    keeps one cursor from acquire to release (a cursor per statement cost
    a tenth of an append's client CPU in benchmark W1c).
    """

    #: :meth:`release` awaits nothing (the drivers' ``pool.release`` is a plain call): nothing can
    #: interrupt it, so the engine spends no shielding task on it.
    release_suspends: ClassVar[bool] = False

    dialect_class = MysqlDialect
    database_key: ClassVar[str] = "database"

    def configure(self) -> None:
        self.connect_kwargs = connect_kwargs(self.connection_config, self.database_key)
        self.setup = session_setup(self.adk.busy_timeout)
        options = dict(self.pool_config)
        for alias, name in (("min_size", "minsize"), ("max_size", "maxsize")):
            if alias in options:
                options[name] = options.pop(alias)
        options["maxsize"] = pool_size(options, 10)
        self.pool_kwargs = options
        #: The pool each set-up connection belongs to (a connection not in it is new).
        self._owners: weakref.WeakKeyDictionary[C, AsyncPool] = weakref.WeakKeyDictionary()
        self._pool: AsyncPool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock: asyncio.Lock | None = None
        #: Turns at the pool, one per connection, handed out first come first served (see :meth:`acquire`).
        self._turns: asyncio.Semaphore | None = None
        #: Per acquired connection: the turn it holds, and its cursor once it ran a statement.
        self._held: dict[C, asyncio.Semaphore] = {}
        self._cursors: dict[C, Cursor] = {}

    def group_commit_slots(self) -> int:
        return int(self.pool_kwargs["maxsize"])

    @abc.abstractmethod
    async def create_pool(self) -> AsyncPool:
        """The driver's pool, from :attr:`connect_kwargs` and :attr:`pool_kwargs`."""

    @abc.abstractmethod
    async def cursor(self, connection: C) -> Cursor:
        """A buffered cursor whose calls return awaitables."""

    async def _get_pool(self) -> AsyncPool:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._pool_loop is loop:
            return self._pool
        if self._pool_lock is None or self._pool_loop is not loop:
            self._pool_lock, self._pool_loop, self._pool = asyncio.Lock(), loop, None
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await self.create_pool()
                self._turns = asyncio.Semaphore(int(self.pool_kwargs["maxsize"]))
            return self._pool

    async def acquire(self, write: bool) -> C:
        """A pooled connection, callers served in arrival order.

        The drivers' pools let a task that just released a connection take it
        straight back, past the tasks already waiting for one (benchmark W1c,
        32 sessions on 10 connections: p50 2 ms, p99 250-320 ms). A turn of a
        fair semaphore as large as the pool is taken first, so a connection is
        free whenever a caller reaches the pool.
        """
        pool = await self._get_pool()
        turns = self._turns
        assert turns is not None
        await turns.acquire()
        try:
            connection: C = await pool.acquire()
        except BaseException:
            turns.release()
            raise
        self._held[connection] = turns
        if connection in self._owners:
            return connection
        try:
            for sql in self.setup:
                await self.command(connection, sql)
        except BaseException:
            self._give_back(connection, pool, discard=True)
            raise
        self._owners[connection] = pool
        return connection

    async def release(self, connection: C, discard: bool) -> None:
        self._give_back(connection, self._owners.get(connection), discard)

    def _give_back(self, connection: C, pool: AsyncPool | None, discard: bool) -> None:
        """Drop the connection's cursor, close it when ``discard``, hand it to ``pool`` and free its turn."""
        self._cursors.pop(connection, None)  # buffered: nothing is left to read, dropping it closes it
        if discard:
            _close_quietly(connection)
        if pool is not None:
            pool.release(connection)  # a closed connection leaves the pool
        turn = self._held.pop(connection, None)
        if turn is not None:
            turn.release()

    async def refresh(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):  # a dead idle connection may fail its QUIT: drop what remains later
                await self._pool.clear()

    async def _cursor(self, connection: C) -> Cursor:
        cursor = self._cursors.get(connection)
        if cursor is None:
            cursor = self._cursors[connection] = await self.cursor(connection)
        return cursor

    async def execute(self, connection: C, stmt: Stmt) -> Any:
        steps = statement(await self._cursor(connection), stmt, True)
        try:
            pending = next(steps)
            while True:
                pending = steps.send(await pending)
        except StopIteration as stop:
            return stop.value

    async def command(self, connection: C, sql: str) -> None:
        await (await self._cursor(connection)).execute(sql, None)

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_mysql(error)

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            await pool.wait_closed()
