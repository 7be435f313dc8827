"""``aiomysql`` connection glue: the driver's pool; transactions and retries come from the shared MySQL base."""

from __future__ import annotations

from typing import Any

import aiomysql

from sqlspec_adk.adapters._mysql import MysqlAsyncConfig

__all__ = ["AiomysqlConfig"]


class AiomysqlConfig(MysqlAsyncConfig):
    """Config for ``aiomysql``.

    ``connection_config`` takes ``aiomysql.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``db``, ...); ``pool_config`` goes to
    ``aiomysql.create_pool`` (``minsize``, ``maxsize``, ``pool_recycle``).
    """

    database_key = "db"

    async def create_pool(self) -> Any:
        return await aiomysql.create_pool(**self.connect_kwargs, **self.pool_kwargs)
