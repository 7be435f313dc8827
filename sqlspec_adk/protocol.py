"""What a store operation is, as data: statements, operations, transaction rules.

An operation is written once, as a generator that yields :class:`Stmt` objects
and receives each statement's result back through ``send``; its return value is
the operation's result. It knows SQL and how results map back, nothing about
drivers, threads or time. :class:`Operation` wraps the function that builds it,
so the engine (:mod:`sqlspec_adk.engine`) can run a fresh copy after a
transaction the server rolled back, on a sync or an async driver alike (the way
psycopg 3 writes its protocol once).

Statements use ``?`` placeholders; adapters rewrite them for their driver
(:mod:`sqlspec_adk.paramstyle`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Fetch", "Op", "Operation", "Stmt", "TransactionRules", "operation"]

T = TypeVar("T")


class Fetch(enum.Enum):
    """What a statement sends back into the operation."""

    NONE = "none"  #: nothing (None)
    ONE = "one"  #: the first row as a tuple, or None
    ALL = "all"  #: every row as a list of tuples
    ROWCOUNT = "rowcount"  #: the number of rows changed


@dataclass(frozen=True, slots=True)
class Stmt:
    """One SQL statement with ``?`` placeholders and positional parameters.

    - ``many``: ``params`` is a sequence of parameter rows (executemany).
    - ``alone``: this is the operation's only statement, so a family whose
      server runs a lone statement atomically may send it without
      ``BEGIN``/``COMMIT`` (one round trip).
    - ``idempotent``: running it again after an unknown outcome (a connection
      lost mid-statement) is harmless, so a lost ``alone`` write may be retried.
    - ``duplicate_is_zero``: a unique-key violation means "no row changed"
      (skip-if-present inserts on families without ``ON CONFLICT``, whose failed
      statement does not abort the transaction); the engine sends back 0.
    - ``exists_ok``: DDL whose "already exists" (CREATE) or "does not exist"
      (DROP) error means the work is done; the engine sends back None.
    - ``deferrable``: the operation needs no result (it is sent None) and
      nothing it runs afterwards reads what this writes, so a group-commit batch
      may hold it back and send it, with the other members' statements of the
      same text, as one ``executemany`` before ``COMMIT``
      (:mod:`sqlspec_adk.engine.batch`). Run at once everywhere else.
    """

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = Fetch.NONE
    many: bool = False
    alone: bool = False
    idempotent: bool = False
    duplicate_is_zero: bool = False
    exists_ok: bool = False
    deferrable: bool = False


Op = Generator[Stmt, Any, T]


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One store operation: its name, whether it writes, and how to build it.

    ``build`` returns a new generator each time, from inputs validated and
    prepared before the operation was made, so every attempt runs the same
    operation from the start. ``table`` names the main table (tracing).
    ``own_connection``: the connection is closed after the operation instead of
    going back to the pool, so session state it set (a session-level lock, a
    session variable) never outlives it. ``scope``: whose events the operation
    reads and writes (a session's keys), so a batch knows a member cannot read
    another's held-back event rows (``Stmt.deferrable``); None: anyone's.
    """

    name: str
    build: Callable[[], Op[T]]
    write: bool
    table: str = ""
    own_connection: bool = False
    scope: tuple[Any, ...] | None = None


def operation(
    name: str,
    build: Callable[[], Op[T]],
    *,
    write: bool,
    table: str = "",
    own_connection: bool = False,
    scope: tuple[Any, ...] | None = None,
) -> Operation[T]:
    """An :class:`Operation` (a shorthand that keeps call sites on one line)."""
    return Operation(name, build, write, table, own_connection, scope)


@dataclass(frozen=True, slots=True)
class TransactionRules:
    """How a SQL family runs a transaction: data a dialect states, the engine acts on.

    ``begin_write``/``begin_read`` are sent in order to open a transaction (an
    empty tuple: the driver opens one implicitly). ``alone_autocommit``: a
    statement marked ``alone`` runs without BEGIN/COMMIT. Attempts count the
    first run: ``retry_attempts`` after the server rolled the transaction back
    (serialization failure, deadlock, lock wait timeout, abort),
    ``connection_attempts`` after a connection failed before the outcome could
    be in doubt. ``savepoints``: the family has ``SAVEPOINT`` (a group-commit
    batch that had a member fail runs again with each member in one).
    ``fuse_deferred``: a group-commit batch's first run holds back its members'
    ``deferrable`` statements and sends each text's rows as one ``executemany``.
    """

    begin_write: tuple[str, ...] = ("BEGIN",)
    begin_read: tuple[str, ...] = ("BEGIN",)
    commit: str = "COMMIT"
    rollback: str = "ROLLBACK"
    alone_autocommit: bool = False
    retry_attempts: int = 4
    connection_attempts: int = 4
    savepoints: bool = True
    fuse_deferred: bool = True
