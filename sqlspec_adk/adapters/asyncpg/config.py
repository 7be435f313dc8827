"""``asyncpg`` connection glue: an asyncpg pool, one pooled connection per operation.

The hung-up check (:func:`~sqlspec_adk.adapters._postgres.hung_up`) needs the
connection's socket, which asyncpg does not expose publicly (its termination
listener fires only once the event loop has read the server's goodbye, which
is what the check must not wait for). It is read through the private
``Connection._transport`` (present since asyncpg 0.10; tested with 0.32.0);
``tests/postgres/test_private_apis.py`` fails loudly if it goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from sqlspec_adk.adapters._postgres import ADMIN_SHUTDOWN, PostgresAsyncGlue, classify_sqlstate, hung_up
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Fetch, Stmt

__all__ = ["AsyncpgConfig"]


class AsyncpgConfig(PostgresAsyncGlue[PoolConnectionProxy]):
    """Config for ``asyncpg``.

    ``connection_config`` takes ``asyncpg.connect`` keywords (``dsn``, ``host``,
    ``password``, ``timeout``, ``command_timeout``, ``server_settings``, ...);
    ``pool_config`` takes ``asyncpg.create_pool`` sizing (``min_size`` default 1,
    ``max_size`` default 10, ``max_inactive_connection_lifetime``, ...).
    """

    _pool: Any = None
    _loop: asyncio.AbstractEventLoop | None = None
    _lock: asyncio.Lock | None = None

    async def pool(self) -> Any:
        """The ``asyncpg.Pool`` of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            if self._lock is None or self._loop is not loop:
                self._lock, self._loop, self._pool = asyncio.Lock(), loop, None
            async with self._lock:
                if self._pool is None:
                    # reset=_keep_session: the library leaves no session state behind (no SET,
                    # LISTEN, cursors or session advisory locks), so the default reset query on
                    # every release would be a second round trip per call for nothing; asyncpg
                    # still rolls back an open transaction before calling it.
                    options = {"min_size": 1, "max_size": 10, "reset": _keep_session, **self.pool_config}
                    self._pool = await asyncpg.create_pool(**self.connection_config, **options)
        return self._pool

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    # ------------------------------------------------------------ driver glue
    async def checkout(self) -> PoolConnectionProxy:
        return await (await self.pool()).acquire()

    def hung_up(self, connection: PoolConnectionProxy) -> bool:
        if connection.is_closed():
            return True
        sock = connection._transport.get_extra_info("socket")  # private: see the module docstring
        return sock is not None and hung_up(sock.fileno())

    async def release(self, connection: PoolConnectionProxy, discard: bool) -> None:
        pool = await self.pool()
        with contextlib.suppress(asyncpg.InterfaceError):  # asyncpg already let go of a lost connection
            if discard:
                connection.terminate()
            await pool.release(connection)

    async def refresh(self) -> None:
        await (await self.pool()).expire_connections()

    async def execute(self, connection: PoolConnectionProxy, stmt: Stmt) -> Any:
        sql = dollar(stmt.sql)
        if stmt.many:
            if stmt.fetch is Fetch.ROWCOUNT:
                return sum([_count(await connection.execute(sql, *row)) for row in stmt.params])
            await connection.executemany(sql, stmt.params)
            return None
        if stmt.fetch is Fetch.ONE:
            row = await connection.fetchrow(sql, *stmt.params)
            return tuple(row) if row is not None else None
        if stmt.fetch is Fetch.ALL:
            return [tuple(row) for row in await connection.fetch(sql, *stmt.params)]
        status = await connection.execute(sql, *stmt.params)
        return _count(status) if stmt.fetch is Fetch.ROWCOUNT else None

    async def command(self, connection: PoolConnectionProxy, sql: str) -> None:
        await connection.execute(sql)

    def in_transaction(self, connection: PoolConnectionProxy) -> bool:
        return bool(connection.is_in_transaction())

    def classify(self, error: BaseException) -> ErrorKind | None:
        if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
            return ErrorKind.UNSENT  # refused before anything was sent
        if isinstance(error, asyncpg.exceptions.InternalClientError) and "another operation" in str(error):
            return ErrorKind.UNSENT  # refused before sending: the server's goodbye is still being consumed
        if isinstance(error, OSError):
            return ErrorKind.LOST
        if ADMIN_SHUTDOWN in str(error):
            return ErrorKind.UNSENT  # asyncpg reports the server's 57P01 as a closed connection
        return classify_sqlstate(getattr(error, "sqlstate", None))


def _count(status: str) -> int:
    """Rows affected, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


async def _keep_session(connection: Any) -> None:
    """Pool reset that sends nothing (see :meth:`AsyncpgConfig.pool`)."""
