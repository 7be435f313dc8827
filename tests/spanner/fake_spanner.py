"""A recording stand-in for google-cloud-spanner's client, database, transactions and snapshots.

Statements are answered by the scripted rules of a :class:`~tests.oracle.fake_oracledb.Recorder`;
transaction boundaries, schema changes and aborted commits are logged. Nothing here talks to Spanner.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from google.api_core import exceptions

from tests.oracle.fake_oracledb import Recorder


class SpannerRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.commit_aborts = 0  # commits to abort before one succeeds
        self.ddl_errors: dict[str, Exception] = {}

    def run(self, kind: str, sql: str, params: Any, types: Any = None) -> Any:
        self.log.append((kind, sql, params, types))
        result = self.respond(sql, params)
        if isinstance(result, BaseException):
            raise result
        return result


class FakeReader:
    def __init__(self, recorder: SpannerRecorder) -> None:
        self.recorder = recorder

    def execute_sql(self, sql: str, params: Any = None, param_types: Any = None) -> list[list[Any]]:
        result = self.recorder.run("execute", sql, params, param_types)
        return [list(row) for row in result] if isinstance(result, list) else []


class FakeTransaction(FakeReader):
    def execute_update(self, sql: str, params: Any = None, param_types: Any = None) -> int:
        result = self.recorder.run("execute", sql, params, param_types)
        return 1 if result is None else int(result)

    def batch_update(self, statements: list[tuple[str, Any, Any]]) -> tuple[Any, list[int]]:
        self.recorder.log.append(("executemany", statements[0][0], [s[1] for s in statements], None))
        result = self.recorder.respond(statements[0][0], None)
        if isinstance(result, SimpleNamespace):  # a scripted status
            return result, []
        return SimpleNamespace(code=0, message=""), [1] * len(statements)


class FakeDatabase:
    def __init__(self, recorder: SpannerRecorder, **options: Any) -> None:
        self.recorder = recorder
        self.options = options

    @contextmanager
    def snapshot(self, **options: Any) -> Iterator[FakeReader]:
        self.recorder.log.append(("snapshot", options))
        yield FakeReader(self.recorder)
        self.recorder.log.append(("snapshot_end",))

    def run_in_transaction(self, func: Any) -> Any:
        """Like the client: call ``func`` with a new transaction, commit, and call it again on Aborted."""
        while True:
            self.recorder.log.append(("begin",))
            try:
                result = func(FakeTransaction(self.recorder))
                if self.recorder.commit_aborts:
                    self.recorder.commit_aborts -= 1
                    raise exceptions.Aborted("scripted abort at commit")
            except exceptions.Aborted:
                self.recorder.log.append(("rollback",))
                continue
            except BaseException:
                self.recorder.log.append(("rollback",))
                raise
            self.recorder.log.append(("commit",))
            return result

    def update_ddl(self, statements: list[str]) -> Any:
        self.recorder.log.append(("ddl", statements[0], None, None))
        error = next((e for needle, e in self.recorder.ddl_errors.items() if needle in statements[0]), None)

        def result(timeout: float | None = None) -> None:
            if error is not None:
                raise error

        return SimpleNamespace(result=result)


class FakeClient:
    recorder: SpannerRecorder

    def __init__(self, **options: Any) -> None:
        self.recorder.log.append(("client", options))

    def instance(self, instance_id: str) -> Any:
        return SimpleNamespace(database=lambda database_id, **kw: FakeDatabase(self.recorder, **kw))

    def close(self) -> None:
        self.recorder.log.append(("close",))
