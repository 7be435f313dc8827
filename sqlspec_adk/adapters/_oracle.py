"""Connection glue the ``oracledb`` async and sync configs share (python-oracledb, thin mode).

- One statement (:func:`statement`), written once for sync and async cursors:
  ``?`` becomes Oracle's ``:1, :2, ...``; a parameter longer than
  :data:`CLOB_BIND_CHARS` characters is bound as CLOB (a VARCHAR2 bind stops
  at 32,767 bytes); CLOBs are fetched as text (``fetch_lobs=False``). A batch
  marked ``duplicate_is_zero`` runs with batch errors: a row that lost an
  insert race (ORA-00001) is counted as no row, any other row error raises.
- What an error is (:func:`classify_oracle`): a deadlock (ORA-00060) or a
  serialization failure (ORA-08177) is ROLLED_BACK, a connection closed under
  a call (DPY-4011, which thin mode reports for ORA-03113, ORA-03114,
  ORA-03135 and the like; DPI-1080 in thick mode; a call timeout) is LOST, a
  connection unusable before the call (not connected, cannot connect, the
  instance starting or stopping) is UNSENT, a unique-key violation is
  DUPLICATE, and "name already used" from CREATE or "does not exist" from DROP
  is EXISTS.
- Per connection handed out: its server version goes to the dialect
  (native JSON columns from 21c).
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Sequence
from functools import cached_property
from typing import Any, ClassVar

import oracledb

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.oracle import OracleDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.paramstyle import colon
from sqlspec_adk.protocol import Fetch, Stmt
from sqlspec_adk.settings import ADKConfig

__all__ = ["CLOB_BIND_CHARS", "OracleGlue", "classify_oracle", "run_async", "run_sync", "statement"]

#: Bind strings longer than this many characters as CLOB.
CLOB_BIND_CHARS = 8000
DUPLICATE = 1
#: Deadlock detected; can't serialize access for this transaction.
ROLLED_BACK = frozenset({60, 8177})
#: A CREATE found its name used, its index, primary, unique or foreign key already there; an ALTER TABLE ADD
#: found its column there (ORA-01430: version 2's columns on a rerun).
EXISTS_ON_CREATE = frozenset({955, 1408, 1430, 2260, 2261, 2275})
#: A DROP found no such table or index.
MISSING_ON_DROP = frozenset({942, 1418})
LOST_FULL_CODES = frozenset({"DPY-4011", "DPY-4024", "DPI-1080"})
LOST_CODES = frozenset({28, 1012, 1089, 1092, 3113, 3114, 3135, 25408})
UNSENT_FULL_CODES = frozenset({"DPY-1001", "DPY-6000", "DPY-6005"})
UNSENT_CODES = frozenset({1033, 1034, 1090, 12514, 12528, 12541})
#: The note :func:`statement` adds to an error a DROP raised, so "does not exist" means done only there.
DROP_NOTE = "sqlspec-adk: raised by a DROP statement"

Cursor = oracledb.Cursor | oracledb.AsyncCursor


def classify_oracle(error: BaseException) -> ErrorKind | None:
    """The kind of an oracledb error (see the module docstring), None for "raise it as it is"."""
    if isinstance(error, ConnectionError):
        return ErrorKind.LOST
    if not isinstance(error, oracledb.Error):
        return None
    info = error.args[0] if error.args else None
    code, full_code = getattr(info, "code", 0) or 0, getattr(info, "full_code", "") or ""
    if code == DUPLICATE:
        return ErrorKind.DUPLICATE
    if code in ROLLED_BACK:
        return ErrorKind.ROLLED_BACK
    if full_code in LOST_FULL_CODES or code in LOST_CODES:
        return ErrorKind.LOST
    if full_code in UNSENT_FULL_CODES or code in UNSENT_CODES:
        return ErrorKind.UNSENT
    if code in EXISTS_ON_CREATE or (code in MISSING_ON_DROP and DROP_NOTE in getattr(error, "__notes__", ())):
        return ErrorKind.EXISTS
    return None


def clob_sizes(rows: Sequence[Sequence[Any]]) -> list[Any]:
    """``setinputsizes`` arguments binding long text as CLOB (empty when no parameter is long)."""
    long = {i for row in rows for i, value in enumerate(row) if isinstance(value, str) and len(value) > CLOB_BIND_CHARS}
    if not long:
        return []
    return [oracledb.DB_TYPE_CLOB if i in long else None for i in range(max(len(row) for row in rows))]


def statement(cursor: Cursor, stmt: Stmt) -> Generator[Any, Any, Any]:
    """One statement on a cursor: yields each cursor call's value (an awaitable on an async cursor)."""
    rows = [list(row) for row in stmt.params] if stmt.many else [list(stmt.params)]
    if stmt.many and not rows:
        return 0 if stmt.fetch is Fetch.ROWCOUNT else None
    sizes = clob_sizes(rows)
    if sizes:
        cursor.setinputsizes(*sizes)
    sql = colon(stmt.sql)
    try:
        if stmt.many:
            yield cursor.executemany(sql, rows, batcherrors=stmt.duplicate_is_zero)
        else:
            yield cursor.execute(sql, rows[0], fetch_lobs=False)
    except oracledb.DatabaseError as error:
        if stmt.sql.lstrip()[:4].upper() == "DROP":
            error.add_note(DROP_NOTE)
        raise
    if stmt.many and stmt.duplicate_is_zero:
        for row_error in cursor.getbatcherrors():
            if row_error.code != DUPLICATE:
                raise oracledb.DatabaseError(row_error)
    if stmt.fetch is Fetch.ONE and not stmt.many:
        return (yield cursor.fetchone())
    if stmt.fetch is Fetch.ALL and not stmt.many:
        return (yield cursor.fetchall())
    return cursor.rowcount if stmt.fetch is Fetch.ROWCOUNT else None


def run_sync(steps: Generator[Any, Any, Any]) -> Any:
    """Run :func:`statement` on a sync cursor (its calls have already happened when they are yielded)."""
    try:
        value = next(steps)
        while True:
            value = steps.send(value)
    except StopIteration as stop:
        return stop.value


async def run_async(steps: Generator[Awaitable[Any], Any, Any]) -> Any:
    """Run :func:`statement` on an async cursor: await each call, send back its result or throw its error."""
    try:
        call = next(steps)
        while True:
            try:
                result = await call
            except Exception as error:
                call = steps.throw(error)
            else:
                call = steps.send(result)
    except StopIteration as stop:
        return stop.value


class OracleGlue:
    """What the async and sync configs share: the typed dialect, transaction state, error kinds."""

    adk: ADKConfig
    dialect_class: ClassVar[type[Dialect]] = OracleDialect

    @cached_property
    def dialect(self) -> OracleDialect:
        return OracleDialect(self.adk)

    def observe(self, connection: oracledb.Connection | oracledb.AsyncConnection) -> None:
        """Tell the dialect the server version of a connection about to be used."""
        self.dialect.observe_server_version(connection.version)

    @cached_property
    def read_only(self) -> set[oracledb.Connection | oracledb.AsyncConnection]:
        """Connections inside ``SET TRANSACTION READ ONLY``: a read-only transaction takes no transaction id,
        so the driver's ``transaction_in_progress`` may not show it, yet it must end before the next one."""
        return set()

    def track(self, connection: oracledb.Connection | oracledb.AsyncConnection, sql: str, done: bool) -> None:
        """Note a transaction command: the dialect's begin statement (``done``: it ran) or COMMIT/ROLLBACK."""
        if sql in self.dialect.rules.begin_read:
            if done:
                self.read_only.add(connection)
        else:
            self.read_only.discard(connection)

    def in_transaction(self, connection: oracledb.Connection | oracledb.AsyncConnection) -> bool:
        return bool(connection.transaction_in_progress) or connection in self.read_only

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_oracle(error)
