"""``oracledb`` connection glue (thin mode): pools, one transaction per operation, async and sync.

Reads run in ``SET TRANSACTION READ ONLY`` (one consistent snapshot), writes
in Oracle's default READ COMMITTED transaction; both end in COMMIT, or
ROLLBACK on error. CLOBs are fetched as text and native JSON as plain Python
values. Statement-level error handling that Oracle's dialect defines
(existing objects on CREATE, lost skip-if-present MERGE races) happens here.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, ClassVar, TypeVar

import oracledb

from sqlspec_adk.config import AsyncDatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.oracle import READ_ONLY, OracleDialect, clob_positions, plain_json, to_colon_params
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_async, drive_sync

__all__ = ["OracledbAsyncConfig", "OracledbSyncConfig"]

T = TypeVar("T")


def output_type_handler(cursor: Any, metadata: Any) -> Any:
    """CLOB as ``str``, native JSON with NUMBERs as int/float."""
    if metadata.type_code is oracledb.DB_TYPE_CLOB:
        return cursor.var(oracledb.DB_TYPE_LONG, arraysize=cursor.arraysize)
    if metadata.type_code is oracledb.DB_TYPE_JSON:
        return cursor.var(oracledb.DB_TYPE_JSON, arraysize=cursor.arraysize, outconverter=plain_json)
    return None


class _OracleGlue:
    """What the async and sync configs share: statement preparation and error mapping."""

    dialect_class: ClassVar[type[BaseDialect]] = OracleDialect
    dialect: OracleDialect
    _pool: Any = None

    def _on_connect(self, connection: Any) -> None:
        connection.outputtypehandler = output_type_handler
        self.dialect.observe_server_version(connection.version)

    def _prepare(self, cursor: Any, stmt: Stmt) -> tuple[str, Any, dict[str, Any]]:
        """(SQL, parameters, keyword arguments) for ``execute``/``executemany``; long text binds as CLOB."""
        rows = [list(row) for row in stmt.params] if stmt.many else [list(stmt.params)]
        clobs = clob_positions(rows)
        if clobs:
            sizes: list[Any] = [None] * max(len(row) for row in rows)
            for position in clobs:
                sizes[position] = oracledb.DB_TYPE_CLOB
            cursor.setinputsizes(*sizes)
        if not stmt.many:
            return to_colon_params(stmt.sql), rows[0], {}
        # A skip-if-present MERGE batch collects per-row errors; lost insert races are then ignored.
        return to_colon_params(stmt.sql), rows, {"batcherrors": self.dialect.conflict_is_no_change(stmt.sql)}

    def _failed(self, stmt: Stmt, error: oracledb.DatabaseError) -> Any:
        """The result of a statement that raised ``error``, when the dialect says it changed nothing."""
        code = int(getattr(error.args[0] if error.args else None, "code", 0) or 0)
        if self.dialect.ignorable_error(stmt.sql, code):
            return None
        if code == 1 and self.dialect.conflict_is_no_change(stmt.sql):
            return 0
        raise error

    def _check_batch(self, cursor: Any, stmt: Stmt) -> None:
        if stmt.many and self.dialect.conflict_is_no_change(stmt.sql):
            for error in cursor.getbatcherrors():
                if error.code != 1:
                    raise oracledb.DatabaseError(error)


class OracledbAsyncConfig(_OracleGlue, AsyncDatabaseConfig):
    """Config for python-oracledb's async thin driver.

    ``connection_config`` takes ``oracledb.create_pool_async`` connect keywords
    (``user``, ``password``, ``dsn``, ...); ``pool_config`` its pool sizing
    (``min``, ``max``, ``increment``).
    """

    async def run(self, op: Op[T], *, write: bool) -> T:
        if self._pool is None:
            self._pool = oracledb.create_pool_async(**self.connection_config, **self.pool_config)
        connection = await self._pool.acquire()
        try:
            self._on_connect(connection)
            if not write:
                await self._execute(connection, Stmt(READ_ONLY))
            result = await drive_async(op, lambda stmt: self._execute(connection, stmt))
            await connection.commit()
            return result
        except BaseException:
            with contextlib.suppress(oracledb.Error):
                await connection.rollback()
            raise
        finally:
            await self._pool.release(connection)

    async def _execute(self, connection: Any, stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            sql, params, options = self._prepare(cursor, stmt)
            try:
                await (cursor.executemany if stmt.many else cursor.execute)(sql, params, **options)
            except oracledb.DatabaseError as error:
                return self._failed(stmt, error)
            self._check_batch(cursor, stmt)
            if stmt.fetch is Fetch.ONE:
                return await cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return await cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close(force=True)


class OracledbSyncConfig(_OracleGlue, SyncDatabaseConfig):
    """Config for python-oracledb's sync thin driver; same keys as :class:`OracledbAsyncConfig`."""

    _pool_lock = threading.Lock()

    def run(self, op: Op[T], *, write: bool) -> T:
        with self._pool_lock:
            if self._pool is None:
                self._pool = oracledb.create_pool(**self.connection_config, **self.pool_config)
        connection = self._pool.acquire()
        try:
            self._on_connect(connection)
            if not write:
                self._execute(connection, Stmt(READ_ONLY))
            result = drive_sync(op, lambda stmt: self._execute(connection, stmt))
            connection.commit()
            return result
        except BaseException:
            with contextlib.suppress(oracledb.Error):
                connection.rollback()
            raise
        finally:
            self._pool.release(connection)

    def _execute(self, connection: Any, stmt: Stmt) -> Any:
        with connection.cursor() as cursor:
            sql, params, options = self._prepare(cursor, stmt)
            try:
                (cursor.executemany if stmt.many else cursor.execute)(sql, params, **options)
            except oracledb.DatabaseError as error:
                return self._failed(stmt, error)
            self._check_batch(cursor, stmt)
            if stmt.fetch is Fetch.ONE:
                return cursor.fetchone()
            if stmt.fetch is Fetch.ALL:
                return cursor.fetchall()
            return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None

    def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(force=True)
