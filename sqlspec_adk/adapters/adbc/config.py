"""ADBC connection glue: one config over ``adbc-driver-manager`` for three driver families.

The driver picks the dialect: ``sqlite`` runs :class:`SqliteDialect` in
``BEGIN IMMEDIATE`` write transactions, ``postgresql`` runs the
:class:`PostgresDialect` transaction plan (with its retries), ``duckdb`` runs
:class:`DuckdbDialect` under the database's process-wide lock. Connections are
in autocommit mode and the transaction statements are sent explicitly.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, TypeVar

import adbc_driver_manager
import adbc_driver_manager.dbapi as dbapi

from sqlspec_adk.adapters._sqlite_files import claim_sqlite_file, release_sqlite_file
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.duckdb import DuckdbDialect, database_lock
from sqlspec_adk.dialects.postgres import ErrorKind, PostgresDialect, kind_of_sqlstate, run_sync
from sqlspec_adk.dialects.sqlite import BEGIN_READ, BEGIN_WRITE, SqliteDialect, connection_pragmas, is_memory_database
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync, to_dollar_params

__all__ = ["AdbcConfig"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Family:
    dialect: type[BaseDialect]
    driver: str  #: the Python package shipping the ADBC driver library
    placeholders: Callable[[str], str]  #: rewrites ``?`` placeholders for the driver


_FAMILIES = {
    "sqlite": _Family(SqliteDialect, "adbc_driver_sqlite", str),
    "postgresql": _Family(PostgresDialect, "adbc_driver_postgresql", to_dollar_params),
    "duckdb": _Family(DuckdbDialect, "adbc_driver_duckdb", str),
}
_ALIASES = {"postgres": "postgresql", **{family.driver: name for name, family in _FAMILIES.items()}}
_GUARD = threading.Lock()


def family_name(driver_name: object) -> str:
    """The family of a ``driver_name`` (``sqlite``, ``postgresql``, ``duckdb`` or their driver packages)."""
    name = _ALIASES.get(str(driver_name), str(driver_name))
    if name not in _FAMILIES:
        raise ConfigError(
            f"connection_config['driver_name'] must name an ADBC driver this library knows "
            f"({', '.join(sorted(_FAMILIES))}), got {driver_name!r}"
        )
    return name


@dataclass
class _Pool:
    slots: threading.BoundedSemaphore
    idle: list[_Connection] = field(default_factory=list)


class _Connection:
    """A DB-API connection, its cursor, the pool it counts against, and whether a transaction is open on it."""

    def __init__(self, connection: dbapi.Connection, pool: _Pool, on_close: Callable[[], None] | None = None) -> None:
        self.dbapi, self.cursor, self.pool, self.in_transaction = connection, connection.cursor(), pool, False
        self._on_close = on_close

    def close(self) -> None:
        with contextlib.suppress(dbapi.Error):
            self.cursor.close()
            self.dbapi.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()


class AdbcConfig(SyncDatabaseConfig):
    """Config for ADBC: ``connection_config={"driver_name": "sqlite" | "postgresql" | "duckdb", "uri": ...}``.

    ``driver_name`` defaults to ``sqlite``. ``uri`` is a file path (sqlite,
    duckdb) or a ``postgresql://`` URI; other keys go to the driver as database
    options. ``pool_config={"max_size": n}`` bounds open connections (in-memory
    databases and DuckDB use one).
    """

    #: The dialect of the default driver (sqlite); each config picks its own from ``driver_name``.
    dialect_class = SqliteDialect
    _pool: _Pool | None = None

    @cached_property
    def family(self) -> str:
        return family_name(self.connection_config.get("driver_name", "sqlite"))

    @cached_property
    def dialect(self) -> BaseDialect:
        return _FAMILIES[self.family].dialect(self.adk)

    @cached_property
    def uri(self) -> str:
        return str(self.connection_config.get("uri", ":memory:"))

    @cached_property
    def max_size(self) -> int:
        one = self.family == "duckdb" or (self.family == "sqlite" and is_memory_database(self.uri))
        return 1 if one else int(self.pool_config.get("max_size", 4))

    # ------------------------------------------------------------- transactions
    def run(self, op: Op[T], *, write: bool) -> T:
        if isinstance(self.dialect, PostgresDialect):  # its plan sends BEGIN/COMMIT and retries
            return run_sync(self, self.dialect.plan(op, write=write, classify=self.classify))
        begin = "BEGIN TRANSACTION" if self.family == "duckdb" else BEGIN_WRITE if write else BEGIN_READ
        # DuckDB: one database instance per file and process, transactions under its lock.
        with database_lock(self.uri) if self.family == "duckdb" else contextlib.nullcontext():
            connection = self.acquire()
            try:
                self.command(connection, begin)
                result = drive_sync(op, lambda stmt: self.execute(connection, stmt))
                self.command(connection, "COMMIT")
            except BaseException:
                with contextlib.suppress(dbapi.Error):
                    self.command(connection, "ROLLBACK")
                raise
            finally:
                self.release(connection, broken=connection.in_transaction)
        return result

    def execute(self, connection: _Connection, stmt: Stmt) -> Any:
        sql, cursor = _placeholders(self.family, stmt.sql), connection.cursor
        if stmt.many:
            # DuckDB's ADBC driver binds one row per execution.
            for rows in [[row] for row in stmt.params] if self.family == "duckdb" else [list(stmt.params)]:
                cursor.executemany(sql, rows)
            return None
        params = list(stmt.params) or None
        counted_by_row = stmt.fetch is Fetch.ROWCOUNT and self.family == "duckdb"
        if stmt.fetch is Fetch.ONE or stmt.fetch is Fetch.ALL or counted_by_row:
            cursor.execute(sql, params)
            if stmt.fetch is Fetch.ALL:
                return cursor.fetchall()
            row = cursor.fetchone()
            # DuckDB reports changed rows as a one-row result.
            return row if stmt.fetch is Fetch.ONE else int(row[0]) if row else 0
        cursor.executemany(sql, None if params is None else [params])
        return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    def command(self, connection: _Connection, sql: str) -> None:
        try:
            connection.cursor.executemany(sql, None)
        finally:
            ends = sql in ("COMMIT", "ROLLBACK")
            connection.in_transaction = sql.startswith("BEGIN") or (connection.in_transaction and not ends)

    def in_transaction(self, connection: _Connection) -> bool:
        return connection.in_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        kind = kind_of_sqlstate(getattr(error, "sqlstate", None))
        if kind is None and self.family == "postgresql" and isinstance(error, dbapi.OperationalError):
            # libpq reports a dropped connection with no SQLSTATE; only the message tells. Without
            # this, a connection the server dropped goes back to the pool and fails every later call.
            text = str(error)
            if "no connection to the server" in text or "terminating connection" in text:
                return ErrorKind.UNSENT  # the statement never ran (or was aborted with the session)
            if "server closed the connection" in text:
                return ErrorKind.LOST
        return kind

    # -------------------------------------------------------------------- pool
    def pool(self) -> _Pool:
        with _GUARD:
            if self._pool is None:
                self._pool = _Pool(threading.BoundedSemaphore(self.max_size))
            return self._pool

    def acquire(self) -> _Connection:
        pool = self.pool()
        pool.slots.acquire()
        try:
            with _GUARD:
                if pool.idle:
                    return pool.idle.pop()
            return self._connect(pool)
        except BaseException:
            pool.slots.release()
            raise

    def _connect(self, pool: _Pool) -> _Connection:
        if self.family == "duckdb":
            clone, release = _duckdb_clone(self.uri)
            try:
                clone.adbc_connection.set_autocommit(True)  # a clone starts out in a driver-managed transaction
            except BaseException:
                clone.close()
                release()
                raise
            connection = _Connection(clone, pool, on_close=release)
            setup = self.dialect.connection_setup() if isinstance(self.dialect, DuckdbDialect) else []
        else:
            if self.family == "sqlite":
                claim_sqlite_file(self.uri, _ADBC_SQLITE, self)
            options = {key: str(value) for key, value in self.connection_config.items() if key != "driver_name"}
            driver = importlib.import_module(_FAMILIES[self.family].driver)._driver_path()
            connection = _Connection(
                dbapi.connect(driver=driver, db_kwargs={"uri": self.uri, **options}, autocommit=True), pool
            )
            setup = connection_pragmas(self.uri, self.adk.busy_timeout) if self.family == "sqlite" else []
        try:
            for sql in setup:
                self.command(connection, sql)
        except BaseException:
            connection.close()
            raise
        return connection

    def release(self, connection: _Connection, *, broken: bool) -> None:
        with _GUARD:
            keep = not broken and connection.pool is self._pool
            if keep:
                connection.pool.idle.append(connection)
        if not keep:
            connection.close()  # broken, or its pool was closed meanwhile
        connection.pool.slots.release()

    def refresh(self) -> None:
        """Drop idle connections (after a connection failure they may all be dead)."""
        pool = self.pool()  # takes _GUARD itself: calling it under the lock would deadlock
        with _GUARD:
            idle, pool.idle = pool.idle, []
        for connection in idle:
            connection.close()

    def close_pool(self) -> None:
        """Close idle connections; connections in use are closed when they are released."""
        with _GUARD:
            pool, self._pool = self._pool, None
        for connection in pool.idle if pool else []:
            connection.close()
        if self.family == "sqlite":
            release_sqlite_file(self.uri, _ADBC_SQLITE, self)


_ADBC_SQLITE = "ADBC's SQLite driver (adbc adapter)"


@lru_cache(maxsize=256)
def _placeholders(family: str, sql: str) -> str:
    return _FAMILIES[family].placeholders(sql)


class _DuckdbRoot:
    """A connection holding one DuckDB database instance open, and how many clones of it are open."""

    def __init__(self, connection: dbapi.Connection) -> None:
        self.connection, self.clones = connection, 0


_duckdb_roots: dict[str, _DuckdbRoot] = {}


def _duckdb_clone(path: str) -> tuple[dbapi.Connection, Callable[[], None]]:
    """A new connection to the process's one database instance for ``path``, and the call that releases it.

    Configs on one file share one instance (DuckDB allows one per file and process). The instance,
    and with it the file lock, lives while a clone is open: releasing the last closes it, so another
    process can open the file once every config on it has closed its pool.
    """
    key = "" if path in ("", ":memory:") else os.path.realpath(path)
    with _GUARD:
        root = _duckdb_roots.get(key) if key else None
        if root is None:
            database = adbc_driver_manager.AdbcDatabase(
                driver=importlib.import_module("adbc_driver_duckdb").driver_path(),
                entrypoint="duckdb_adbc_init",
                **({"path": path} if key else {}),
            )
            root = _DuckdbRoot(
                dbapi.Connection(database, adbc_driver_manager.AdbcConnection(database), autocommit=True)
            )
            if key:
                _duckdb_roots[key] = root
        clone = root.connection.adbc_clone()
        root.clones += 1

    def release() -> None:
        with _GUARD:
            root.clones -= 1
            last = root.clones == 0
            if last and _duckdb_roots.get(key) is root:
                del _duckdb_roots[key]
        if last:
            with contextlib.suppress(dbapi.Error):
                root.connection.close()

    return clone, release
