"""``asyncmy`` connection glue: the driver's pool (the MySQL family's async base)."""

from __future__ import annotations

import asyncmy

from sqlspec_adk.adapters._mysql import AsyncPool, Cursor, MysqlAsyncConfig

__all__ = ["AsyncmyConfig"]


class AsyncmyConfig(MysqlAsyncConfig[asyncmy.Connection]):
    """Config for ``asyncmy``.

    ``connection_config`` takes ``asyncmy.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``database``, ...); ``pool_config`` goes
    to ``asyncmy.create_pool`` (``minsize``, ``maxsize``, ``pool_recycle``).
    """

    database_key = "database"

    async def create_pool(self) -> AsyncPool:
        pool: AsyncPool = await asyncmy.create_pool(**self.connect_kwargs, **self.pool_kwargs)
        return pool

    async def cursor(self, connection: asyncmy.Connection) -> Cursor:
        cursor: Cursor = connection.cursor()
        return cursor

    def in_transaction(self, connection: asyncmy.Connection) -> bool:
        return bool(connection.get_transaction_status())
