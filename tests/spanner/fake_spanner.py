"""A recording stand-in for the google-cloud-spanner calls the adapter makes.

Client -> instance -> database, whose session manager hands out sessions;
a session starts read-write transactions (``transaction()``) and read-only
snapshots (``snapshot(multi_use=True)``); the database applies DDL through
``update_ddl``. Statements are answered by the scripted rules of a
:class:`~tests.oracle.fake_oracledb.Recorder`; transaction boundaries, schema
changes, session checkouts and failed commits are logged. Nothing here talks
to Spanner.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.oracle.fake_oracledb import Recorder


class SpannerRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.ddl_errors: dict[str, Exception] = {}

    def run(self, kind: str, sql: str, params: Any, types: Any = None) -> Any:
        self.log.append((kind, sql, params, types))
        result = self.respond(sql, params)
        if isinstance(result, BaseException):
            raise result
        return result


class FakeSnapshot:
    def __init__(self, recorder: SpannerRecorder) -> None:
        self.recorder = recorder

    def execute_sql(self, sql: str, params: Any = None, param_types: Any = None) -> list[list[Any]]:
        result = self.recorder.run("execute", sql, params, param_types)
        return [list(row) for row in result] if isinstance(result, list) else []


class FakeTransaction(FakeSnapshot):
    def execute_update(self, dml: str, params: Any = None, param_types: Any = None) -> int:
        result = self.recorder.run("execute", dml, params, param_types)
        return 1 if result is None else int(result)

    def batch_update(self, statements: list[tuple[str, Any, Any]]) -> tuple[Any, list[int]]:
        sql = statements[0][0]
        self.recorder.log.append(("executemany", sql, [s[1] for s in statements], [s[2] for s in statements]))
        result = self.recorder.respond(sql, None)
        if isinstance(result, SimpleNamespace):  # a scripted status
            return result, []
        return SimpleNamespace(code=0, message=""), [1] * len(statements)

    def commit(self) -> None:
        self.recorder.log.append(("commit",))
        if self.recorder.commit_errors:
            raise self.recorder.commit_errors.pop(0)

    def rollback(self) -> None:
        self.recorder.log.append(("rollback",))


class FakeSession:
    def __init__(self, recorder: SpannerRecorder) -> None:
        self.recorder = recorder

    def transaction(self) -> FakeTransaction:
        self.recorder.log.append(("begin",))
        return FakeTransaction(self.recorder)

    def snapshot(self, **options: Any) -> FakeSnapshot:
        self.recorder.log.append(("snapshot", options))
        return FakeSnapshot(self.recorder)


class FakeSessionsManager:
    def __init__(self, recorder: SpannerRecorder) -> None:
        self.recorder = recorder

    def get_session(self, transaction_type: Any) -> FakeSession:
        self.recorder.log.append(("get_session", transaction_type.name))
        if self.recorder.acquire_errors:
            raise self.recorder.acquire_errors.pop(0)
        return FakeSession(self.recorder)

    def put_session(self, session: FakeSession) -> None:
        self.recorder.log.append(("put_session",))


class FakeDatabase:
    def __init__(self, recorder: SpannerRecorder, **options: Any) -> None:
        self.recorder = recorder
        self.options = options
        self.sessions_manager = FakeSessionsManager(recorder)

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
        self.recorder.log.append(("instance", instance_id))
        return SimpleNamespace(database=lambda database_id, **kw: FakeDatabase(self.recorder, **kw))

    def close(self) -> None:
        self.recorder.log.append(("close",))
