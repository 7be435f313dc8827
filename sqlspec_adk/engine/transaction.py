"""One operation in one transaction, as a plan of driver calls, written once for both modes.

:func:`transaction` is a generator: it yields ``(name, args)`` calls for the
driver (``acquire``, ``command``, ``execute``, ``release``, ``refresh``) and
for the clock (``sleep``), and receives each call's result, or a
:class:`~sqlspec_adk.engine.driver.Failure` when it raised.
:mod:`sqlspec_adk.engine.loop` makes the calls on a sync or an async driver.

The order is always: acquire, the family's BEGIN statements, the operation's
statements, COMMIT, release. An error raised by the operation itself (a stale
session, a bad input the dialect refuses) rolls back and is raised as it is.
A driver error is retried with a fresh copy of the operation, after a jittered
backoff, only when nothing of the transaction can have committed:

- the server rolled it back (serialization failure, deadlock, lock wait
  timeout, Spanner abort): up to ``rules.retry_attempts`` runs;
- the connection failed before the statement reached the server, or before
  the transaction began, or mid-transaction (the server rolls back what it
  never saw committed): up to ``rules.connection_attempts`` runs, each on
  another connection, after the pool dropped its other idle ones;
- a skip-if-present batch (``many`` and ``duplicate_is_zero``) that lost an
  insert race to another writer: up to ``rules.retry_attempts`` runs (one
  statement alone counts the race as 0 rows instead);
- never when the connection was lost during COMMIT, or during a lone
  autocommit write not marked ``idempotent``: the outcome is unknown, and the
  error says so.

A retry runs the operation from the start (``Operation.build``), so it reads
the database anew: a retried append whose session was changed by the writer
that caused the conflict fails with a stale session, as it would have.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlspec_adk.engine.driver import ErrorKind, Failure
from sqlspec_adk.protocol import Op, Operation, Stmt, TransactionRules

__all__ = [
    "Call",
    "Failed",
    "Inspector",
    "Plan",
    "backoff",
    "retryable",
    "rolled_back",
    "run_statements",
    "transaction",
]

T = TypeVar("T")

#: One driver call: its method name and arguments.
Call = tuple[str, tuple[Any, ...]]
Plan = Generator[Call, Any, T]

COMMIT_UNKNOWN = "sqlspec-adk: the connection was lost during COMMIT; the transaction may or may not have committed"
LONE_WRITE_UNKNOWN = "sqlspec-adk: the connection was lost during a lone write; it may or may not have committed"


class Inspector(Protocol):
    """The non-I/O questions a plan asks the driver directly."""

    def in_transaction(self, connection: Any) -> bool: ...

    def classify(self, error: BaseException) -> ErrorKind | None: ...


@dataclass(frozen=True, slots=True)
class _Done:
    value: Any


@dataclass(frozen=True, slots=True)
class Failed:
    """A run that failed on a driver call: what it raised, its kind, where, and on which statement."""

    error: Exception
    kind: ErrorKind | None
    phase: str  #: connect, begin, statement or commit
    stmt: Stmt
    alone: bool


def backoff(attempt: int) -> float:
    """Seconds to wait before run ``attempt + 1``: short, doubling, jittered so colliding writers drift apart."""
    return min(0.01 * 2.0**attempt, 1.0) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def transaction(
    operation: Operation[T],
    rules: TransactionRules,
    driver: Inspector,
    on_retry: Callable[[int, Exception], None] | None = None,
    attempts_used: int = 0,
) -> Plan[T]:
    """Run ``operation`` in one transaction, retrying it where that is safe (see the module docstring).

    ``attempts_used``: runs already spent on it (a group-commit batch that failed retryably counts one).
    """
    attempt = attempts_used
    while True:
        attempt += 1
        outcome = yield from _attempt(operation, rules, driver)
        if isinstance(outcome, _Done):
            result: T = outcome.value
            return result
        if not retryable(outcome, attempt, rules, operation.write):
            raise outcome.error
        if on_retry is not None:
            on_retry(attempt, outcome.error)
        if outcome.kind in (ErrorKind.LOST, ErrorKind.UNSENT):
            yield "refresh", ()
        yield "sleep", (backoff(attempt),)


def retryable(failed: Failed, attempt: int, rules: TransactionRules, write: bool) -> bool:
    kind = failed.kind
    if kind is not None and failed.phase in ("connect", "begin"):
        kind = ErrorKind.UNSENT  # nothing of the operation reached the server
    if kind is ErrorKind.ROLLED_BACK:
        return attempt < rules.retry_attempts
    if kind is ErrorKind.DUPLICATE and failed.stmt.duplicate_is_zero and failed.stmt.many:
        # A batch that lost an insert race stopped at that row, so rows after it may be missing: the
        # rerun reads the winner's row and skips it.
        return attempt < rules.retry_attempts
    if kind is ErrorKind.UNSENT:
        return attempt < rules.connection_attempts
    if kind is ErrorKind.LOST:
        if failed.phase == "commit":
            failed.error.add_note(COMMIT_UNKNOWN)
            return False
        if failed.alone and write and not failed.stmt.idempotent:
            failed.error.add_note(LONE_WRITE_UNKNOWN)
            return False
        return attempt < rules.connection_attempts
    return False


def _attempt(operation: Operation[Any], rules: TransactionRules, driver: Inspector) -> Plan[_Done | Failed]:
    """One run: a fresh copy of the operation on one connection, which is released in every case."""
    op = operation.build()
    try:
        stmt = next(op)
    except StopIteration as stop:
        return _Done(stop.value)  # nothing to run, no connection needed
    alone = stmt.alone and rules.alone_autocommit
    connection = yield "acquire", (operation.write,)
    if isinstance(connection, Failure):
        op.close()
        return Failed(connection.error, driver.classify(connection.error), "connect", stmt, alone)
    phase, failure, discard = "begin", None, True
    try:
        for sql in () if alone else rules.begin_write if operation.write else rules.begin_read:
            result = yield "command", (connection, sql)
            if isinstance(result, Failure):
                failure = result
                break
        if failure is None:
            phase = "statement"
            value, failure, stmt = yield from run_statements(op, stmt, connection, driver, alone, operation.name)
        if failure is None and not alone:
            phase = "commit"
            result = yield "command", (connection, rules.commit)
            if isinstance(result, Failure):
                failure = result
        if failure is None:
            discard = operation.own_connection
            return _Done(value)
        kind = driver.classify(failure.error)
        if kind not in (ErrorKind.LOST, ErrorKind.UNSENT):
            discard = not (yield from rolled_back(connection, rules, driver)) or operation.own_connection
        return Failed(failure.error, kind, phase, stmt, alone)
    except Exception:
        # The operation itself raised (stale session, not found, refused input): undo, then report it.
        discard = not (yield from rolled_back(connection, rules, driver)) or operation.own_connection
        raise
    finally:
        # Also reached when cancelled inside a driver call: then the connection's state is unknown (discard).
        yield "release", (connection, discard)


def run_statements(
    op: Op[Any],
    stmt: Stmt,
    connection: Any,
    driver: Inspector,
    alone: bool = False,
    name: str = "",
    held: list[Stmt] | None = None,
) -> Plan[tuple[Any, Failure | None, Stmt]]:
    """Run ``op`` from its first statement ``stmt`` on: ``(value, None, last)`` once it returned, or
    ``(None, failure, stmt)`` when a driver call failed (``op`` closed). What ``op`` raises propagates.
    With ``held``, a ``deferrable`` statement is appended there instead of run (``op`` is sent None)."""
    while True:
        if held is not None and stmt.deferrable:
            held.append(stmt)
            result = None
        else:
            result = yield "execute", (connection, stmt)
            if isinstance(result, Failure):
                result = _absorbed(stmt, result, driver)
                if isinstance(result, Failure):
                    op.close()
                    return None, result, stmt
        try:
            stmt = op.send(result)
        except StopIteration as stop:
            return stop.value, None, stmt
        if alone:
            raise RuntimeError(f"operation {name!r} marked its statement alone, then yielded more")


def _absorbed(stmt: Stmt, failure: Failure, driver: Inspector) -> Any:
    """The result a statement's flags give its error (0 for an absorbed duplicate), or the failure itself."""
    kind = driver.classify(failure.error)
    if stmt.duplicate_is_zero and kind is ErrorKind.DUPLICATE and not stmt.many:
        return 0
    if stmt.exists_ok and kind is ErrorKind.EXISTS:
        return None
    return failure


def rolled_back(connection: Any, rules: TransactionRules, driver: Inspector) -> Plan[bool]:
    """Roll back an open transaction; False when the connection could not (it must be discarded)."""
    if not driver.in_transaction(connection):
        return True
    result = yield "command", (connection, rules.rollback)
    return not isinstance(result, Failure) and not driver.in_transaction(connection)
