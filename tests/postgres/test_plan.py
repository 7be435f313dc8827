"""The PostgreSQL transaction plan: what it retries, what it never retries, and replay.

Runs without a server: a scripted driver stands in for the connection and
fails where each case says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.postgres import (
    ErrorKind,
    PostgresDialect,
    SoleStmt,
    kind_of_sqlstate,
    rowcount_sql,
    run_async,
    run_sync,
)
from sqlspec_adk.protocol import Fetch, Stmt


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


class ScriptedDriver:
    """Sync glue whose statements return scripted results and fail on cue."""

    def __init__(self, results: dict[str, list[Any]], failures: dict[tuple[str, int], str] | None = None) -> None:
        self.results = results  # sql -> results of its successive executions
        self.failures = failures or {}  # (sql or "BEGIN"/"COMMIT"/"CONNECT", nth call) -> SQLSTATE
        self.calls: dict[str, int] = {}
        self.log: list[str] = []
        self.connections = 0
        self.released: list[bool] = []
        self.open_transaction = False

    def _tick(self, key: str) -> None:
        self.calls[key] = self.calls.get(key, 0) + 1
        self.log.append(key)
        code = self.failures.get((key, self.calls[key]))
        if code is not None:
            self.open_transaction = False
            raise DriverError(code)

    def acquire(self) -> int:
        self._tick("CONNECT")
        self.connections += 1
        return self.connections

    def release(self, connection: int, *, broken: bool) -> None:
        self.released.append(broken)

    def refresh(self) -> None:
        self.log.append("REFRESH")

    def execute(self, connection: int, stmt: Stmt) -> Any:
        self._tick(stmt.sql)
        return self.results[stmt.sql][self.calls[stmt.sql] - 1]

    def command(self, connection: int, sql: str) -> None:
        self._tick(sql.split()[0])
        self.open_transaction = sql.startswith("BEGIN")

    def in_transaction(self, connection: int) -> bool:
        return self.open_transaction

    def classify(self, error: BaseException) -> ErrorKind | None:
        return kind_of_sqlstate(getattr(error, "sqlstate", None))


def dialect() -> PostgresDialect:
    dialect = PostgresDialect(ADKConfig())
    dialect.backoff = lambda attempt: 0.0  # type: ignore[method-assign]
    return dialect


def two_statements() -> Generator[Stmt, Any, tuple[Any, Any]]:
    first = yield Stmt("SELECT a", (), Fetch.ONE)
    second = yield Stmt("UPDATE b", (), Fetch.ROWCOUNT)
    return first, second


def sole(*, write_safe: bool = False) -> Generator[Stmt, Any, Any]:
    return (yield SoleStmt("UPDATE s", (), Fetch.ROWCOUNT, retry_safe=write_safe))


def run(
    driver: ScriptedDriver, op: Generator[Stmt, Any, Any], *, write: bool, on: PostgresDialect | None = None
) -> Any:
    planner = on or dialect()
    return run_sync(driver, planner.plan(op, write=write, classify=driver.classify))


def test_a_transaction_is_begin_statements_commit() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,)], "UPDATE b": [1]})
    assert run(driver, two_statements(), write=True) == ((1,), 1)
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "UPDATE b", "COMMIT"]
    assert driver.released == [False]


def test_a_sole_statement_runs_without_begin_and_commit() -> None:
    driver = ScriptedDriver({"UPDATE s": [1]})
    assert run(driver, sole(), write=True) == 1
    assert driver.log == ["CONNECT", "UPDATE s"]


def test_serialization_failure_replays_and_continues_when_results_match() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("UPDATE b", 1): "40001"})
    assert run(driver, two_statements(), write=True) == ((1,), 1)
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "UPDATE b", "BEGIN", "SELECT a", "UPDATE b", "COMMIT"]
    assert driver.connections == 1  # a serialization failure keeps the connection


def test_replay_that_reads_something_else_raises_the_original_error() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,), (2,)], "UPDATE b": [1]}, {("UPDATE b", 1): "40001"})
    with pytest.raises(DriverError, match="40001"):
        run(driver, two_statements(), write=True)
    assert driver.log[-2:] == ["SELECT a", "ROLLBACK"] and "COMMIT" not in driver.log


def test_serialization_failure_at_commit_is_retried() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("COMMIT", 1): "40001"})
    assert run(driver, two_statements(), write=True) == ((1,), 1)
    assert driver.log.count("COMMIT") == 2


def test_a_lost_commit_is_never_retried() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,)], "UPDATE b": [1]}, {("COMMIT", 1): "08006"})
    with pytest.raises(DriverError, match="08006"):
        run(driver, two_statements(), write=True)
    assert driver.log.count("COMMIT") == 1
    assert driver.released == [True]  # the broken connection is not pooled again


def test_a_connection_lost_before_commit_is_retried_on_a_new_connection() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("UPDATE b", 1): "08006"})
    assert run(driver, two_statements(), write=True) == ((1,), 1)
    assert driver.connections == 2 and "REFRESH" in driver.log
    assert driver.released == [True, False]


def test_a_failed_connect_is_retried() -> None:
    driver = ScriptedDriver({"UPDATE s": [1]}, {("CONNECT", 1): "57P03", ("CONNECT", 2): "08006"})
    assert run(driver, sole(), write=True) == 1
    assert driver.log == ["CONNECT", "CONNECT", "CONNECT", "UPDATE s"]


def test_admin_shutdown_means_the_statement_never_ran_and_is_retried() -> None:
    driver = ScriptedDriver({"UPDATE s": [None, 1]}, {("UPDATE s", 1): "57P01"})
    assert run(driver, sole(), write=True) == 1


def test_a_lost_autocommit_write_is_not_retried_unless_marked_safe() -> None:
    driver = ScriptedDriver({"UPDATE s": [None, 1]}, {("UPDATE s", 1): "08006"})
    with pytest.raises(DriverError, match="08006"):
        run(driver, sole(), write=True)
    driver = ScriptedDriver({"UPDATE s": [None, 1]}, {("UPDATE s", 1): "08006"})
    assert run(driver, sole(write_safe=True), write=True) == 1


def test_a_lost_autocommit_read_is_retried() -> None:
    driver = ScriptedDriver({"UPDATE s": [None, 7]}, {("UPDATE s", 1): "08006"})
    assert run(driver, sole(), write=False) == 7


def test_other_errors_are_not_retried_and_roll_back() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,)]}, {("UPDATE b", 1): "23505"})
    with pytest.raises(DriverError, match="23505"):
        run(driver, two_statements(), write=True)
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "UPDATE b"]


def test_retries_are_bounded() -> None:
    failures = {("UPDATE s", n): "40001" for n in range(1, 50)}
    driver = ScriptedDriver({"UPDATE s": [1] * 50}, failures)
    with pytest.raises(DriverError):
        run(driver, sole(), write=True)
    assert driver.calls["UPDATE s"] == PostgresDialect.serialization_attempts
    driver = ScriptedDriver({"UPDATE s": [1] * 50}, failures)
    cockroach = CockroachDialect(ADKConfig())
    cockroach.backoff = lambda attempt: 0.0  # type: ignore[method-assign]
    with pytest.raises(DriverError):
        run(driver, sole(), write=True, on=cockroach)
    assert driver.calls["UPDATE s"] == CockroachDialect.serialization_attempts


def test_an_operation_error_rolls_back() -> None:
    def failing() -> Generator[Stmt, Any, Any]:
        yield Stmt("SELECT a", (), Fetch.ONE)
        raise LookupError("the operation decided to fail")

    driver = ScriptedDriver({"SELECT a": [(1,)]})
    with pytest.raises(LookupError):
        run(driver, failing(), write=True)
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "ROLLBACK"]
    assert driver.released == [False]


def test_a_sole_statement_followed_by_another_is_refused() -> None:
    def wrong() -> Generator[Stmt, Any, Any]:
        yield SoleStmt("UPDATE s", ())
        yield Stmt("UPDATE s", ())

    with pytest.raises(RuntimeError, match="SoleStmt"):
        run(ScriptedDriver({"UPDATE s": [None]}), wrong(), write=True)


def test_read_transactions_get_one_snapshot() -> None:
    assert "REPEATABLE READ" in dialect().begin_sql(False)
    assert dialect().begin_sql(True) == "BEGIN"
    assert CockroachDialect(ADKConfig()).begin_sql(False) == "BEGIN TRANSACTION READ ONLY"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DELETE FROM t WHERE a = ?", "DELETE FROM t WHERE a = ? RETURNING 1"),
        ("UPDATE t SET a = 1 RETURNING a", "UPDATE t SET a = 1 RETURNING a"),
        (
            "WITH x AS (DELETE FROM t RETURNING id) DELETE FROM u WHERE id IN (SELECT id FROM x)",
            "WITH x AS (DELETE FROM t RETURNING id) DELETE FROM u WHERE id IN (SELECT id FROM x) RETURNING 1",
        ),
        ("UPDATE t SET note = 'RETURNING' WHERE a = ?", "UPDATE t SET note = 'RETURNING' WHERE a = ? RETURNING 1"),
    ],
)
def test_rowcount_rewrite_for_drivers_without_row_counts(sql: str, expected: str) -> None:
    assert rowcount_sql(sql) == expected


class AsyncScriptedDriver(ScriptedDriver):
    """The scripted driver behind the async glue protocol; ``cancel_on`` raises CancelledError there."""

    def __init__(self, *args: Any, cancel_on: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel_on = cancel_on

    async def acquire(self) -> int:  # type: ignore[override]
        return ScriptedDriver.acquire(self)

    async def release(self, connection: int, *, broken: bool) -> None:  # type: ignore[override]
        ScriptedDriver.release(self, connection, broken=broken)

    async def refresh(self) -> None:  # type: ignore[override]
        ScriptedDriver.refresh(self)

    async def execute(self, connection: int, stmt: Stmt) -> Any:  # type: ignore[override]
        if stmt.sql == self.cancel_on:
            raise asyncio.CancelledError
        return ScriptedDriver.execute(self, connection, stmt)

    async def command(self, connection: int, sql: str) -> None:  # type: ignore[override]
        ScriptedDriver.command(self, connection, sql)


async def test_async_runner_retries_like_the_sync_one() -> None:
    driver = AsyncScriptedDriver({"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("UPDATE b", 1): "40001"})
    result = await run_async(driver, dialect().plan(two_statements(), write=True, classify=driver.classify))
    assert result == ((1,), 1)
    assert driver.log.count("BEGIN") == 2 and driver.released == [False]


async def test_cancellation_throws_the_connection_away() -> None:
    driver = AsyncScriptedDriver({"SELECT a": [(1,)]}, cancel_on="UPDATE b")
    with pytest.raises(asyncio.CancelledError):
        await run_async(driver, dialect().plan(two_statements(), write=True, classify=driver.classify))
    assert driver.released == [True]  # its state is unknown: never pooled again
    assert "COMMIT" not in driver.log
