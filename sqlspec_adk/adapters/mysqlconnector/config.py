"""``mysql-connector-python`` connection glue: a small pool of driver connections (the MySQL family's sync base)."""

from __future__ import annotations

import mysql.connector
from mysql.connector.abstracts import MySQLConnectionAbstract

from sqlspec_adk.adapters._mysql import Cursor, MysqlSyncConfig
from sqlspec_adk.errors import ConfigError

__all__ = ["MysqlconnectorConfig"]


class MysqlconnectorConfig(MysqlSyncConfig[MySQLConnectionAbstract]):
    """Config for ``mysql-connector-python`` (sync).

    ``connection_config`` takes ``mysql.connector.connect`` keywords
    (``host``, ``port``, ``user``, ``password``, ``database``, ...; not the
    driver's own pooling keywords); ``pool_config={"max_size": n}`` bounds
    open connections (default 5).
    """

    database_key = "database"
    escape_percent = False  # the driver substitutes %s but leaves %% as is

    def connect(self) -> MySQLConnectionAbstract:
        connection = mysql.connector.connect(**self.connect_kwargs)
        if not isinstance(connection, MySQLConnectionAbstract):  # pool_name / pool_size in connection_config
            connection.close()
            raise ConfigError("connection_config must not hold mysql-connector pooling keywords; use pool_config")
        return connection

    def cursor(self, connection: MySQLConnectionAbstract) -> Cursor:
        return connection.cursor(buffered=True)

    def in_transaction(self, connection: MySQLConnectionAbstract) -> bool:
        return connection.in_transaction
