"""What an adapter answers about its driver, and nothing else.

Like SQLAlchemy's dialect questions (``is_disconnect``), an adapter says how to
get a connection, how to execute one statement or one transaction command on
it, whether a transaction is open, and what kind of error a driver exception
is. Transactions, retries and result mapping are the engine's and the
dialect's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlspec_adk.protocol import Stmt

__all__ = ["AsyncDriver", "ErrorKind", "Failure", "SyncDriver"]

C = TypeVar("C")


class ErrorKind(enum.Enum):
    """The kinds of driver error the engine acts on; anything else is raised as it is."""

    ROLLED_BACK = "rolled_back"  #: the server rolled the transaction back (serialization, deadlock, lock wait, abort)
    UNSENT = "unsent"  #: the connection was unusable before the statement reached the server
    LOST = "lost"  #: the connection broke mid-statement: a lone write may or may not have committed
    DUPLICATE = "duplicate"  #: a unique-key violation
    EXISTS = "exists"  #: DDL found its object already there (CREATE) or already gone (DROP)


@dataclass(frozen=True, slots=True)
class Failure:
    """A driver call that raised, sent back into a plan instead of its result."""

    error: Exception


class SyncDriver(Protocol[C]):
    """A synchronous driver's connection glue."""

    def acquire(self, write: bool) -> C:
        """A usable connection outside any transaction (``write``: for a write transaction)."""
        ...

    def release(self, connection: C, discard: bool) -> None:
        """Hand ``connection`` back; ``discard``: it is broken or in an unknown state, close it."""
        ...

    def refresh(self) -> None:
        """Drop idle connections: one was found dead, so the others may be too."""
        ...

    def execute(self, connection: C, stmt: Stmt) -> Any:
        """Run one statement and return what its ``fetch`` asks for."""
        ...

    def command(self, connection: C, sql: str) -> None:
        """Run a transaction command (BEGIN, COMMIT, ROLLBACK, SAVEPOINT ...)."""
        ...

    def in_transaction(self, connection: C) -> bool:
        """Whether a transaction is open on ``connection`` (no I/O)."""
        ...

    def classify(self, error: BaseException) -> ErrorKind | None:
        """The kind of a driver exception, or None for "raise it as it is" (no I/O)."""
        ...


class AsyncDriver(Protocol[C]):
    """An asynchronous driver's connection glue; :class:`SyncDriver` with awaitable I/O."""

    async def acquire(self, write: bool) -> C: ...

    async def release(self, connection: C, discard: bool) -> None:
        """As :meth:`SyncDriver.release`; shielded from cancellation unless the driver's class says
        ``release_suspends = False`` (its release awaits nothing, so nothing can interrupt it)."""
        ...

    async def refresh(self) -> None: ...

    async def execute(self, connection: C, stmt: Stmt) -> Any: ...

    async def command(self, connection: C, sql: str) -> None: ...

    def in_transaction(self, connection: C) -> bool: ...

    def classify(self, error: BaseException) -> ErrorKind | None: ...
