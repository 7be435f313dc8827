"""``aiomysql`` connection glue: the driver's pool (the MySQL family's async base)."""

from __future__ import annotations

import aiomysql

from sqlspec_adk.adapters._mysql import AsyncPool, Cursor, MysqlAsyncConfig

__all__ = ["AiomysqlConfig"]


class AiomysqlConfig(MysqlAsyncConfig[aiomysql.Connection]):
    """Config for ``aiomysql``.

    ``connection_config`` takes ``aiomysql.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``db``, ...); ``pool_config`` goes to
    ``aiomysql.create_pool`` (``minsize``, ``maxsize``, ``pool_recycle``).
    """

    database_key = "db"

    async def create_pool(self) -> AsyncPool:
        pool: AsyncPool = await aiomysql.create_pool(**self.connect_kwargs, **self.pool_kwargs)
        return pool

    async def cursor(self, connection: aiomysql.Connection) -> Cursor:
        cursor: Cursor = await connection.cursor()
        return cursor

    def in_transaction(self, connection: aiomysql.Connection) -> bool:
        return bool(connection.get_transaction_status())
