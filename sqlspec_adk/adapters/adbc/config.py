"""ADBC connection glue: one config over ``adbc-driver-manager`` for three driver families.

The driver picks the dialect (``sqlite``: :class:`SqliteDialect`,
``postgresql``: :class:`PostgresDialect`, ``duckdb``: :class:`DuckdbDialect`)
and the family glue: SQLite's PRAGMAs and file claims
(:mod:`~sqlspec_adk.adapters._sqlite`), DuckDB's process-wide lock and shared
database instance (:mod:`~sqlspec_adk.adapters._duckdb`), PostgreSQL's
SQLSTATEs (:mod:`~sqlspec_adk.adapters._postgres`). Every family runs through
the one engine. Connections are in autocommit mode and the transaction
statements are sent explicitly. Connections come from each driver package's
public ``dbapi.connect`` (SQLite, PostgreSQL) or ``connect``/``driver_path``
(DuckDB): no private driver API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any, NamedTuple

import adbc_driver_manager.dbapi as dbapi

from sqlspec_adk.adapters import _duckdb, _sqlite
from sqlspec_adk.adapters._postgres import classify_adbc_postgres
from sqlspec_adk.config import SyncDatabaseConfig
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["AdbcConfig", "classify_adbc_postgres"]


class _Family(NamedTuple):
    dialect: Callable[..., Dialect]
    placeholders: Callable[[str], str]  #: rewrites ``?`` placeholders for the driver
    classify: Callable[[BaseException], ErrorKind | None]
    missing: Callable[[str], bool]  #: whether the ``uri`` names a file not made yet
    by_row: bool = False  #: DuckDB: executemany binds one row per call, and a row count is a one-row result


_FAMILIES = {
    "sqlite": _Family(SqliteDialect, str, _sqlite.classify_sqlite, _sqlite.file_missing),
    "postgresql": _Family(PostgresDialect, dollar, classify_adbc_postgres, lambda uri: False),
    "duckdb": _Family(_duckdb.duckdb_dialect, str, _duckdb.classify_duckdb, _duckdb.file_missing, by_row=True),
}
#: ``driver_name`` may also name the driver's package (``adbc_driver_duckdb``).
_ALIASES = {"postgres": "postgresql", **{f"adbc_driver_{name}": name for name in _FAMILIES}}


class _Connection:
    """A DB-API connection, its cursor, whether a transaction is open on it, and what closing it lets go of."""

    def __init__(self, connection: dbapi.Connection, on_close: Callable[[], None] | None = None) -> None:
        self.dbapi, self.cursor, self.in_transaction, self.on_close = connection, connection.cursor(), False, on_close
        self.held: Any = None  #: what its slot's take() returned (a SQLite write: the file's write lock)
        self.generation = 0  #: the pool generation it belongs to (close_pool starts a new one)

    def close(self) -> None:
        _duckdb.close_quietly(self.cursor)
        _duckdb.close_quietly(self.dbapi)
        if self.on_close is not None:
            self.on_close()


class AdbcConfig(SyncDatabaseConfig[_Connection]):
    """Config for ADBC: ``connection_config={"driver_name": "sqlite" | "postgresql" | "duckdb", "uri": ...}``.

    ``driver_name`` defaults to ``sqlite`` (``postgres`` and the driver
    packages' names are accepted too). ``uri`` is a file path (sqlite, duckdb)
    or a ``postgresql://`` URI; other keys go to the PostgreSQL driver as
    database options (the SQLite and DuckDB drivers take none).
    ``pool_config={"max_size": n}`` bounds open connections (default 4). An
    in-memory SQLite database uses one; DuckDB uses one, and its slot is the
    file's process-wide lock (:func:`~sqlspec_adk.adapters._duckdb.database_lock`),
    taken in ``acquire`` and given back in ``release``. A SQLite file's writes
    also take its process-wide write lock
    (:class:`~sqlspec_adk.adapters._sqlite.WriteLock`).
    """

    #: The dialect of the default driver (sqlite); each config picks its own from ``driver_name``.
    dialect_class = SqliteDialect

    @cached_property
    def family(self) -> str:
        """``sqlite``, ``postgresql`` or ``duckdb``, from ``driver_name`` (ConfigError for any other)."""
        name = str(self.connection_config.get("driver_name", "sqlite"))
        if _ALIASES.get(name, name) not in _FAMILIES:
            raise ConfigError(f"connection_config['driver_name'] must be sqlite, postgresql or duckdb, got {name!r}")
        return _ALIASES.get(name, name)

    @cached_property
    def dialect(self) -> Dialect:
        return _FAMILIES[self.family].dialect(self.adk)

    def configure(self) -> None:
        self.check_pool_keys(("max_size",), location="uri")
        self.driver = _FAMILIES[self.family]
        self.uri = str(self.connection_config.get("uri", ":memory:"))
        self.options = {k: str(v) for k, v in self.connection_config.items() if k not in ("driver_name", "uri")}
        if self.options and self.family != "postgresql":
            raise ConfigError(f"ADBC's {self.family} driver takes no database options besides uri: {self.options}")
        duckdb, memory = self.family == "duckdb", self.family == "sqlite" and _sqlite.is_memory_database(self.uri)
        self.max_size = 1 if memory or duckdb else int(self.pool_config.get("max_size", 4))
        file = self.uri if self.family == "sqlite" else None  # SQLite writes queue on the file's write lock
        pool = _sqlite.PoolSlots(self.max_size, file, self.adk.busy_timeout)
        self._slots = _duckdb.DatabaseSlot(self.uri) if duckdb else pool
        #: What every new connection runs first: SQLite's PRAGMAs, DuckDB's LOAD of the fts extension.
        self.setup = _sqlite.connection_pragmas(file, self.adk.busy_timeout, self.adk.backend.sqlite) if file else []
        self.setup += _duckdb.setup_statements(self.dialect) if duckdb else []
        self._guard, self._generation = threading.Lock(), 0
        self._idle: list[_Connection] = []

    def _connect(self) -> _Connection:
        if self.family == "duckdb":
            connection = _Connection(*_duckdb.adbc_connection(self.uri, self.adk.busy_timeout))
        elif self.family == "sqlite":
            connection = _Connection(_sqlite.adbc_sqlite_connection(self.uri, self))
        else:
            import adbc_driver_postgresql.dbapi

            connection = _Connection(adbc_driver_postgresql.dbapi.connect(self.uri, self.options, autocommit=True))
        connection.generation = self._generation
        try:
            for sql in self.setup:  # a new SQLite file's journal mode: see _sqlite.set_up
                _sqlite.set_up(partial(self.command, connection, sql), self.adk.busy_timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    def acquire(self, write: bool) -> _Connection:
        held = self._slots.take(write)  # DuckDB: the file's transactions one at a time, until release
        with self._guard:
            idle = self._idle.pop() if self._idle else None
        try:
            connection = idle or self._connect()
        except BaseException:
            self._slots.give(held)
            raise
        connection.held = held
        return connection

    def release(self, connection: _Connection, discard: bool) -> None:
        with self._guard:
            keep = not discard and connection.generation == self._generation  # else: close_pool ran meanwhile
            if keep:
                self._idle.append(connection)
        if not keep:
            connection.close()
        self._slots.give(connection.held)

    def execute(self, connection: _Connection, stmt: Stmt) -> Any:
        sql, cursor, by_row = self.driver.placeholders(stmt.sql), connection.cursor, self.driver.by_row
        if stmt.many:
            for rows in [[row] for row in stmt.params] if by_row else [list(stmt.params)]:
                cursor.executemany(sql, rows)
            return None
        if stmt.fetch in (Fetch.ONE, Fetch.ALL) or (by_row and stmt.fetch is Fetch.ROWCOUNT):
            cursor.execute(sql, list(stmt.params) or None)
            if stmt.fetch is Fetch.ALL:
                return cursor.fetchall()
            row = cursor.fetchone()
            return row if stmt.fetch is Fetch.ONE else _duckdb.changed_rows(row)
        cursor.executemany(sql, [list(stmt.params)] if stmt.params else None)
        return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    def command(self, connection: _Connection, sql: str) -> None:
        if sql in (self.dialect.rules.commit, self.dialect.rules.rollback):
            connection.in_transaction = False  # also when it fails: the transaction ended either way
        _sqlite.adbc_command(connection.cursor, sql, rollback=sql == self.dialect.rules.rollback)
        connection.in_transaction = connection.in_transaction or sql.startswith("BEGIN")

    def in_transaction(self, connection: _Connection) -> bool:
        return connection.in_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        return self.driver.classify(error)

    def database_missing(self) -> bool:
        return self.driver.missing(self.uri)

    def refresh(self) -> None:
        """Drop idle connections (after a connection failure they may all be dead)."""
        with self._guard:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def close_pool(self) -> None:
        """Close every connection: idle ones now, ones in use when they are released."""
        with self._guard:
            self._generation += 1
        self.refresh()
        _sqlite.release_adbc_sqlite(self.uri, self)  # its SQLite file claim, if any
