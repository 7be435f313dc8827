"""Several write operations in one transaction, each in its own savepoint: the plan of a group commit.

:func:`batch_transaction` is a plan like :func:`~sqlspec_adk.engine.transaction.transaction`
(driver calls, written once for both modes). It runs the operations of its
:class:`Ticket` objects in order, in one write transaction on one connection,
and records each one's outcome on its ticket; :mod:`sqlspec_adk.engine.group`
decides which operations share a batch and hands the outcomes to their callers.

- A batch of one is :func:`~sqlspec_adk.engine.transaction.transaction` itself:
  no savepoint, the same statements, the same retries.
- A batch first runs bare: no savepoints, so a member costs exactly its own
  statements. When an operation raises (a stale session, not found, refused
  input) or its statement fails with an error that is not the transaction's
  (a constraint), the transaction is rolled back, that operation alone gets
  its error, and the batch runs again without it, now with each member inside
  ``SAVEPOINT``: a further failing member is rolled back to its savepoint, so a
  batch runs at most twice. Where the family has no savepoints
  (``TransactionRules.savepoints`` false: DuckDB, Spanner) every failing member
  costs a replay. Either way the others see exactly the state they would have
  seen in sequence.
- Operations run in order, so the second of two appends to one session reads
  the first's revision, exactly as in sequence.
- The bare run also holds back each member's ``deferrable`` statements (an
  append's event row) and sends the rows of one statement text as one
  ``executemany`` just before ``COMMIT`` (``TransactionRules.fuse_deferred``):
  one round trip for the batch's event rows instead of one each. Held rows
  are sent first whenever the next member may read them (its
  ``Operation.scope`` is unknown, or is a held row's session). When that
  ``executemany`` fails on its own (not the transaction's failure), the
  transaction is rolled back and the batch runs again unfused, in savepoints,
  so the failing member is found and alone gets its error.
- Outcomes count only once the shared ``COMMIT`` succeeded. When the batch
  transaction itself fails (the server rolled it back, the connection failed,
  ``COMMIT`` failed), nothing of it was written: where the engine's rules
  retry that failure, every operation runs again alone, in order, with a fresh
  build and one attempt spent; otherwise every ticket gets the error (a
  connection lost during ``COMMIT`` is an unknown outcome, and says so).
- A skip-if-present batch statement that lost an insert race (retried alone
  by the rules) is rolled back to its savepoint and its operation runs alone
  after the batch committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlspec_adk.engine.driver import ErrorKind, Failure
from sqlspec_adk.engine.transaction import (
    Failed,
    Inspector,
    Plan,
    backoff,
    retryable,
    rolled_back,
    run_statements,
    transaction,
)
from sqlspec_adk.protocol import Operation, Stmt, TransactionRules

__all__ = ["ROLLBACK_TO_SAVEPOINT", "RELEASE_SAVEPOINT", "SAVEPOINT", "Ticket", "batch_transaction"]

T = TypeVar("T")

SAVEPOINT = "SAVEPOINT sqlspec_adk_member"
RELEASE_SAVEPOINT = "RELEASE SAVEPOINT sqlspec_adk_member"
ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT sqlspec_adk_member"

_NO_STMT = Stmt("")


@dataclass(eq=False, slots=True)
class Ticket(Generic[T]):
    """One caller's write operation and, once its batch ended, its outcome.

    ``done`` is set when ``value`` or ``error`` holds the outcome; ``batch_size``
    says how many operations the transaction that decided it held. ``waiter`` and
    ``handed`` belong to the front end that waits for the outcome
    (:mod:`sqlspec_adk.engine.group`).
    """

    operation: Operation[T]
    on_retry: Callable[[int, Exception], None] | None = None
    done: bool = False
    value: Any = None
    error: BaseException | None = None
    batch_size: int = 0
    waiter: Any = None
    handed: list[Ticket[Any]] | None = field(default=None, repr=False)

    def settle(self, value: Any = None, error: BaseException | None = None, batch_size: int = 1) -> None:
        self.value, self.error, self.batch_size, self.done = value, error, batch_size, True

    def outcome(self) -> T:
        """The operation's result, or its error raised."""
        if self.error is not None:
            raise self.error
        result: T = self.value
        return result


@dataclass(slots=True)
class _Committed:
    values: dict[int, Any]
    errors: dict[int, Exception]
    rerun: list[int]  #: members to run alone after the commit (an insert race lost inside the batch)


@dataclass(slots=True)
class _Unfused:
    """The held-back statements failed on their own: the transaction was rolled back; run again unfused."""


_UNFUSED = _Unfused()


@dataclass(slots=True)
class _Held:
    """A fused run's held-back statements: parameter rows per statement text, and whose events they are."""

    rows: dict[str, list[Sequence[Any]]] = field(default_factory=dict)
    scopes: set[tuple[Any, ...]] = field(default_factory=set)

    def hold(self, stmts: list[Stmt], scope: tuple[Any, ...]) -> None:
        """Keep a member's deferrable statements, to be sent with the others of their text."""
        for stmt in stmts:
            self.rows.setdefault(stmt.sql, []).append(stmt.params)
        self.scopes.add(scope)

    def read_by(self, scope: tuple[Any, ...] | None) -> bool:
        """Whether an operation of ``scope`` may read a held row (then they are sent before it runs)."""
        return bool(self.rows) and (scope is None or scope in self.scopes)


@dataclass(slots=True)
class _Without:
    """No savepoint to go back to: the transaction was rolled back; run the batch again without ``index``."""

    index: int
    error: Exception | None  #: None: run it alone after the batch instead (a retryable insert race)


def batch_transaction(tickets: Sequence[Ticket[Any]], rules: TransactionRules, driver: Inspector) -> Plan[None]:
    """Run the tickets' operations in one transaction (see the module docstring); every ticket is settled,
    unless a cancellation or an interrupt is thrown into the plan (then it propagates, tickets undecided)."""
    if len(tickets) == 1:
        yield from _alone(tickets[0], rules, driver, 0)
        return
    members = list(tickets)
    guarded = False  #: members run in savepoints: only after one failed (failures are rare, statements are not)
    fused = rules.fuse_deferred  #: deferrable statements held back and sent together: the first run only
    errors: dict[int, Exception] = {}  #: by ticket position: the operation's own error, decided once committed
    later: list[int] = []  #: positions to run alone after the batch committed
    while True:
        live = [index for index in range(len(members)) if index not in errors and index not in later]
        if not live:
            break
        outcome = yield from _attempt([members[index] for index in live], rules, driver, guarded, fused)
        fused = False
        if isinstance(outcome, _Unfused):
            guarded = rules.savepoints
            continue
        if isinstance(outcome, _Without):
            position = live[outcome.index]
            if outcome.error is None:
                later.append(position)
            else:
                errors[position] = outcome.error
            guarded = rules.savepoints
            continue
        if isinstance(outcome, Failed):
            yield from _failed(members, outcome, rules, driver)
            return
        size = len(live)
        for offset, position in enumerate(live):
            if offset in outcome.errors:
                errors[position] = outcome.errors[offset]
            elif offset in outcome.rerun:
                later.append(position)
            else:
                members[position].settle(outcome.values.get(offset), batch_size=size)
        break
    for position, error in errors.items():
        members[position].settle(error=error, batch_size=len(members))
    for position in sorted(later):
        yield from _alone(members[position], rules, driver, 1)


def _alone(ticket: Ticket[Any], rules: TransactionRules, driver: Inspector, attempts_used: int) -> Plan[None]:
    try:
        value = yield from transaction(ticket.operation, rules, driver, ticket.on_retry, attempts_used)
    except Exception as error:
        ticket.settle(error=error)
    else:
        ticket.settle(value)


def _failed(members: list[Ticket[Any]], failed: Failed, rules: TransactionRules, driver: Inspector) -> Plan[None]:
    """The batch transaction failed, nothing of it written: each member again alone, or every one fails."""
    if not retryable(failed, 1, rules, True):
        for ticket in members:
            ticket.settle(error=failed.error, batch_size=len(members))
        return
    for ticket in members:
        if ticket.on_retry is not None:
            ticket.on_retry(1, failed.error)
    if failed.kind in (ErrorKind.LOST, ErrorKind.UNSENT):
        yield "refresh", ()
    yield "sleep", (backoff(1),)
    for ticket in members:
        yield from _alone(ticket, rules, driver, 1)


def _attempt(
    members: list[Ticket[Any]], rules: TransactionRules, driver: Inspector, guarded: bool, fused: bool
) -> Plan[_Committed | _Without | _Unfused | Failed]:
    """One transaction over ``members`` on one connection, which is released in every case; ``guarded``:
    each member in its own savepoint; ``fused``: deferrable statements held back and sent together."""
    connection = yield "acquire", (True,)
    if isinstance(connection, Failure):
        return Failed(connection.error, driver.classify(connection.error), "connect", _NO_STMT, False)
    discard = True
    try:
        outcome = yield from _steps(members, connection, rules, driver, guarded, fused)
        if isinstance(outcome, _Committed):
            discard = False
        elif isinstance(outcome, _Without | _Unfused):
            discard = not (yield from rolled_back(connection, rules, driver))
        else:  # rolled back already, unless the connection itself failed
            discard = outcome.kind in (ErrorKind.LOST, ErrorKind.UNSENT) or driver.in_transaction(connection)
        return outcome
    finally:
        # Also reached when cancelled inside a driver call: then the connection's state is unknown (discard).
        yield "release", (connection, discard)


def _steps(
    members: list[Ticket[Any]],
    connection: Any,
    rules: TransactionRules,
    driver: Inspector,
    guarded: bool,
    fused: bool,
) -> Plan[_Committed | _Without | _Unfused | Failed]:
    """BEGIN, each member (in its savepoint when ``guarded``), the held-back statements when ``fused``, COMMIT."""
    for sql in rules.begin_write:
        result = yield "command", (connection, sql)
        if isinstance(result, Failure):
            return (yield from _abort(connection, result, "begin", _NO_STMT, rules, driver))
    done = _Committed({}, {}, [])
    held = _Held() if fused else None
    for index, ticket in enumerate(members):
        if held is not None and held.read_by(ticket.operation.scope):
            sent = yield from _send_held(held, connection, rules, driver)
            if sent is not None:
                return sent
        step = yield from _member(index, ticket, connection, rules, driver, done, guarded, held)
        if step is not None:
            return step
    if held is not None:
        sent = yield from _send_held(held, connection, rules, driver)
        if sent is not None:
            return sent
    result = yield "command", (connection, rules.commit)
    if isinstance(result, Failure):
        return (yield from _abort(connection, result, "commit", _NO_STMT, rules, driver))
    return done


def _member(
    index: int,
    ticket: Ticket[Any],
    connection: Any,
    rules: TransactionRules,
    driver: Inspector,
    done: _Committed,
    guarded: bool,
    held: _Held | None = None,
) -> Plan[_Without | Failed | None]:
    """Run one member (inside its savepoint when ``guarded``), recording its outcome in ``done``; not None:
    the batch stops. With ``held``, a member of known scope has its deferrable statements held there."""
    op = ticket.operation.build()
    try:
        stmt = next(op)
    except StopIteration as stop:
        done.values[index] = stop.value  # nothing to run
        return None
    except Exception as refused:
        done.errors[index] = refused
        return None
    if guarded:
        result = yield "command", (connection, SAVEPOINT)
        if isinstance(result, Failure):
            op.close()
            return (yield from _abort(connection, result, "statement", stmt, rules, driver))
    own: Exception | None = None  #: the member's own error (None with a lost insert race: it reruns alone)
    scope = ticket.operation.scope
    mine: list[Stmt] | None = [] if held is not None and scope is not None else None
    try:
        value, failure, stmt = yield from run_statements(op, stmt, connection, driver, held=mine)
    except Exception as raised:
        own, failure = raised, None
    else:
        if failure is None:
            if held is not None and scope is not None and mine:
                held.hold(mine, scope)
            if guarded:
                result = yield "command", (connection, RELEASE_SAVEPOINT)
                if isinstance(result, Failure):
                    return (yield from _abort(connection, result, "statement", stmt, rules, driver))
            done.values[index] = value
            return None
        kind = driver.classify(failure.error)
        if kind in (ErrorKind.ROLLED_BACK, ErrorKind.LOST, ErrorKind.UNSENT):
            return (yield from _abort(connection, failure, "statement", stmt, rules, driver))  # the transaction's
        if not (kind is ErrorKind.DUPLICATE and stmt.duplicate_is_zero and stmt.many):
            own = failure.error
    # The member failed on its own: undo it alone, or (bare, or the savepoint would not undo it) all and replay.
    if not guarded or not driver.in_transaction(connection):
        return _Without(index, own)
    for sql in (ROLLBACK_TO_SAVEPOINT, RELEASE_SAVEPOINT):
        result = yield "command", (connection, sql)
        if isinstance(result, Failure):
            return _Without(index, own)
    if own is None:
        done.rerun.append(index)
    else:
        done.errors[index] = own
    return None


def _send_held(
    held: _Held, connection: Any, rules: TransactionRules, driver: Inspector
) -> Plan[_Unfused | Failed | None]:
    """Send the held-back rows, one ``executemany`` per statement text; None when all went through."""
    rows, held.rows, held.scopes = held.rows, {}, set()
    for sql, params in rows.items():
        stmt = Stmt(sql, params, many=True) if len(params) > 1 else Stmt(sql, params[0])
        result = yield "execute", (connection, stmt)
        if isinstance(result, Failure):
            if driver.classify(result.error) in (ErrorKind.ROLLED_BACK, ErrorKind.LOST, ErrorKind.UNSENT):
                return (yield from _abort(connection, result, "statement", stmt, rules, driver))
            return _UNFUSED  # a member's row (which one is not known): rolled back by the caller, run unfused
    return None


def _abort(
    connection: Any, failure: Failure, phase: str, stmt: Stmt, rules: TransactionRules, driver: Inspector
) -> Plan[Failed]:
    """The batch transaction failed: roll back what the server still holds open, and say how it failed."""
    kind = driver.classify(failure.error)
    if kind not in (ErrorKind.LOST, ErrorKind.UNSENT):
        yield from rolled_back(connection, rules, driver)
    return Failed(failure.error, kind, phase, stmt, False)
