"""Raw driver access for the floor: the fewest calls each driver needs, nothing else.

Each driver offers three things: a single statement outside any explicit
transaction (a lone statement is atomic on every database here), and a
write transaction of several statements where a statement may be required
to change exactly one row (else the transaction rolls back and
:class:`StaleSessionError` is raised). Sync drivers run a whole call in one
worker thread (one thread hop per operation, like any async service must).
Pools hold up to :data:`POOL_SIZE` connections, so concurrent transactions run
on their own connections; SQLite uses one connection and serializes the calls
of concurrent tasks on it (one writer at a time, as SQLite admits).
"""

from __future__ import annotations

import abc
import asyncio
import queue
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Literal

from google.adk.errors import StaleSessionError

from benchmarks.contenders.adapters import SERVER_POOL
from benchmarks.contenders.base import Endpoint

__all__ = ["POOL_SIZE", "RawDriver", "Write", "raw_driver"]

POOL_SIZE = SERVER_POOL
Style = Literal["qmark", "dollar", "format"]
#: (sql, params, must change exactly one row)
Write = tuple[str, Sequence[Any], bool]


def placeholders(sql: str, style: Style) -> str:
    """Rewrite the floor's ``?`` marks (its SQL has no ``?`` or ``%`` in literals)."""
    if style == "qmark":
        return sql
    if style == "format":
        return sql.replace("?", "%s")
    pieces = sql.split("?")
    return "".join(piece + (f"${index}" if index < len(pieces) else "") for index, piece in enumerate(pieces, start=1))


class RawDriver(abc.ABC):
    style: Style

    async def open(self) -> None:
        """Connect."""
        return None

    async def close(self) -> None:
        """Disconnect."""
        return None

    @abc.abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        """One statement on its own; returns the row count."""

    @abc.abstractmethod
    async def transaction(self, writes: Sequence[Write]) -> None: ...


def _stale() -> StaleSessionError:
    return StaleSessionError("floor: the session changed since it was loaded")


# --------------------------------------------------------------------- SQLite
SQLITE_PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON")


class Sqlite3Driver(RawDriver):
    """stdlib sqlite3, same durability settings as the library (WAL, synchronous=FULL).

    One connection, so calls from concurrent tasks are serialized (:attr:`lock`): SQLite admits one writer
    at a time, and each append is still its own transaction with its own commit.
    """

    style: Style = "qmark"

    def __init__(self, endpoint: Endpoint) -> None:
        self.path = str(endpoint.sqlite_file)
        self.connection: sqlite3.Connection | None = None
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            return connection

        self.connection = await asyncio.to_thread(connect)

    async def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        assert self.connection is not None
        async with self.lock:
            return await asyncio.to_thread(lambda: self.connection.execute(sql, params).fetchall())  # type: ignore[union-attr]

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        assert self.connection is not None
        async with self.lock:
            return await asyncio.to_thread(lambda: self.connection.execute(sql, params).rowcount)  # type: ignore[union-attr]

    async def transaction(self, writes: Sequence[Write]) -> None:
        connection = self.connection
        assert connection is not None

        def run() -> None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, params, must_change in writes:
                    if connection.execute(sql, params).rowcount != 1 and must_change:
                        raise _stale()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        async with self.lock:
            await asyncio.to_thread(run)


class AiosqliteDriver(RawDriver):
    """One aiosqlite connection; calls from concurrent tasks are serialized like :class:`Sqlite3Driver`'s."""

    style: Style = "qmark"

    def __init__(self, endpoint: Endpoint) -> None:
        self.path = str(endpoint.sqlite_file)
        self.connection: Any = None
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.connection = await aiosqlite.connect(self.path, isolation_level=None, timeout=5)
        for pragma in SQLITE_PRAGMAS:
            await self.connection.execute(pragma)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self.lock:
            return list(await self.connection.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        async with self.lock:
            cursor = await self.connection.execute(sql, params)
            return int(cursor.rowcount)

    async def transaction(self, writes: Sequence[Write]) -> None:
        connection = self.connection
        async with self.lock:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, params, must_change in writes:
                    cursor = await connection.execute(sql, params)
                    if cursor.rowcount != 1 and must_change:
                        raise _stale()
                await connection.execute("COMMIT")
            except BaseException:
                await connection.execute("ROLLBACK")
                raise


# ----------------------------------------------------------------- PostgreSQL
class AsyncpgDriver(RawDriver):
    style: Style = "dollar"

    def __init__(self, endpoint: Endpoint) -> None:
        self.dsn = endpoint.pg_dsn
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        # No reset query on release: the floor leaves no session state behind (asyncpg's default
        # reset costs one round trip per operation).
        self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=POOL_SIZE, reset=_no_reset)

    async def close(self) -> None:
        await self.pool.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.pool.fetch(sql, *params)]

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        return _tag_count(await self.pool.execute(sql, *params))

    async def transaction(self, writes: Sequence[Write]) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            for sql, params, must_change in writes:
                if _tag_count(await connection.execute(sql, *params)) != 1 and must_change:
                    raise _stale()


async def _no_reset(connection: Any) -> None:
    return None


def _tag_count(tag: str) -> int:
    tail = tag.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PsycopgDriver(RawDriver):
    """psycopg 3 async pool, autocommit connections (a lone statement is one round trip)."""

    style: Style = "format"

    def __init__(self, endpoint: Endpoint) -> None:
        self.dsn = endpoint.pg_dsn
        self.pool: Any = None

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        self.pool = AsyncConnectionPool(
            self.dsn, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
        )
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(sql, params)
            return list(await cursor.fetchall())

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        async with self.pool.connection() as connection:
            return int((await connection.execute(sql, params)).rowcount)

    async def transaction(self, writes: Sequence[Write]) -> None:
        async with self.pool.connection() as connection, connection.transaction():
            for sql, params, must_change in writes:
                if (await connection.execute(sql, params)).rowcount != 1 and must_change:
                    raise _stale()


class PsycopgSyncDriver(RawDriver):
    style: Style = "format"

    def __init__(self, endpoint: Endpoint) -> None:
        self.dsn = endpoint.pg_dsn
        self.pool: Any = None

    async def open(self) -> None:
        from psycopg_pool import ConnectionPool

        self.pool = ConnectionPool(self.dsn, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False)
        await asyncio.to_thread(self.pool.open)

    async def close(self) -> None:
        await asyncio.to_thread(self.pool.close)

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            with self.pool.connection() as connection:
                return list(connection.execute(sql, params).fetchall())

        return await asyncio.to_thread(run)

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        def run() -> int:
            with self.pool.connection() as connection:
                return int(connection.execute(sql, params).rowcount)

        return await asyncio.to_thread(run)

    async def transaction(self, writes: Sequence[Write]) -> None:
        def run() -> None:
            with self.pool.connection() as connection, connection.transaction():
                for sql, params, must_change in writes:
                    if connection.execute(sql, params).rowcount != 1 and must_change:
                        raise _stale()

        await asyncio.to_thread(run)


class PsqlpyDriver(RawDriver):
    """psqlpy pool; it reports no row counts, so a must-change write returns its rows (``RETURNING 1``)."""

    style: Style = "dollar"

    def __init__(self, endpoint: Endpoint) -> None:
        self.dsn = endpoint.pg_dsn
        self.pool: Any = None

    async def open(self) -> None:
        import psqlpy

        self.pool = psqlpy.ConnectionPool(dsn=self.dsn, max_db_pool_size=POOL_SIZE)

    async def close(self) -> None:
        self.pool.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        connection = await self.pool.connection()
        try:
            return list((await connection.execute(sql, list(params))).result(as_tuple=True))
        finally:
            connection.close()

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        connection = await self.pool.connection()
        try:
            await connection.execute(sql, list(params))
            return 1
        finally:
            connection.close()

    async def transaction(self, writes: Sequence[Write]) -> None:
        connection = await self.pool.connection()
        try:
            async with connection.transaction() as transaction:
                for sql, params, must_change in writes:
                    if must_change:
                        rows = (await transaction.execute(f"{sql} RETURNING 1", list(params))).result()
                        if len(rows) != 1:
                            raise _stale()
                    else:
                        await transaction.execute(sql, list(params))
        finally:
            connection.close()


# ---------------------------------------------------------------------- MySQL
def _mysql_keywords(endpoint: Endpoint, database_key: str) -> dict[str, Any]:
    return {
        "host": endpoint.host,
        "port": endpoint.port,
        "user": endpoint.user,
        "password": endpoint.password,
        database_key: endpoint.namespace,
        "autocommit": True,
        "charset": "utf8mb4",
    }


class _AsyncMysqlDriver(RawDriver):
    """aiomysql and asyncmy share one API: pools of autocommit connections."""

    style: Style = "format"
    module = ""
    database_key = "db"

    def __init__(self, endpoint: Endpoint) -> None:
        self.keywords = _mysql_keywords(endpoint, self.database_key)
        self.pool: Any = None

    async def open(self) -> None:
        import importlib

        driver = importlib.import_module(self.module)
        self.pool = await driver.create_pool(minsize=1, maxsize=POOL_SIZE, **self.keywords)

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self.pool.acquire() as connection, connection.cursor() as cursor:
            await cursor.execute(sql, tuple(params))
            return list(await cursor.fetchall())

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        async with self.pool.acquire() as connection, connection.cursor() as cursor:
            return int(await cursor.execute(sql, tuple(params)))

    async def transaction(self, writes: Sequence[Write]) -> None:
        async with self.pool.acquire() as connection, connection.cursor() as cursor:
            await connection.begin()
            try:
                for sql, params, must_change in writes:
                    if await cursor.execute(sql, tuple(params)) != 1 and must_change:
                        raise _stale()
                await connection.commit()
            except BaseException:
                await connection.rollback()
                raise


class AiomysqlDriver(_AsyncMysqlDriver):
    module = "aiomysql"
    database_key = "db"


class AsyncmyDriver(_AsyncMysqlDriver):
    module = "asyncmy"
    database_key = "database"


class _SyncMysqlDriver(RawDriver):
    """PyMySQL and mysql-connector: a queue of autocommit connections, each call in one worker thread."""

    style: Style = "format"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self.slots = asyncio.Semaphore(POOL_SIZE)

    def connect(self) -> Any:
        raise NotImplementedError

    def _with_connection(self, work: Any) -> Any:
        try:
            connection = self.idle.get_nowait()
        except queue.Empty:
            connection = self.connect()
        try:
            return work(connection)
        finally:
            self.idle.put(connection)

    async def _run(self, work: Any) -> Any:
        async with self.slots:
            return await asyncio.to_thread(self._with_connection, work)

    async def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        def work(connection: Any) -> list[tuple[Any, ...]]:
            cursor = connection.cursor()
            cursor.execute(sql, tuple(params))
            rows = list(cursor.fetchall())
            cursor.close()
            return rows

        return await self._run(work)  # type: ignore[no-any-return]

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        def work(connection: Any) -> int:
            cursor = connection.cursor()
            cursor.execute(sql, tuple(params))
            count = int(cursor.rowcount)
            cursor.close()
            return count

        return await self._run(work)  # type: ignore[no-any-return]

    async def transaction(self, writes: Sequence[Write]) -> None:
        def work(connection: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("START TRANSACTION")
            try:
                for sql, params, must_change in writes:
                    cursor.execute(sql, tuple(params))
                    if cursor.rowcount != 1 and must_change:
                        raise _stale()
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()

        await self._run(work)


class PymysqlDriver(_SyncMysqlDriver):
    def connect(self) -> Any:
        import pymysql

        return pymysql.connect(**_mysql_keywords(self.endpoint, "database"))


class MysqlconnectorDriver(_SyncMysqlDriver):
    def connect(self) -> Any:
        import mysql.connector

        return mysql.connector.connect(**_mysql_keywords(self.endpoint, "database"))


_DRIVERS: dict[str, Callable[[Endpoint], RawDriver]] = {
    "sqlite": Sqlite3Driver,
    "aiosqlite": AiosqliteDriver,
    "asyncpg": AsyncpgDriver,
    "psycopg": PsycopgDriver,
    "psycopg_sync": PsycopgSyncDriver,
    "psqlpy": PsqlpyDriver,
    "aiomysql": AiomysqlDriver,
    "asyncmy": AsyncmyDriver,
    "pymysql": PymysqlDriver,
    "mysqlconnector": MysqlconnectorDriver,
}


def raw_driver(name: str, endpoint: Endpoint) -> RawDriver | None:
    """The floor's driver of that name, or None when the floor has none for it (duckdb)."""
    driver = _DRIVERS.get(name)
    return driver(endpoint) if driver is not None else None
