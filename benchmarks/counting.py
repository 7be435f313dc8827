"""Statement and round-trip counting, done in a separate pass so it never perturbs the timings.

Three sources, chosen per contender:

- ``sqlite``: every ``sqlite3`` connection opened while :func:`sqlite_tracing` is
  active gets a trace callback (SQLite's own statement trace), so ADK's
  aiosqlite/SQLAlchemy services, this library and the floor are counted alike,
  BEGIN/COMMIT/PRAGMA included. In-process, a round trip is a statement.
- ``wire``: server databases are counted on the wire by :mod:`benchmarks.wire_proxy`
  (statements from the protocol messages, round trips from request/response turns).
- ``yields``: for this library, :func:`count_yields` wraps the config's ``run``/``arun`` and counts
  the ``Stmt`` objects each operation yields (the statements the library asked
  for, before the driver adds transaction control).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlspec_adk.protocol import Op, Operation, Stmt

__all__ = ["Counts", "Tally", "count_yields", "sqlite_tracing"]

T = TypeVar("T")


class Tally:
    """Thread-safe counters of statements, round trips and new connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statements = 0
        self.round_trips = 0
        self.connects = 0
        self.yields = 0

    def add(self, *, statements: int = 0, round_trips: int = 0, connects: int = 0, yields: int = 0) -> None:
        with self._lock:
            self.statements += statements
            self.round_trips += round_trips
            self.connects += connects
            self.yields += yields

    def reset(self) -> None:
        with self._lock:
            self.statements = self.round_trips = self.connects = self.yields = 0

    def snapshot(self, operations: int, *, yields_counted: bool) -> Counts:
        with self._lock:
            return Counts(
                statements=self.statements / operations,
                round_trips=self.round_trips / operations,
                connects=self.connects / operations,
                yields=self.yields / operations if yields_counted else None,
            )


@dataclass(frozen=True, slots=True)
class Counts:
    """Per-operation averages of one counting pass."""

    statements: float
    round_trips: float
    connects: float
    #: ``Stmt`` objects yielded by this library's operation (None for other contenders).
    yields: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "statements": self.statements,
            "round_trips": self.round_trips,
            "connects": self.connects,
            "stmt_yields": self.yields,
        }


@contextlib.contextmanager
def sqlite_tracing(tally: Tally) -> Iterator[None]:
    """Trace every sqlite3 connection opened inside the block (stdlib, aiosqlite and SQLAlchemy alike)."""
    original = sqlite3.connect

    def on_statement(sql: str) -> None:
        # Statements run by triggers are reported as "-- TRIGGER ..." comments: not round trips.
        if not sql.lstrip().startswith("--"):
            tally.add(statements=1, round_trips=1)

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = original(*args, **kwargs)
        connection.set_trace_callback(on_statement)
        tally.add(connects=1)
        return connection

    sqlite3.connect = traced_connect  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite3.connect = original


def _tap(op: Op[T], tally: Tally) -> Op[T]:
    try:
        stmt: Stmt = next(op)
    except StopIteration as stop:
        result: T = stop.value
        return result
    while True:
        tally.add(yields=1)
        reply = yield stmt
        try:
            stmt = op.send(reply)
        except StopIteration as stop:
            done: T = stop.value
            return done


def intercept(config: Any, wrap: Callable[[Op[Any], Operation[Any]], Op[Any]]) -> Callable[[], None]:
    """Make every operation ``config`` runs from now on run ``wrap(op, operation)`` instead of its own statements.

    ``wrap`` gets each attempt's fresh generator and the operation, and returns the generator to run.
    Patches ``arun`` on every config and ``run`` on a sync one: a sync config's writes from async code
    wait in its loop group without passing ``run``, and its other calls from async code pass both, so an
    operation already wrapped by ``arun`` is not wrapped again. Returns a function that undoes it.
    """
    original_arun = config.arun
    original_run = None if config.is_async else config.run
    wrapped_ids: set[int] = set()  #: operations in flight that ``arun`` already wrapped

    def wrapped(operation: Operation[Any]) -> Operation[Any]:
        return Operation(operation.name, lambda: wrap(operation.build(), operation), operation.write, operation.table)

    async def arun(operation: Operation[Any]) -> Any:
        mine = wrapped(operation)
        wrapped_ids.add(id(mine))
        try:
            return await original_arun(mine)
        finally:
            wrapped_ids.discard(id(mine))

    def run(operation: Operation[Any]) -> Any:
        assert original_run is not None
        return original_run(operation if id(operation) in wrapped_ids else wrapped(operation))

    config.arun = arun
    if original_run is not None:
        config.run = run

    def undo() -> None:
        config.arun = original_arun
        if original_run is not None:
            config.run = original_run

    return undo


def count_yields(store: Any, tally: Tally) -> Callable[[], None]:
    """Count the ``Stmt`` yields of every operation ``store``'s config runs; returns an undo function."""
    return intercept(store.config, lambda op, operation: _tap(op, tally))
