"""Connection glue the PostgreSQL-wire adapters share (asyncpg, psycopg, psqlpy and their CockroachDB variants).

- :func:`classify_sqlstate`: what kind of error a SQLSTATE is, for the engine.
- :func:`hung_up` and the checkout loop of :class:`PostgresAsyncGlue` /
  :class:`PostgresSyncGlue`: a pooled connection the server has hung up on
  (a restart, a crash, an idle timeout, ``pg_terminate_backend``) is dropped
  at checkout, *before* anything is sent on it, and another one is taken.
  Without this, the first statement sent on it fails, and a lone autocommit
  write that fails that way is not retried (it may have committed, as far as
  the engine can tell).

Transactions, retries and SQL are the engine's and the dialect's.
"""

from __future__ import annotations

import abc
import select
from typing import ClassVar, TypeVar

from sqlspec_adk.config import AsyncDriverConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.engine.driver import ErrorKind

__all__ = [
    "ADMIN_SHUTDOWN",
    "PostgresAsyncGlue",
    "PostgresSyncGlue",
    "classify_adbc_postgres",
    "classify_sqlstate",
    "hung_up",
]

C = TypeVar("C")

#: The server's message when its backend was terminated (57P01): the statement did not run.
ADMIN_SHUTDOWN = "terminating connection due to administrator command"
#: Admin or crash shutdown, server starting up, refused or failed connects: nothing reached the server.
_UNSENT_STATES = frozenset({"57P01", "57P02", "57P03", "08001", "08004"})
_ROLLED_BACK_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_DUPLICATE_STATE = "23505"  # unique_violation


def classify_sqlstate(code: str | None) -> ErrorKind | None:
    """The kind of a SQLSTATE: rolled back, never sent, lost mid-statement (other class 08), duplicate key."""
    if not code:
        return None
    if code in _ROLLED_BACK_STATES:
        return ErrorKind.ROLLED_BACK
    if code in _UNSENT_STATES:
        return ErrorKind.UNSENT
    if code.startswith("08"):
        return ErrorKind.LOST
    return ErrorKind.DUPLICATE if code == _DUPLICATE_STATE else None


def classify_adbc_postgres(error: BaseException) -> ErrorKind | None:
    """ADBC's PostgreSQL driver: a SQLSTATE's kind; libpq reports a dropped connection with no SQLSTATE, so then
    the message tells.

    Without the message check, a connection the server dropped goes back to
    the pool and fails every later call.
    """
    import adbc_driver_manager.dbapi as dbapi  # here: only the ADBC adapter calls this, and the others lack ADBC

    kind = classify_sqlstate(getattr(error, "sqlstate", None))
    text = str(error) if kind is None and isinstance(error, dbapi.OperationalError) else ""
    if "no connection to the server" in text or "terminating connection" in text:
        return ErrorKind.UNSENT  # the statement never ran (or was aborted with the session)
    return ErrorKind.LOST if "server closed the connection" in text else kind


def hung_up(fileno: int) -> bool:
    """Whether an idle connection's socket holds input its client has not read: the server's goodbye.

    Between transactions the server sends nothing unless it is ending the
    session (a shutdown or crash-restart notice, a FATAL error, end of stream);
    the rare harmless exception (an unsolicited ParameterStatus) costs one
    reconnect. A zero-timeout poll, no round trip. A closed socket counts as hung up.
    """
    if fileno < 0:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fileno, select.POLLIN)  # POLLHUP and POLLERR are always reported
            return bool(poller.poll(0))
        return bool(select.select([fileno], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class PostgresAsyncGlue(AsyncDriverConfig[C]):
    """An async PostgreSQL-wire config: checkout from the driver's pool, minus connections the server hung up on."""

    dialect_class: ClassVar[type[Dialect]] = PostgresDialect

    def checkout_attempts(self) -> int:
        """How many hung-up connections a checkout drops before it takes the next one as it is (the pool size)."""
        return int(self.pool_config.get("max_size", 10))

    def group_commit_slots(self) -> int:
        return self.checkout_attempts()

    async def acquire(self, write: bool) -> C:
        for _ in range(self.checkout_attempts()):
            connection = await self.checkout()
            if not self.hung_up(connection):
                return connection
            await self.release(connection, True)
        return await self.checkout()

    @abc.abstractmethod
    async def checkout(self) -> C:
        """A connection from the driver's pool."""

    def hung_up(self, connection: C) -> bool:
        """Whether the server has hung up on an idle ``connection`` (see :func:`hung_up`); False if unknown."""
        return False


class PostgresSyncGlue(SyncDatabaseConfig[C]):
    """Sync twin of :class:`PostgresAsyncGlue`."""

    dialect_class: ClassVar[type[Dialect]] = PostgresDialect

    def checkout_attempts(self) -> int:
        """How many hung-up connections a checkout drops before it takes the next one as it is (the pool size)."""
        return int(self.pool_config.get("max_size", 10))

    def group_commit_slots(self) -> int:
        return self.checkout_attempts()

    def acquire(self, write: bool) -> C:
        for _ in range(self.checkout_attempts()):
            connection = self.checkout()
            if not self.hung_up(connection):
                return connection
            self.release(connection, True)
        return self.checkout()

    @abc.abstractmethod
    def checkout(self) -> C:
        """A connection from the driver's pool."""

    def hung_up(self, connection: C) -> bool:
        """Whether the server has hung up on an idle ``connection`` (see :func:`hung_up`); False if unknown."""
        return False
