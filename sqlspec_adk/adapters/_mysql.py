"""Driver glue shared by the four MySQL/MariaDB adapters.

The adapters differ only in how they open a connection (or a pool) and in
small driver quirks; everything else lives here once:

- connect keywords: ``utf8mb4`` and autocommit forced (transactions are
  explicit), ``db``/``database`` accepted under either name;
- per connection, once: READ COMMITTED as the session default, the lock wait
  timeout from ``busy_timeout``, strict mode (an over-long value is an error,
  never silently cut);
- per transaction: ``START TRANSACTION`` for writes; ``SET TRANSACTION
  ISOLATION LEVEL REPEATABLE READ`` + ``START TRANSACTION WITH CONSISTENT
  SNAPSHOT, READ ONLY`` for reads, so a multi-statement read sees one snapshot;
- a pooled connection that fails the first statement of a transaction (killed,
  timed out, server restarted) is dropped and the transaction starts on
  another one, so a dead connection never breaks the next call;
- a deadlock, a lock wait timeout or a connection lost before COMMIT rolls
  back and runs a fresh copy of a :class:`~sqlspec_adk.dialects.mysql.Replayable`
  operation, a bounded number of times (a connection lost *during* COMMIT is
  raised: the outcome is unknown);
- a duplicate key on an ``INSERT`` run for its row count is 0 rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import queue
import random
import threading
import time
import weakref
from collections.abc import Generator, Mapping
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.mysql import MysqlDialect, Replayable
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_async, drive_sync, to_format_params
from sqlspec_adk.protocol import _split_outside_quotes as split_outside_quotes

__all__ = ["MysqlAsyncConfig", "MysqlConfigBase", "MysqlSyncConfig", "error_code"]

T = TypeVar("T")

DUPLICATE_KEY = 1062
#: Deadlock, lock wait timeout, MariaDB's "record has changed since last read" (snapshot isolation).
RETRYABLE = frozenset({1213, 1205, 1020})
#: The connection is gone: gone away, lost, lost while reading, idle timeout (MySQL), killed (MariaDB), shutdown.
CONNECTION_LOST = frozenset({2006, 2013, 2055, 4031, 1927, 1053})
#: Runs of a replayable operation, the first included.
MAX_ATTEMPTS = 4
WRITE_BEGIN = ("START TRANSACTION",)
READ_BEGIN = (
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
)


def error_code(error: BaseException) -> int | None:
    """The server error number of any of the four drivers' exceptions, or None."""
    args = getattr(error, "args", ())
    for value in (getattr(error, "errno", None), args[0] if args else None):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def should_replay(op: Op[Any], error: Exception, attempt: int) -> bool:
    """Whether ``op`` failed transiently and may run again in a new transaction.

    A deadlock or lock wait timeout rolled the transaction back. A lost
    connection did too, unless it was lost during COMMIT: then the outcome is
    unknown and the error is raised (marked by :func:`mark_commit_failed`).
    """
    if not isinstance(op, Replayable) or attempt + 1 >= MAX_ATTEMPTS:
        return False
    code = error_code(error)
    if code in RETRYABLE:
        return True
    lost = code in CONNECTION_LOST or isinstance(error, ConnectionError)
    return lost and not getattr(error, _COMMIT_FAILED, False)


_COMMIT_FAILED = "sqlspec_adk_commit_failed"


def mark_commit_failed(error: Exception) -> None:
    """Record on ``error`` that COMMIT itself failed: the transaction may have committed."""
    setattr(error, _COMMIT_FAILED, True)
    error.add_note("sqlspec-adk: COMMIT failed; the transaction may or may not have been committed")


def backoff(attempt: int) -> float:
    """Seconds to wait before run ``attempt + 1``: short, growing, jittered."""
    return random.uniform(0.005, 0.02) * 2.0**attempt  # noqa: S311 - jitter, not security


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


@lru_cache(maxsize=1024)
def _format_sql(sql: str, escape_percent: bool) -> tuple[str, int]:
    """(the statement in ``%s`` style, its number of placeholders)."""
    formatted = to_format_params(sql)
    return (formatted if escape_percent else formatted.replace("%%", "%")), len(split_outside_quotes(sql)) - 1


def prepare(stmt: Stmt, escape_percent: bool) -> tuple[str, Any]:
    """(sql, params) in the driver's ``%s`` style; no params means no ``%`` processing at all.

    A parameter count that does not match the placeholders is the same clear
    error on every driver (each would word it differently, or not name the statement).
    """
    if not stmt.params:
        return stmt.sql, None
    sql, placeholders = _format_sql(stmt.sql, escape_percent)
    rows = [tuple(row) for row in stmt.params] if stmt.many else [tuple(stmt.params)]
    for row in rows:
        if len(row) != placeholders:
            raise ValueError(f"{len(row)} parameters for {placeholders} placeholders in: {stmt.sql}")
    return sql, rows if stmt.many else rows[0]


def absorbs_duplicate(stmt: Stmt, error: Exception) -> bool:
    """An INSERT run for its row count reports a duplicate key as 0 rows (``ON CONFLICT DO NOTHING``)."""
    return (
        stmt.fetch is Fetch.ROWCOUNT
        and not stmt.many
        and error_code(error) == DUPLICATE_KEY
        and stmt.sql.lstrip()[:6].upper() == "INSERT"
    )


def statement(cursor: Any, stmt: Stmt, escape_percent: bool) -> Generator[Any, Any, Any]:
    """One statement on a DB-API cursor, written once for sync and async cursors.

    Yields each cursor call's return value (a result, or an awaitable on an
    async cursor) and receives its outcome; see :func:`execute_sync` and
    :func:`execute_async`.
    """
    sql, params = prepare(stmt, escape_percent)
    try:
        yield cursor.executemany(sql, params) if stmt.many else cursor.execute(sql, params)
    except Exception as error:
        if absorbs_duplicate(stmt, error):
            return 0
        raise
    if stmt.fetch is Fetch.ROWCOUNT:
        return cursor.rowcount
    if stmt.fetch is Fetch.NONE or cursor.description is None:  # no result set: nothing to fetch
        return [] if stmt.fetch is Fetch.ALL else None
    return (yield cursor.fetchone() if stmt.fetch is Fetch.ONE else cursor.fetchall())


def execute_sync(cursor: Any, stmt: Stmt, escape_percent: bool) -> Any:
    steps = statement(cursor, stmt, escape_percent)
    try:
        value = next(steps)
        while True:
            value = steps.send(value)
    except StopIteration as stop:
        return stop.value


async def execute_async(cursor: Any, stmt: Stmt) -> Any:
    steps = statement(cursor, stmt, True)
    try:
        pending = next(steps)
        while True:
            try:
                value = await pending
            except Exception as error:
                pending = steps.throw(error)
            else:
                pending = steps.send(value)
    except StopIteration as stop:
        return stop.value


def pool_size(pool_config: Mapping[str, Any], default: int) -> int:
    """``max_size`` (or the driver spelling ``maxsize``) of a pool config, validated."""
    value = pool_config.get("max_size", pool_config.get("maxsize", default))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"pool_config max_size must be a positive integer, got {value!r}")
    return value


class MysqlConfigBase(DatabaseConfig):
    """What the sync and async MySQL configs share: connect keywords, per-connection setup, pool settings."""

    dialect_class = MysqlDialect
    #: The driver's name for the database keyword.
    database_key: ClassVar[str] = "database"

    def configure(self) -> None:
        self.connect_kwargs = connect_kwargs(self.connection_config, self.database_key)
        self.setup = session_setup(self.adk.busy_timeout)
        self.configure_pool()

    def configure_pool(self) -> None:
        """Validate ``pool_config`` and set up the (empty) pool; runs at construction."""
        raise NotImplementedError


class MysqlSyncConfig(MysqlConfigBase, SyncDatabaseConfig):
    """Base of the sync MySQL configs: a small thread-safe pool and explicit transactions.

    ``pool_config={"max_size": n}`` (default 5) bounds open connections.
    Subclasses set :attr:`database_key` and implement :meth:`connect`.
    """

    #: Whether the driver turns ``%%`` back into ``%`` (PyMySQL does, mysql-connector does not).
    escape_percent: ClassVar[bool] = True

    def configure_pool(self) -> None:
        self.max_size = pool_size(self.pool_config, 5)
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.max_size)

    def connect(self) -> Any:
        """A new driver connection from :attr:`connect_kwargs`."""
        raise NotImplementedError

    def cursor(self, connection: Any) -> Any:
        """A buffered cursor (every result is read before the next statement)."""
        return connection.cursor()

    def run(self, op: Op[T], *, write: bool) -> T:
        attempt = 0
        while True:
            try:
                return self._run_once(op, write)
            except Exception as error:
                if not should_replay(op, error, attempt):
                    raise
                assert isinstance(op, Replayable)
                op, attempt = op.replay(), attempt + 1
                time.sleep(backoff(attempt))

    def _run_once(self, op: Op[T], write: bool) -> T:
        with self._slots:
            connection, cursor = self._begin(write)
            try:
                result = drive_sync(op, lambda stmt: execute_sync(cursor, stmt, self.escape_percent))
                try:
                    cursor.execute("COMMIT")
                except Exception as error:
                    mark_commit_failed(error)
                    raise
            except BaseException as error:
                self._abort(connection, cursor, error)
                raise
            cursor.close()
            self._idle.put(connection)
            return result

    def _begin(self, write: bool) -> tuple[Any, Any]:
        """A connection in a new transaction; an idle connection that fails to start one is replaced."""
        while True:
            try:
                connection, fresh = self._idle.get_nowait(), False
            except queue.Empty:
                connection, fresh = self.connect(), True
            try:
                cursor = self.cursor(connection)
                for sql in (self.setup if fresh else ()) + (WRITE_BEGIN if write else READ_BEGIN):
                    cursor.execute(sql)
                return connection, cursor
            except Exception:
                _close_quietly(connection)
                if fresh:
                    raise

    def _abort(self, connection: Any, cursor: Any, error: BaseException) -> None:
        """Roll back and keep the connection; drop it if that fails or a statement was interrupted."""
        if isinstance(error, Exception):
            try:
                cursor.execute("ROLLBACK")
                cursor.close()
            except Exception:  # noqa: S110 - the connection is dropped below
                pass
            else:
                self._idle.put(connection)
                return
        _close_quietly(connection)

    def close_pool(self) -> None:
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return


class MysqlAsyncConfig(MysqlConfigBase, AsyncDatabaseConfig):
    """Base of the async MySQL configs: the driver's own pool and explicit transactions.

    ``pool_config`` goes to the driver's ``create_pool`` (``minsize``,
    ``maxsize``, ``pool_recycle``, ...; ``min_size``/``max_size`` are accepted
    too). Subclasses set :attr:`database_key` and implement :meth:`create_pool`.
    """

    def configure_pool(self) -> None:
        options = dict(self.pool_config)
        for alias, name in (("min_size", "minsize"), ("max_size", "maxsize")):
            if alias in options:
                options[name] = options.pop(alias)
        options["maxsize"] = pool_size(options, 10)
        self.pool_kwargs = options
        self._ready: weakref.WeakSet[Any] = weakref.WeakSet()
        self._pool: Any = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock: asyncio.Lock | None = None

    async def create_pool(self) -> Any:
        """The driver's pool, from :attr:`connect_kwargs` and :attr:`pool_kwargs`."""
        raise NotImplementedError

    async def _get_pool(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._pool_loop is loop:
            return self._pool
        if self._pool_lock is None or self._pool_loop is not loop:
            self._pool_lock, self._pool_loop, self._pool = asyncio.Lock(), loop, None
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await self.create_pool()
        return self._pool

    async def run(self, op: Op[T], *, write: bool) -> T:
        attempt = 0
        while True:
            try:
                return await self._run_once(op, write)
            except Exception as error:
                if not should_replay(op, error, attempt):
                    raise
                assert isinstance(op, Replayable)
                op, attempt = op.replay(), attempt + 1
                await asyncio.sleep(backoff(attempt))

    async def _run_once(self, op: Op[T], write: bool) -> T:
        pool = await self._get_pool()
        connection, cursor = await self._begin(pool, write)
        try:
            result = await drive_async(op, lambda stmt: execute_async(cursor, stmt))
            try:
                await cursor.execute("COMMIT")
            except Exception as error:
                mark_commit_failed(error)
                raise
        except Exception:
            try:
                await cursor.execute("ROLLBACK")
            except Exception:
                connection.close()
            raise
        except BaseException:
            connection.close()  # cancelled mid-statement: the protocol state is unknown
            raise
        finally:
            await _release(pool, connection, cursor)
        return result

    async def _begin(self, pool: Any, write: bool) -> tuple[Any, Any]:
        """A connection in a new transaction; a pooled connection that fails to start one is replaced."""
        attempts = int(self.pool_kwargs["maxsize"]) + 1
        for attempt in range(attempts):
            connection = await pool.acquire()
            cursor = None
            try:
                cursor = connection.cursor()
                if inspect.isawaitable(cursor):
                    cursor = await cursor
                setup = () if connection in self._ready else self.setup
                for sql in setup + (WRITE_BEGIN if write else READ_BEGIN):
                    await cursor.execute(sql)
            except BaseException as error:
                connection.close()
                await _release(pool, connection, cursor)
                if attempt + 1 == attempts or not isinstance(error, Exception):
                    raise
                continue
            self._ready.add(connection)
            return connection, cursor
        raise AssertionError("unreachable")

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            await pool.wait_closed()


async def _release(pool: Any, connection: Any, cursor: Any) -> None:
    """Close the cursor and hand the connection back (the pool drops a closed one)."""
    try:
        if cursor is not None:
            await cursor.close()
    except Exception:
        connection.close()
    finally:
        pool.release(connection)


def _close_quietly(connection: Any) -> None:
    with contextlib.suppress(Exception):  # the connection is being thrown away
        connection.close()
