"""The engine's transaction plan: order, what it retries, what it never retries, rollback and cancellation.

Runs without a server, in both modes: a scripted sync driver (``run_sync``)
and the same script behind async methods (``run_async``) stand in for a
connection and fail where each case says. The transaction rules are the
PostgreSQL and CockroachDB dialects' own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

import pytest

from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.engine import transaction as transaction_module
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.loop import run_async, run_sync
from sqlspec_adk.engine.transaction import COMMIT_UNKNOWN, LONE_WRITE_UNKNOWN, transaction
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt, TransactionRules

PG = PostgresDialect.rules
READ_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


class DriverError(Exception):
    """A driver exception of a known kind (None: one the engine must raise as it is)."""

    def __init__(self, kind: ErrorKind | None, label: str = "") -> None:
        super().__init__(f"driver error {kind.value if kind else label or 'other'}")
        self.kind = kind


class ScriptedDriver:
    """Sync driver glue whose statements return scripted results and fail on cue.

    ``results[sql]`` lists the results of the statement's successive runs;
    ``failures[(key, n)]`` makes the n-th call of ``key`` (a statement's SQL,
    ``BEGIN``, ``COMMIT``, ``ROLLBACK`` or ``CONNECT``) raise that error kind.
    """

    def __init__(
        self, results: dict[str, list[Any]] | None = None, failures: dict[tuple[str, int], Any] | None = None
    ) -> None:
        self.results = results or {}
        self.failures = failures or {}
        self.calls: dict[str, int] = {}
        self.log: list[str] = []
        self.connections = 0
        self.released: list[tuple[int, bool]] = []
        self.open = False

    def _tick(self, key: str) -> None:
        self.calls[key] = self.calls.get(key, 0) + 1
        self.log.append(key)
        failure = self.failures.get((key, self.calls[key]), "none")
        if failure != "none":
            self.open = self.open and failure not in (ErrorKind.LOST, ErrorKind.UNSENT)
            raise failure if isinstance(failure, BaseException) else DriverError(failure)

    def acquire(self, write: bool) -> int:
        self._tick("CONNECT")
        self.connections += 1
        return self.connections

    def release(self, connection: int, discard: bool) -> None:
        self.log.append("RELEASE")
        self.released.append((connection, discard))

    def refresh(self) -> None:
        self.log.append("REFRESH")

    def execute(self, connection: int, stmt: Stmt) -> Any:
        self._tick(stmt.sql)
        return self.results[stmt.sql][self.calls[stmt.sql] - 1]

    def command(self, connection: int, sql: str) -> None:
        key = "BEGIN" if sql.startswith("BEGIN") else sql
        self._tick(key)
        if key == "BEGIN":
            self.log[-1] = sql
        self.open = key == "BEGIN"

    def in_transaction(self, connection: int) -> bool:
        return self.open

    def classify(self, error: BaseException) -> ErrorKind | None:
        return error.kind if isinstance(error, DriverError) else None


class AsyncScriptedDriver(ScriptedDriver):
    """The same script behind the async driver protocol; ``cancel_on`` raises CancelledError at that statement."""

    def __init__(self, *args: Any, cancel_on: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel_on = cancel_on

    async def acquire(self, write: bool) -> int:  # type: ignore[override]
        return ScriptedDriver.acquire(self, write)

    async def release(self, connection: int, discard: bool) -> None:  # type: ignore[override]
        await asyncio.sleep(0)  # a real release awaits I/O: a cancellation must not cut it short
        ScriptedDriver.release(self, connection, discard)

    async def refresh(self) -> None:  # type: ignore[override]
        ScriptedDriver.refresh(self)

    async def execute(self, connection: int, stmt: Stmt) -> Any:  # type: ignore[override]
        if stmt.sql == self.cancel_on:
            raise asyncio.CancelledError
        return ScriptedDriver.execute(self, connection, stmt)

    async def command(self, connection: int, sql: str) -> None:  # type: ignore[override]
        ScriptedDriver.command(self, connection, sql)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transaction_module, "backoff", lambda attempt: 0.0)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(
    mode: str,
    driver: ScriptedDriver,
    operation: Operation[Any],
    rules: TransactionRules = PG,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> Any:
    """Run ``operation`` on ``driver`` in ``mode`` (the async driver is built from the same script)."""
    if mode == "sync":
        return run_sync(driver, transaction(operation, rules, driver, on_retry))
    assert isinstance(driver, AsyncScriptedDriver)
    return asyncio.run(run_async(driver, transaction(operation, rules, driver, on_retry)))


def make(mode: str, *args: Any, **kwargs: Any) -> ScriptedDriver:
    return AsyncScriptedDriver(*args, **kwargs) if mode == "async" else ScriptedDriver(*args, **kwargs)


class Built:
    """An operation that counts how often it was built (each attempt builds a fresh copy)."""

    def __init__(self, build: Callable[[], Op[Any]], *, write: bool = True) -> None:
        self.builds = 0
        self._build = build
        self.operation = Operation("op", self._fresh, write)

    def _fresh(self) -> Op[Any]:
        self.builds += 1
        return self._build()


def two_statements() -> Generator[Stmt, Any, tuple[Any, Any]]:
    first = yield Stmt("SELECT a", (), Fetch.ONE)
    second = yield Stmt("UPDATE b", (), Fetch.ROWCOUNT)
    return first, second


def lone(*, idempotent: bool = False) -> Callable[[], Op[Any]]:
    def build() -> Op[Any]:
        return (yield Stmt("UPDATE s", (), Fetch.ROWCOUNT, alone=True, idempotent=idempotent))

    return build


# ------------------------------------------------------------------- order
def test_a_write_is_begin_statements_commit_then_release(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,)], "UPDATE b": [1]})
    assert run(mode, driver, Operation("op", two_statements, True)) == ((1,), 1)
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "UPDATE b", "COMMIT", "RELEASE"]
    assert driver.released == [(1, False)]


def test_a_read_begins_with_the_family_read_statement(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,)], "UPDATE b": [1]})
    run(mode, driver, Operation("op", two_statements, False))
    assert driver.log[1] == READ_BEGIN
    driver = make(mode, {"SELECT a": [(1,)], "UPDATE b": [1]})
    run(mode, driver, Operation("op", two_statements, False), CockroachDialect.rules)
    assert driver.log[1] == "BEGIN TRANSACTION READ ONLY"


def test_an_alone_statement_runs_without_begin_and_commit(mode: str) -> None:
    driver = make(mode, {"UPDATE s": [1]})
    assert run(mode, driver, Operation("op", lone(), True)) == 1
    assert driver.log == ["CONNECT", "UPDATE s", "RELEASE"]


def test_alone_means_nothing_where_the_family_does_not_autocommit(mode: str) -> None:
    driver = make(mode, {"UPDATE s": [1]})
    run(mode, driver, Operation("op", lone(), True), TransactionRules())
    assert driver.log == ["CONNECT", "BEGIN", "UPDATE s", "COMMIT", "RELEASE"]


def test_an_operation_without_statements_takes_no_connection(mode: str) -> None:
    def nothing() -> Op[str]:
        return "done"
        yield  # pragma: no cover - makes this a generator

    driver = make(mode)
    assert run(mode, driver, Operation("op", nothing, True)) == "done"
    assert driver.log == []


def test_an_alone_statement_followed_by_another_is_refused(mode: str) -> None:
    def wrong() -> Op[None]:
        yield Stmt("UPDATE s", (), alone=True)
        yield Stmt("UPDATE s", ())

    with pytest.raises(RuntimeError, match="alone"):
        run(mode, make(mode, {"UPDATE s": [None, None]}), Operation("op", wrong, True))


# ----------------------------------------------------------------- retries
def test_a_rolled_back_transaction_runs_again_from_a_fresh_build(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("UPDATE b", 1): ErrorKind.ROLLED_BACK})
    op = Built(two_statements)
    assert run(mode, driver, op.operation) == ((1,), 1)
    assert op.builds == 2
    assert driver.log == [
        *("CONNECT", "BEGIN", "SELECT a", "UPDATE b", "ROLLBACK", "RELEASE"),
        *("CONNECT", "BEGIN", "SELECT a", "UPDATE b", "COMMIT", "RELEASE"),
    ]
    assert driver.released == [(1, False), (2, False)]  # rolled back cleanly: the connection is pooled again


def test_a_retry_reads_the_database_anew_and_decides_again(mode: str) -> None:
    """No replay of recorded results: the second run sees what the conflicting writer left."""

    def decide() -> Op[str]:
        row = yield Stmt("SELECT a", (), Fetch.ONE)
        if row[0] != 1:
            return "stale"
        yield Stmt("UPDATE b", (), Fetch.ROWCOUNT)
        return "written"

    driver = make(mode, {"SELECT a": [(1,), (2,)], "UPDATE b": [1]}, {("UPDATE b", 1): ErrorKind.ROLLED_BACK})
    assert run(mode, driver, Operation("op", decide, True)) == "stale"
    assert driver.calls["UPDATE b"] == 1 and driver.log[-2:] == ["COMMIT", "RELEASE"]


def test_a_rollback_at_commit_is_retried(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("COMMIT", 1): ErrorKind.ROLLED_BACK})
    assert run(mode, driver, Operation("op", two_statements, True)) == ((1,), 1)
    assert driver.log.count("COMMIT") == 2


def test_a_connection_lost_before_commit_is_retried_on_another_connection(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,), (1,)], "UPDATE b": [1, 1]}, {("UPDATE b", 1): ErrorKind.LOST})
    assert run(mode, driver, Operation("op", two_statements, True)) == ((1,), 1)
    assert driver.released == [(1, True), (2, False)]  # the broken one is never pooled again
    assert driver.log.index("REFRESH") == driver.log.index("RELEASE") + 1  # then the pool drops its idle ones


def test_a_failed_connect_or_begin_is_retried(mode: str) -> None:
    failures = {("CONNECT", 1): ErrorKind.UNSENT, ("CONNECT", 2): ErrorKind.LOST, ("BEGIN", 1): ErrorKind.LOST}
    driver = make(mode, {"SELECT a": [(1,)], "UPDATE b": [1]}, failures)
    assert run(mode, driver, Operation("op", two_statements, True)) == ((1,), 1)
    assert driver.calls["CONNECT"] == 4 and driver.calls["BEGIN"] == 2


def test_a_statement_that_never_reached_the_server_is_retried_even_alone(mode: str) -> None:
    driver = make(mode, {"UPDATE s": [None, 1]}, {("UPDATE s", 1): ErrorKind.UNSENT})
    assert run(mode, driver, Operation("op", lone(), True)) == 1


def test_a_lost_commit_is_never_retried(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,)], "UPDATE b": [1]}, {("COMMIT", 1): ErrorKind.LOST})
    with pytest.raises(DriverError) as raised:
        run(mode, driver, Operation("op", two_statements, True))
    assert COMMIT_UNKNOWN in raised.value.__notes__
    assert driver.log.count("COMMIT") == 1 and "ROLLBACK" not in driver.log
    assert driver.released == [(1, True)]


def test_a_lost_lone_write_is_retried_only_when_idempotent(mode: str) -> None:
    driver = make(mode, {"UPDATE s": [None, 1]}, {("UPDATE s", 1): ErrorKind.LOST})
    with pytest.raises(DriverError) as raised:
        run(mode, driver, Operation("op", lone(), True))
    assert LONE_WRITE_UNKNOWN in raised.value.__notes__ and driver.calls["UPDATE s"] == 1
    driver = make(mode, {"UPDATE s": [None, 1]}, {("UPDATE s", 1): ErrorKind.LOST})
    assert run(mode, driver, Operation("op", lone(idempotent=True), True)) == 1


def test_a_lost_lone_read_is_retried(mode: str) -> None:
    driver = make(mode, {"UPDATE s": [None, 7]}, {("UPDATE s", 1): ErrorKind.LOST})
    assert run(mode, driver, Operation("op", lone(), False)) == 7


def test_other_errors_roll_back_and_are_raised_as_they_are(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,)]}, {("UPDATE b", 1): None})
    with pytest.raises(DriverError, match="other"):
        run(mode, driver, Operation("op", two_statements, True))
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "UPDATE b", "ROLLBACK", "RELEASE"]
    assert driver.released == [(1, False)]


def test_a_failed_rollback_discards_the_connection(mode: str) -> None:
    driver = make(mode, {"SELECT a": [(1,)]}, {("UPDATE b", 1): None, ("ROLLBACK", 1): None})
    with pytest.raises(DriverError):
        run(mode, driver, Operation("op", two_statements, True))
    assert driver.released == [(1, True)]


@pytest.mark.parametrize(("rules", "kind", "attempts"), [(PG, ErrorKind.ROLLED_BACK, 4), (PG, ErrorKind.LOST, 4)])
def test_retries_are_bounded(mode: str, rules: TransactionRules, kind: ErrorKind, attempts: int) -> None:
    driver = make(mode, {"SELECT a": [(1,)] * 20}, {("UPDATE b", n): kind for n in range(1, 20)})
    seen: list[int] = []
    with pytest.raises(DriverError):
        run(mode, driver, Operation("op", two_statements, True), rules, lambda attempt, error: seen.append(attempt))
    assert driver.calls["UPDATE b"] == attempts
    assert seen == list(range(1, attempts))  # every retry is reported (tracing counts them)


def test_cockroachdb_retries_rollbacks_longer(mode: str) -> None:
    assert CockroachDialect.rules.retry_attempts == 10 and PG.retry_attempts == 4
    driver = make(mode, {"UPDATE s": [1] * 20}, {("UPDATE s", n): ErrorKind.ROLLED_BACK for n in range(1, 20)})
    with pytest.raises(DriverError):
        run(mode, driver, Operation("op", lone(), True), CockroachDialect.rules)
    assert driver.calls["UPDATE s"] == 10


# ------------------------------------------------------ statement flags
def test_a_duplicate_on_a_duplicate_is_zero_statement_counts_as_no_row(mode: str) -> None:
    def insert() -> Op[Any]:
        return (yield Stmt("INSERT i", (), Fetch.ROWCOUNT, duplicate_is_zero=True))

    driver = make(mode, {"INSERT i": [None]}, {("INSERT i", 1): ErrorKind.DUPLICATE})
    assert run(mode, driver, Operation("op", insert, True)) == 0
    plain = make(mode, {"INSERT i": [None]}, {("INSERT i", 1): ErrorKind.DUPLICATE})
    with pytest.raises(DriverError):
        run(mode, plain, Operation("op", lambda: (yield Stmt("INSERT i", (), Fetch.ROWCOUNT)), True))


def test_exists_on_an_exists_ok_statement_is_done(mode: str) -> None:
    def ddl() -> Op[str]:
        result = yield Stmt("CREATE t", exists_ok=True)
        return f"created {result}"

    driver = make(mode, {"CREATE t": [None]}, {("CREATE t", 1): ErrorKind.EXISTS})
    assert run(mode, driver, Operation("op", ddl, True)) == "created None"


# ------------------------------------------------- the operation's own errors
def test_an_operation_error_rolls_back_and_keeps_the_connection(mode: str) -> None:
    def failing() -> Op[None]:
        yield Stmt("SELECT a", (), Fetch.ONE)
        raise LookupError("the operation decided to fail")

    driver = make(mode, {"SELECT a": [(1,)]})
    with pytest.raises(LookupError):
        run(mode, driver, Operation("op", failing, True))
    assert driver.log == ["CONNECT", "BEGIN", "SELECT a", "ROLLBACK", "RELEASE"]
    assert driver.released == [(1, False)]


# ------------------------------------------------------------ cancellation
async def test_cancellation_mid_transaction_discards_the_connection() -> None:
    driver = AsyncScriptedDriver({"SELECT a": [(1,)]}, cancel_on="UPDATE b")
    with pytest.raises(asyncio.CancelledError):
        await run_async(driver, transaction(Operation("op", two_statements, True), PG, driver))
    assert driver.released == [(1, True)]  # its state is unknown: never pooled again
    assert "COMMIT" not in driver.log


async def test_a_cancelled_caller_still_releases_its_connection() -> None:
    """The caller's task is cancelled while the release awaits: the release completes (it is shielded)."""
    driver = AsyncScriptedDriver({"SELECT a": [(1,)], "UPDATE b": [1]})
    release = driver.release
    entered = asyncio.Event()

    async def slow_release(connection: int, discard: bool) -> None:
        entered.set()
        await asyncio.sleep(0.05)
        await release(connection, discard)

    driver.release = slow_release  # type: ignore[method-assign]
    task = asyncio.ensure_future(run_async(driver, transaction(Operation("op", two_statements, True), PG, driver)))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert driver.released == [(1, False)]


class NeverSuspendingRelease(AsyncScriptedDriver):
    """A driver whose release awaits nothing (the MySQL configs'): it says so, and gets no shielding task."""

    release_suspends = False

    async def release(self, connection: int, discard: bool) -> None:  # type: ignore[override]
        ScriptedDriver.release(self, connection, discard)


async def test_a_release_that_never_suspends_runs_without_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    shielded: list[object] = []
    real_shield = asyncio.shield

    def counting_shield(awaitable: Any) -> Any:
        shielded.append(awaitable)
        return real_shield(awaitable)

    monkeypatch.setattr(asyncio, "shield", counting_shield)
    plain = NeverSuspendingRelease({"SELECT a": [(1,)], "UPDATE b": [1]})
    await run_async(plain, transaction(Operation("op", two_statements, True), PG, plain))
    assert plain.released == [(1, False)] and shielded == []
    cancelled = NeverSuspendingRelease({"SELECT a": [(1,)]}, cancel_on="UPDATE b")
    with pytest.raises(asyncio.CancelledError):
        await run_async(cancelled, transaction(Operation("op", two_statements, True), PG, cancelled))
    assert cancelled.released == [(1, True)] and shielded == []  # released in full, at once
    suspending = AsyncScriptedDriver({"SELECT a": [(1,)], "UPDATE b": [1]})
    await run_async(suspending, transaction(Operation("op", two_statements, True), PG, suspending))
    assert len(shielded) == 1


def test_an_interrupt_in_a_sync_driver_call_discards_the_connection() -> None:
    driver = ScriptedDriver({"SELECT a": [(1,)]}, {("UPDATE b", 1): KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        run_sync(driver, transaction(Operation("op", two_statements, True), PG, driver))
    assert driver.released == [(1, True)] and "ROLLBACK" not in driver.log
