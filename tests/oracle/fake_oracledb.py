"""A recording stand-in for python-oracledb's pool, connection and cursor (sync and async).

It records every call the adapter makes (statements with their parameters,
input sizes, commits, rollbacks, pool acquire/release) and answers statements
from scripted rules, so a test can check exactly what an operation sends and
where its transaction begins and ends. Nothing here talks to a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import oracledb

Rule = tuple[str, Any]


def ora_error(code: int) -> oracledb.DatabaseError:
    """An oracledb error carrying ORA-``code`` the way the driver does (``args[0].code``)."""
    return oracledb.DatabaseError(SimpleNamespace(code=code, message=f"ORA-{code:05d}: scripted", full_code=code))


class Recorder:
    """The log and the scripted answers shared by every fake object of one test."""

    def __init__(self, version: str = "23.4.0.24.5") -> None:
        self.version = version
        self.log: list[tuple[Any, ...]] = []
        self.rules: list[Rule] = []

    def answer(self, needle: str, result: Any) -> None:
        """Statements containing ``needle`` get ``result``: rows (list), a row count (int), or an exception."""
        self.rules.insert(0, (needle, result))

    def respond(self, sql: str, params: Any) -> Any:
        for needle, result in self.rules:
            if needle in sql:
                return result(params) if callable(result) else result
        return None

    def statements(self) -> list[tuple[str, Any]]:
        return [(entry[1], entry[2]) for entry in self.log if entry[0] in ("execute", "executemany")]

    def events(self) -> list[str]:
        """The log as short words: BEGIN-less Oracle shows statements by their first word, then commit/rollback."""
        words = []
        for entry in self.log:
            if entry[0] in ("execute", "executemany"):
                words.append(re.split(r"\s+", entry[1].strip(), maxsplit=1)[0].upper())
            elif entry[0] in ("commit", "rollback", "acquire", "release"):
                words.append(entry[0])
        return words


class FakeCursor:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
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
    def __init__(self, recorder: Recorder, cursor_class: type[FakeCursor]) -> None:
        self.recorder = recorder
        self.version = recorder.version
        self.outputtypehandler: Callable[..., Any] | None = None
        self.cursor_class = cursor_class

    def cursor(self) -> FakeCursor:
        return self.cursor_class(self.recorder)

    def commit(self) -> None:
        self.recorder.log.append(("commit",))

    def rollback(self) -> None:
        self.recorder.log.append(("rollback",))


class AsyncConnection(FakeConnection):
    async def commit(self) -> None:  # type: ignore[override]
        super().commit()

    async def rollback(self) -> None:  # type: ignore[override]
        super().rollback()


class SyncPool:
    def __init__(self, recorder: Recorder, **kwargs: Any) -> None:
        self.recorder = recorder
        recorder.log.append(("create_pool", kwargs))

    def acquire(self) -> FakeConnection:
        self.recorder.log.append(("acquire",))
        return FakeConnection(self.recorder, SyncCursor)

    def release(self, connection: FakeConnection) -> None:
        self.recorder.log.append(("release",))

    def close(self, force: bool = False) -> None:
        self.recorder.log.append(("close", force))


class AsyncPool(SyncPool):
    async def acquire(self) -> FakeConnection:  # type: ignore[override]
        self.recorder.log.append(("acquire",))
        return AsyncConnection(self.recorder, AsyncCursor)

    async def release(self, connection: FakeConnection) -> None:  # type: ignore[override]
        super().release(connection)

    async def close(self, force: bool = False) -> None:  # type: ignore[override]
        super().close(force)
