"""``asyncmy`` connection glue: the driver's pool; transactions and retries come from the shared MySQL base."""

from __future__ import annotations

from typing import Any

import asyncmy

from sqlspec_adk.adapters._mysql import MysqlAsyncConfig

__all__ = ["AsyncmyConfig"]


class AsyncmyConfig(MysqlAsyncConfig):
    """Config for ``asyncmy``.

    ``connection_config`` takes ``asyncmy.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``database``, ...); ``pool_config`` goes
    to ``asyncmy.create_pool`` (``minsize``, ``maxsize``, ``pool_recycle``).
    """

    database_key = "database"

    async def create_pool(self) -> Any:
        return await asyncmy.create_pool(**self.connect_kwargs, **self.pool_kwargs)
