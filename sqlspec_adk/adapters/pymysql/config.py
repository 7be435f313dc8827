"""``PyMySQL`` connection glue: a small pool; transactions and retries come from the shared MySQL base."""

from __future__ import annotations

from typing import Any

import pymysql

from sqlspec_adk.adapters._mysql import MysqlSyncConfig

__all__ = ["PymysqlConfig"]


class PymysqlConfig(MysqlSyncConfig):
    """Config for ``PyMySQL`` (sync).

    ``connection_config`` takes ``pymysql.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``database``, ...);
    ``pool_config={"max_size": n}`` bounds open connections (default 5).
    """

    database_key = "database"

    def connect(self) -> Any:
        return pymysql.connect(**self.connect_kwargs)
