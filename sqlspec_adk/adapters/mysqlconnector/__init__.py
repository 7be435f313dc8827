"""``mysql-connector-python`` adapter (sync, MySQL 8 / MariaDB): ``MysqlconnectorConfig`` and its stores."""

from sqlspec_adk.adapters.mysqlconnector.config import MysqlconnectorConfig
from sqlspec_adk.adapters.mysqlconnector.store import (
    MysqlconnectorADKArtifactStore,
    MysqlconnectorADKMemoryStore,
    MysqlconnectorADKStore,
)

__all__ = [
    "MysqlconnectorADKArtifactStore",
    "MysqlconnectorADKMemoryStore",
    "MysqlconnectorADKStore",
    "MysqlconnectorConfig",
]
