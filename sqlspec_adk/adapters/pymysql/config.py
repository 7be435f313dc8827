"""``PyMySQL`` connection glue: a small pool of driver connections (the MySQL family's sync base)."""

from __future__ import annotations

import pymysql
from pymysql.constants import SERVER_STATUS

from sqlspec_adk.adapters._mysql import Cursor, MysqlSyncConfig

__all__ = ["PymysqlConfig"]


class PymysqlConfig(MysqlSyncConfig[pymysql.Connection]):
    """Config for ``PyMySQL`` (sync).

    ``connection_config`` takes ``pymysql.connect`` keywords (``host``,
    ``port``, ``user``, ``password``, ``database``, ...);
    ``pool_config={"max_size": n}`` bounds open connections (default 5).
    """

    database_key = "database"

    def connect(self) -> pymysql.Connection:
        return pymysql.connect(**self.connect_kwargs)

    def cursor(self, connection: pymysql.Connection) -> Cursor:
        cursor: Cursor = connection.cursor()
        return cursor

    def in_transaction(self, connection: pymysql.Connection) -> bool:
        # The status flags of the server's last reply (public: PyMySQL's own get_autocommit reads them too).
        return bool(connection.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)
