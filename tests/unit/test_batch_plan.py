"""The group-commit batch plan: bare first, savepoints after a failure, who gets which error, what runs again,
in both modes.

A scripted driver (``tests/unit/test_transaction_plan.py``) stands in for a
connection; operations are single statements that return a row count, raise
(a stale session), or fail on the driver where each case says.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine import batch as batch_module
from sqlspec_adk.engine.batch import RELEASE_SAVEPOINT, ROLLBACK_TO_SAVEPOINT, SAVEPOINT, Ticket, batch_transaction
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.loop import run_async, run_sync
from sqlspec_adk.engine.transaction import COMMIT_UNKNOWN
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt, TransactionRules
from tests.unit.test_transaction_plan import AsyncScriptedDriver, DriverError, ScriptedDriver

SQLITE = SqliteDialect.rules
NO_SAVEPOINTS = DuckdbDialect.rules


class Stale(Exception):
    """What an operation raises on its own (the dialect's stale-session check)."""


class _Tracking:
    """Open from BEGIN to COMMIT/ROLLBACK; savepoint commands leave the transaction open."""

    def command(self, connection: int, sql: str) -> None:
        key = "BEGIN" if sql.startswith("BEGIN") else sql
        ScriptedDriver._tick(self, key)  # type: ignore[arg-type]
        if key == "BEGIN":
            self.open = True
        elif key in ("COMMIT", "ROLLBACK", "ROLLBACK TRANSACTION"):
            self.open = False


class Driver(_Tracking, ScriptedDriver):
    pass


class AsyncDriver(AsyncScriptedDriver):
    async def command(self, connection: int, sql: str) -> None:  # type: ignore[override]
        _Tracking.command(self, connection, sql)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr("sqlspec_adk.engine.transaction.backoff", lambda attempt: 0.0)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(mode: str, results: dict[str, list[Any]], failures: dict[tuple[str, int], Any] | None = None) -> Any:
    return AsyncDriver(results, failures) if mode == "async" else Driver(results, failures)


def run(mode: str, driver: Any, tickets: list[Ticket[Any]], rules: TransactionRules = SQLITE) -> None:
    plan = batch_transaction(tickets, rules, driver)
    if mode == "sync":
        run_sync(driver, plan)
    else:
        asyncio.run(run_async(driver, plan))


def update(sql: str, *, raises: bool = False, **flags: Any) -> Callable[[], Op[int]]:
    """One statement returning its row count; ``raises``: the operation then raises :class:`Stale`."""

    def build() -> Op[int]:
        count = yield Stmt(sql, (), Fetch.ROWCOUNT, **flags)
        if raises:
            raise Stale(sql)
        return int(count)

    return build


def tickets(*builds: Callable[[], Op[Any]]) -> list[Ticket[Any]]:
    return [Ticket(Operation(f"op{index}", build, True)) for index, build in enumerate(builds)]


def outcomes(batch: list[Ticket[Any]]) -> list[Any]:
    assert all(ticket.done for ticket in batch)
    return [ticket.error if ticket.error is not None else ticket.value for ticket in batch]


# ------------------------------------------------------------------- shape
def test_a_batch_of_one_is_the_plain_transaction(mode: str) -> None:
    driver = make(mode, {"U1": [1]})
    batch = tickets(update("U1"))
    run(mode, driver, batch)
    assert driver.log == ["CONNECT", "BEGIN", "U1", "COMMIT", "RELEASE"]
    assert outcomes(batch) == [1]


def test_members_run_in_order_bare_then_one_commit(mode: str) -> None:
    """No member failed: no savepoint, each member costs exactly its own statements."""
    driver = make(mode, {"U1": [1], "U2": [2], "U3": [3]})
    batch = tickets(update("U1"), update("U2"), update("U3"))
    run(mode, driver, batch)
    assert driver.log == ["CONNECT", "BEGIN", "U1", "U2", "U3", "COMMIT", "RELEASE"]
    assert outcomes(batch) == [1, 2, 3]
    assert driver.released == [(1, False)]


# -------------------------------------------------------- a member failing alone
def test_a_member_that_raises_fails_alone_and_the_rest_run_again_in_savepoints(mode: str) -> None:
    driver = make(mode, {"U1": [1, 1], "U2": [0], "U3": [3]})
    batch = tickets(update("U1"), update("U2", raises=True), update("U3"))
    run(mode, driver, batch)
    assert driver.log == [
        *["CONNECT", "BEGIN", "U1", "U2", "ROLLBACK", "RELEASE"],
        *["CONNECT", "BEGIN", SAVEPOINT, "U1", RELEASE_SAVEPOINT, SAVEPOINT, "U3", RELEASE_SAVEPOINT],
        *["COMMIT", "RELEASE"],
    ]
    first, second, third = outcomes(batch)
    assert (first, third) == (1, 3)
    assert isinstance(second, Stale)


def test_after_one_failure_a_second_is_rolled_back_to_its_savepoint(mode: str) -> None:
    """A batch runs at most twice however many members fail: the guarded run undoes a member alone."""
    driver = make(mode, {"U1": [1, 1], "U2": [0], "U3": [0], "U4": [4]})
    batch = tickets(update("U1"), update("U2", raises=True), update("U3", raises=True), update("U4"))
    run(mode, driver, batch)
    assert driver.log.count("BEGIN") == 2 and driver.log.count("COMMIT") == 1
    guarded = driver.log[driver.log.index("RELEASE") + 1 :]
    assert guarded[guarded.index("U3") + 1 : guarded.index("U3") + 3] == [ROLLBACK_TO_SAVEPOINT, RELEASE_SAVEPOINT]
    first, second, third, fourth = outcomes(batch)
    assert (first, fourth) == (1, 4)
    assert isinstance(second, Stale) and isinstance(third, Stale)


def test_a_member_whose_statement_violates_a_constraint_fails_alone(mode: str) -> None:
    driver = make(mode, {"U1": [1, 1], "U3": [3]}, {("U2", 1): None})
    batch = tickets(update("U1"), update("U2"), update("U3"))
    run(mode, driver, batch)
    assert driver.log.count("U2") == 1 and driver.log.count("COMMIT") == 1
    first, second, third = outcomes(batch)
    assert (first, third) == (1, 3)
    assert isinstance(second, DriverError) and second.kind is None


def test_without_savepoints_the_batch_runs_again_without_the_failing_member(mode: str) -> None:
    """DuckDB: no SAVEPOINT, so the transaction is rolled back and replayed without the member."""
    driver = make(mode, {"U1": [1, 1], "U2": [0], "U3": [3]})
    batch = tickets(update("U1"), update("U2", raises=True), update("U3"))
    run(mode, driver, batch, NO_SAVEPOINTS)
    assert SAVEPOINT not in driver.log
    assert driver.log == [
        *["CONNECT", "BEGIN", "U1", "U2", "ROLLBACK", "RELEASE"],
        *["CONNECT", "BEGIN", "U1", "U3", "COMMIT", "RELEASE"],
    ]
    first, second, third = outcomes(batch)
    assert (first, third) == (1, 3)
    assert isinstance(second, Stale)


def test_a_member_that_lost_an_insert_race_runs_alone_after_the_commit(mode: str) -> None:
    race = update("INSERT many", many=True, duplicate_is_zero=True)
    driver = make(mode, {"U1": [1, 1], "INSERT many": [None, 5]}, {("INSERT many", 1): ErrorKind.DUPLICATE})
    batch = tickets(update("U1"), race)
    run(mode, driver, batch)
    assert driver.log.count("ROLLBACK") == 1  # the bare run is undone; the commit holds only U1
    commit = driver.log.index("COMMIT")
    assert driver.log[commit + 1 :] == ["RELEASE", "CONNECT", "BEGIN", "INSERT many", "COMMIT", "RELEASE"]
    assert outcomes(batch) == [1, 5]


# ---------------------------------------------------------- the batch failing
def test_a_failed_commit_fails_every_member_and_rolls_back(mode: str) -> None:
    driver = make(mode, {"U1": [1], "U2": [0], "U3": [3]}, {("COMMIT", 1): None})
    batch = tickets(update("U1"), update("U2", raises=True), update("U3"))
    run(mode, driver, batch)
    assert driver.log[-3:] == ["COMMIT", "ROLLBACK", "RELEASE"]
    errors = outcomes(batch)
    assert all(error is errors[0] and isinstance(error, DriverError) for error in errors)
    assert "BEGIN" not in driver.log[driver.log.index("COMMIT") :]  # nothing ran again


def test_a_connection_lost_during_commit_is_an_unknown_outcome_for_every_member(mode: str) -> None:
    driver = make(mode, {"U1": [1], "U2": [2]}, {("COMMIT", 1): ErrorKind.LOST})
    batch = tickets(update("U1"), update("U2"))
    run(mode, driver, batch)
    errors = outcomes(batch)
    assert all(isinstance(error, DriverError) and COMMIT_UNKNOWN in error.__notes__ for error in errors)
    assert driver.log.count("BEGIN") == 1
    assert driver.released == [(1, True)]


def test_a_batch_the_server_rolled_back_runs_each_member_again_alone(mode: str) -> None:
    retried: list[tuple[int, str]] = []
    driver = make(mode, {"U1": [1, 1], "U2": [2, 2]}, {("U2", 1): ErrorKind.ROLLED_BACK})
    batch = tickets(update("U1"), update("U2"))
    for index, ticket in enumerate(batch):
        ticket.on_retry = lambda attempt, error, index=index: retried.append((index, str(attempt)))
    run(mode, driver, batch)
    assert outcomes(batch) == [1, 2]
    first = driver.log.index("RELEASE")
    assert "COMMIT" not in driver.log[:first]
    assert driver.log[first + 1 :] == [
        *["CONNECT", "BEGIN", "U1", "COMMIT", "RELEASE"],
        *["CONNECT", "BEGIN", "U2", "COMMIT", "RELEASE"],
    ]
    assert retried == [(0, "1"), (1, "1")]


def test_a_member_raising_in_a_batch_that_then_fails_is_run_again_too(mode: str) -> None:
    """Its error was seen in a transaction that never committed: it runs again alone, like the others."""
    driver = make(mode, {"U1": [1, 1, 1], "U2": [0, 0]}, {("COMMIT", 1): ErrorKind.ROLLED_BACK})
    batch = tickets(update("U1"), update("U2", raises=True))
    run(mode, driver, batch)
    first, second = outcomes(batch)
    assert first == 1 and isinstance(second, Stale)
    assert driver.log.count("U2") == 2


def test_a_cancellation_thrown_into_a_batch_releases_the_connection_and_decides_nothing() -> None:
    driver = AsyncDriver({"U1": [1]})
    driver.cancel_on = "U2"
    batch = tickets(update("U1"), update("U2"), update("U3"))

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await run_async(driver, batch_transaction(batch, SQLITE, driver))

    asyncio.run(main())
    assert driver.released == [(1, True)]
    assert "COMMIT" not in driver.log
    assert not any(ticket.done for ticket in batch)


# ------------------------------------------------------------- what is batched
def test_what_a_group_batches() -> None:
    """Writes on pooled connections; not reads, own-connection writes, DDL first (MySQL commits there) or,
    where the family autocommits them, lone statements; decided once per operation name."""
    from sqlspec_adk.dialects.postgres import PostgresDialect
    from sqlspec_adk.engine.group import batchable

    def op(name: str, stmt: Stmt, *, write: bool = True, own: bool = False) -> Operation[Any]:
        def build() -> Op[Any]:
            return (yield stmt)

        return Operation(name, build, write, own_connection=own)

    pg = PostgresDialect.rules
    kinds: dict[str, bool] = {}
    assert batchable(op("append", Stmt("U")), SQLITE, {})
    assert not batchable(op("get", Stmt("S"), write=False), SQLITE, {})
    assert not batchable(op("migrate", Stmt("U"), own=True), SQLITE, {})
    assert not batchable(op("migrate_step", Stmt("CREATE", exists_ok=True)), SQLITE, {})
    assert batchable(op("lone", Stmt("U", alone=True)), SQLITE, {})
    assert not batchable(op("lone", Stmt("U", alone=True)), pg, kinds)
    assert kinds == {"lone": False}
    assert not batchable(op("lone", Stmt("U")), pg, kinds)  # remembered by name


# ------------------------------------------------------ held-back (fused) rows
INSERT = "INSERT event"


class Recording(Driver):
    """Also keeps every statement run, to see the fused rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stmts: list[Stmt] = []

    def execute(self, connection: int, stmt: Stmt) -> Any:
        self.stmts.append(stmt)
        return super().execute(connection, stmt)


class AsyncRecording(AsyncDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stmts: list[Stmt] = []

    async def execute(self, connection: int, stmt: Stmt) -> Any:
        self.stmts.append(stmt)
        return await super().execute(connection, stmt)


def recording(mode: str, results: dict[str, list[Any]], failures: dict[tuple[str, int], Any] | None = None) -> Any:
    return AsyncRecording(results, failures) if mode == "async" else Recording(results, failures)


def append(sql: str, row: int, *, raises: bool = False) -> Callable[[], Op[int]]:
    """An append's shape: the session's UPDATE (its row count), then the event row, deferrable."""

    def build() -> Op[int]:
        count = yield Stmt(sql, (), Fetch.ROWCOUNT)
        if raises:
            raise Stale(sql)
        sent = yield Stmt(INSERT, (row,), deferrable=True)
        assert sent is None
        return int(count)

    return build


def scoped(*members: tuple[Callable[[], Op[Any]], Any]) -> list[Ticket[Any]]:
    return [Ticket(Operation(f"op{index}", build, True, scope=scope)) for index, (build, scope) in enumerate(members)]


def inserts(driver: Any) -> list[Any]:
    """Each event-row statement run: its rows when fused, else its one row."""
    return [list(stmt.params) if stmt.many else [tuple(stmt.params)] for stmt in driver.stmts if stmt.sql == INSERT]


def test_held_event_rows_go_out_as_one_executemany_before_commit(mode: str) -> None:
    driver = recording(mode, {"U1": [1], "U2": [1], "U3": [1], INSERT: [None]})
    batch = scoped((append("U1", 1), "s1"), (append("U2", 2), "s2"), (append("U3", 3), "s3"))
    run(mode, driver, batch)
    assert driver.log == ["CONNECT", "BEGIN", "U1", "U2", "U3", INSERT, "COMMIT", "RELEASE"]
    assert inserts(driver) == [[(1,), (2,), (3,)]]
    assert outcomes(batch) == [1, 1, 1]


def test_held_rows_are_sent_before_a_member_that_may_read_them(mode: str) -> None:
    """The same session again (it reads its events), or an operation of unknown scope: the rows go first."""
    driver = recording(mode, {"U1": [1], "U2": [1], "U3": [1], "U4": [1], INSERT: [None] * 3})
    batch = scoped((append("U1", 1), "s1"), (append("U2", 2), "s2"), (append("U3", 3), "s1"), (update("U4"), None))
    run(mode, driver, batch)
    assert driver.log == ["CONNECT", "BEGIN", "U1", "U2", INSERT, "U3", INSERT, "U4", "COMMIT", "RELEASE"]
    assert inserts(driver) == [[(1,), (2,)], [(3,)]]
    assert outcomes(batch) == [1, 1, 1, 1]


def test_a_member_of_unknown_scope_has_its_rows_run_at_once(mode: str) -> None:
    driver = recording(mode, {"U1": [1], "U2": [1], INSERT: [None] * 2})
    batch = scoped((append("U1", 1), None), (append("U2", 2), "s2"))
    run(mode, driver, batch)
    assert driver.log == ["CONNECT", "BEGIN", "U1", INSERT, "U2", INSERT, "COMMIT", "RELEASE"]
    assert inserts(driver) == [[(1,)], [(2,)]]


def test_a_batch_of_one_and_an_unfused_family_run_the_row_at_once(mode: str) -> None:
    driver = recording(mode, {"U1": [1], INSERT: [None]})
    run(mode, driver, scoped((append("U1", 1), "s1")))
    assert driver.log == ["CONNECT", "BEGIN", "U1", INSERT, "COMMIT", "RELEASE"]
    unfused = dataclasses.replace(SQLITE, fuse_deferred=False)
    driver = recording(mode, {"U1": [1], "U2": [1], INSERT: [None] * 2})
    run(mode, driver, scoped((append("U1", 1), "s1"), (append("U2", 2), "s2")), unfused)
    assert driver.log == ["CONNECT", "BEGIN", "U1", INSERT, "U2", INSERT, "COMMIT", "RELEASE"]


def test_a_failing_executemany_runs_the_batch_again_unfused_and_only_its_member_fails(mode: str) -> None:
    """Which row failed is unknown: roll back, run again in savepoints; the failing row fails its member alone."""
    driver = recording(
        mode,
        {"U1": [1, 1], "U2": [1, 1], "U3": [1, 1], INSERT: [None] * 4},
        {(INSERT, 1): None, (INSERT, 3): None},
    )
    batch = scoped((append("U1", 1), "s1"), (append("U2", 2), "s2"), (append("U3", 3), "s3"))
    run(mode, driver, batch)
    assert driver.log == [
        *["CONNECT", "BEGIN", "U1", "U2", "U3", INSERT, "ROLLBACK", "RELEASE"],
        *["CONNECT", "BEGIN", SAVEPOINT, "U1", INSERT, RELEASE_SAVEPOINT, SAVEPOINT, "U2", INSERT],
        *[ROLLBACK_TO_SAVEPOINT, RELEASE_SAVEPOINT, SAVEPOINT, "U3", INSERT, RELEASE_SAVEPOINT, "COMMIT", "RELEASE"],
    ]
    assert inserts(driver) == [[(1,), (2,), (3,)], [(1,)], [(2,)], [(3,)]]
    first, second, third = outcomes(batch)
    assert (first, third) == (1, 1)
    assert isinstance(second, DriverError) and second.kind is None


def test_an_executemany_the_server_rolled_back_runs_each_member_again_alone(mode: str) -> None:
    driver = recording(mode, {"U1": [1, 1], "U2": [1, 1], INSERT: [None] * 3}, {(INSERT, 1): ErrorKind.ROLLED_BACK})
    batch = scoped((append("U1", 1), "s1"), (append("U2", 2), "s2"))
    run(mode, driver, batch)
    assert outcomes(batch) == [1, 1]
    first = driver.log.index("RELEASE")
    assert driver.log[first + 1 :] == [
        *["CONNECT", "BEGIN", "U1", INSERT, "COMMIT", "RELEASE"],
        *["CONNECT", "BEGIN", "U2", INSERT, "COMMIT", "RELEASE"],
    ]


def test_a_member_failing_after_rows_were_held_drops_them_with_the_rollback(mode: str) -> None:
    driver = recording(mode, {"U1": [1, 1], "U2": [0], "U3": [1], INSERT: [None] * 2})
    batch = scoped((append("U1", 1), "s1"), (append("U2", 2, raises=True), "s2"), (append("U3", 3), "s3"))
    run(mode, driver, batch)
    assert driver.log[:6] == ["CONNECT", "BEGIN", "U1", "U2", "ROLLBACK", "RELEASE"]
    assert inserts(driver) == [[(1,)], [(3,)]]  # the second run is guarded, so unfused
    first, second, third = outcomes(batch)
    assert (first, third) == (1, 1) and isinstance(second, Stale)
