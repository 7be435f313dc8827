"""``mysql-connector-python`` connection glue: a small pool; transactions and retries come from the shared base."""

from __future__ import annotations

from typing import Any

import mysql.connector

from sqlspec_adk.adapters._mysql import MysqlSyncConfig

__all__ = ["MysqlconnectorConfig"]


class MysqlconnectorConfig(MysqlSyncConfig):
    """Config for ``mysql-connector-python`` (sync).

    ``connection_config`` takes ``mysql.connector.connect`` keywords
    (``host``, ``port``, ``user``, ``password``, ``database``, ...);
    ``pool_config={"max_size": n}`` bounds open connections (default 5).
    """

    database_key = "database"
    escape_percent = False  # the driver substitutes %s but leaves %% as is

    def connect(self) -> Any:
        return mysql.connector.connect(**self.connect_kwargs)

    def cursor(self, connection: Any) -> Any:
        return connection.cursor(buffered=True)
