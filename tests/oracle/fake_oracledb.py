"""A recording stand-in for python-oracledb's pool, connection and cursor (sync and async).

It records every call the adapter makes (statements with their parameters and
options, input sizes, commits, rollbacks, pool acquire/release/drop) and
answers statements from scripted rules, so a test can check exactly what an
operation sends and where its transaction begins and ends. A connection tracks
``transaction_in_progress`` as Oracle does: DML, ``SELECT ... FOR UPDATE`` and
``SET TRANSACTION`` open a transaction, DDL commits implicitly, COMMIT and
ROLLBACK end it, a failed statement leaves it as it was. Nothing here talks to
a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import oracledb

Rule = tuple[str, Any]
DDL = ("CREATE", "DROP", "ALTER", "TRUNCATE")


def ora_error(code: int, full_code: str | None = None) -> oracledb.DatabaseError:
    """An oracledb error carrying ORA-``code`` the way the driver does (``args[0].code`` / ``.full_code``).

    ``full_code`` is what the driver reports when it maps a server error to one of its own
    (thin mode reports ORA-03113 as ``DPY-4011``); 0 as ``code`` makes a driver-only error.
    """
    name = full_code or f"ORA-{code:05d}"
    return oracledb.DatabaseError(SimpleNamespace(code=code, message=f"{name}: scripted", full_code=name))


def once(error: BaseException, then: Any = None) -> Callable[[Any], Any]:
    """A rule answer that raises ``error`` the first time and answers ``then`` afterwards."""
    pending = [error]
    return lambda params: pending.pop() if pending else then


class Recorder:
    """The log and the scripted answers shared by every fake object of one test."""

    def __init__(self, version: str = "23.4.0.24.5") -> None:
        self.version = version
        self.log: list[tuple[Any, ...]] = []
        self.rules: list[Rule] = []
        self.commit_errors: list[BaseException] = []  # raised by the next commits, in order
        self.acquire_errors: list[BaseException] = []  # raised by the next pool acquires, in order
        self.read_only_reported = True  # whether SET TRANSACTION READ ONLY shows as transaction_in_progress

    def answer(self, needle: str, result: Any) -> None:
        """Statements containing ``needle`` get ``result``: rows (list), a row count (int), an exception,
        or a callable of the parameters returning one of those."""
        self.rules.insert(0, (needle, result))

    def respond(self, sql: str, params: Any) -> Any:
        for needle, result in self.rules:
            if needle in sql:
                return result(params) if callable(result) else result
        return None

    def statements(self) -> list[tuple[str, Any]]:
        return [(entry[1], entry[2]) for entry in self.log if entry[0] in ("execute", "executemany")]

    def events(self) -> list[str]:
        """The log as short words: statements by their first word, then commit/rollback and pool calls."""
        words = []
        for entry in self.log:
            if entry[0] in ("execute", "executemany"):
                words.append(re.split(r"\s+", entry[1].strip(), maxsplit=1)[0].upper())
            elif entry[0] in ("commit", "rollback", "acquire", "release", "drop"):
                words.append(entry[0])
        return words


class FakeCursor:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.recorder = connection.recorder
        self.rows: list[Any] = []
        self.rowcount = 0
        self.batch_errors: list[Any] = []

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def setinputsizes(self, *sizes: Any) -> None:
        self.recorder.log.append(("sizes", sizes))

    def _run(self, kind: str, sql: str, params: Any, **options: Any) -> None:
        self.recorder.log.append((kind, sql, params, options))
        result = self.recorder.respond(sql, params)
        if isinstance(result, BaseException):
            raise result
        words = sql.lstrip().upper()
        if words.startswith(DDL):
            self.connection.transaction_in_progress = False  # DDL commits implicitly
        elif words.startswith("SET TRANSACTION READ ONLY"):
            self.connection.transaction_in_progress = self.recorder.read_only_reported
        elif not words.startswith("SELECT") or "FOR UPDATE" in words:
            self.connection.transaction_in_progress = True
        if isinstance(result, list) and kind == "executemany":
            self.batch_errors, self.rowcount = result, len(params) - len(result)
        elif isinstance(result, list):
            self.rows, self.rowcount = result, len(result)
        else:
            self.rows, self.rowcount = [], 1 if result is None else int(result)

    def sync_execute(self, sql: str, params: Any = None, **options: Any) -> None:
        self._run("execute", sql, params, **options)

    def sync_executemany(self, sql: str, params: Any, **options: Any) -> None:
        self._run("executemany", sql, params, **options)

    def getbatcherrors(self) -> list[Any]:
        return self.batch_errors


class SyncCursor(FakeCursor):
    execute = FakeCursor.sync_execute
    executemany = FakeCursor.sync_executemany

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return list(self.rows)


class AsyncCursor(FakeCursor):
    async def execute(self, sql: str, params: Any = None, **options: Any) -> None:
        self.sync_execute(sql, params, **options)

    async def executemany(self, sql: str, params: Any, **options: Any) -> None:
        self.sync_executemany(sql, params, **options)

    async def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[Any]:
        return list(self.rows)


class FakeConnection:
    cursor_class: type[FakeCursor] = SyncCursor

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.version = recorder.version
        self.transaction_in_progress = False

    def cursor(self) -> FakeCursor:
        return self.cursor_class(self)

    def commit(self) -> None:
        self.recorder.log.append(("commit",))
        if self.recorder.commit_errors:
            raise self.recorder.commit_errors.pop(0)
        self.transaction_in_progress = False

    def rollback(self) -> None:
        self.recorder.log.append(("rollback",))
        self.transaction_in_progress = False


class AsyncConnection(FakeConnection):
    cursor_class = AsyncCursor

    async def commit(self) -> None:  # type: ignore[override]
        super().commit()

    async def rollback(self) -> None:  # type: ignore[override]
        super().rollback()


class SyncPool:
    connection_class: type[FakeConnection] = FakeConnection

    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        self.recorder = recorder
        recorder.log.append(("create_pool", kwargs))

    def _acquire(self) -> FakeConnection:
        self.recorder.log.append(("acquire",))
        if self.recorder.acquire_errors:
            raise self.recorder.acquire_errors.pop(0)
        return self.connection_class(self.recorder)

    acquire = _acquire

    def release(self, connection: FakeConnection) -> None:
        self.recorder.log.append(("release",))

    def drop(self, connection: FakeConnection) -> None:
        self.recorder.log.append(("drop", type(connection).__name__))

    def close(self, force: bool = False) -> None:
        self.recorder.log.append(("close", force))


class AsyncPool(SyncPool):
    connection_class = AsyncConnection

    async def acquire(self) -> FakeConnection:  # type: ignore[override]
        return self._acquire()

    async def release(self, connection: FakeConnection) -> None:  # type: ignore[override]
        super().release(connection)

    async def drop(self, connection: FakeConnection) -> None:  # type: ignore[override]
        super().drop(connection)

    async def close(self, force: bool = False) -> None:  # type: ignore[override]
        super().close(force)
