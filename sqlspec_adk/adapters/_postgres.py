"""What the PostgreSQL driver configs share: ``run`` is the dialect's transaction plan on the driver's glue.

Each driver config supplies the glue :func:`~sqlspec_adk.dialects.postgres.run_async`
/ :func:`~sqlspec_adk.dialects.postgres.run_sync` call (``checkout`` behind
``acquire``, release, refresh, execute, command, in_transaction) and
:meth:`classify`, which tells the plan which driver errors it may retry.

A pooled connection the server has hung up on (a restart, a crash, an idle
timeout, ``pg_terminate_backend``) is dropped at checkout, *before* anything is
sent on it, and another one is taken: see :func:`hung_up`. Without this, the
first statement sent on it fails, and a lone autocommit write that fails that
way is not retried (it may have committed, as far as the plan can tell).
"""

from __future__ import annotations

import select
from typing import Any, ClassVar, TypeVar, cast

from sqlspec_adk.config import AsyncDatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.postgres import AsyncGlue, ErrorKind, PostgresDialect, SyncGlue, run_async, run_sync
from sqlspec_adk.protocol import Op

__all__ = ["PostgresAsyncConfigBase", "PostgresSyncConfigBase", "hung_up"]

T = TypeVar("T")


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


class PostgresAsyncConfigBase(AsyncDatabaseConfig):
    """Base of the async PostgreSQL-family configs (asyncpg, psycopg, psqlpy and their CockroachDB variants)."""

    dialect_class: ClassVar[type[PostgresDialect]] = PostgresDialect
    dialect: PostgresDialect

    async def run(self, op: Op[T], *, write: bool) -> T:
        glue = cast("AsyncGlue[Any]", self)  # the driver config supplies the glue methods
        return await run_async(glue, self.dialect.plan(op, write=write, classify=self.classify))

    async def acquire(self) -> Any:
        """A pooled connection the server has not hung up on (dead ones are dropped unused)."""
        for _ in range(int(self.pool_config.get("max_size", 10))):
            connection = await self.checkout()
            if not self.hung_up(connection):
                return connection
            await self.release(connection, broken=True)
        return await self.checkout()

    async def checkout(self) -> Any:
        """A connection from the driver's pool."""
        raise NotImplementedError

    async def release(self, connection: Any, *, broken: bool) -> None:
        """Return ``connection`` to the pool, or throw it away when ``broken``."""
        raise NotImplementedError

    def hung_up(self, connection: Any) -> bool:
        """Whether the server has hung up on an idle ``connection`` (see :func:`hung_up`); False if unknown."""
        return False

    def classify(self, error: BaseException) -> ErrorKind | None:
        """The retry class of a driver error, or None when it must be raised."""
        raise NotImplementedError


class PostgresSyncConfigBase(SyncDatabaseConfig):
    """Base of the sync PostgreSQL-family configs (psycopg sync and its CockroachDB variant)."""

    dialect_class: ClassVar[type[PostgresDialect]] = PostgresDialect
    dialect: PostgresDialect

    def run(self, op: Op[T], *, write: bool) -> T:
        glue = cast("SyncGlue[Any]", self)  # the driver config supplies the glue methods
        return run_sync(glue, self.dialect.plan(op, write=write, classify=self.classify))

    def acquire(self) -> Any:
        """Sync twin of :meth:`PostgresAsyncConfigBase.acquire`."""
        for _ in range(int(self.pool_config.get("max_size", 10))):
            connection = self.checkout()
            if not self.hung_up(connection):
                return connection
            self.release(connection, broken=True)
        return self.checkout()

    def checkout(self) -> Any:
        raise NotImplementedError

    def release(self, connection: Any, *, broken: bool) -> None:
        raise NotImplementedError

    def hung_up(self, connection: Any) -> bool:
        return False

    def classify(self, error: BaseException) -> ErrorKind | None:
        """The retry class of a driver error, or None when it must be raised."""
        raise NotImplementedError
