"""``mysql-connector-python`` stores: the sync store contracts bound to :class:`MysqlconnectorConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.mysqlconnector.config import MysqlconnectorConfig
from sqlspec_adk.artifact.store import BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseSyncADKStore

__all__ = ["MysqlconnectorADKArtifactStore", "MysqlconnectorADKMemoryStore", "MysqlconnectorADKStore"]


class MysqlconnectorADKStore(BaseSyncADKStore[MysqlconnectorConfig]):
    """Session store on mysql-connector-python (MySQL 8 / MariaDB)."""


class MysqlconnectorADKMemoryStore(BaseSyncADKMemoryStore[MysqlconnectorConfig]):
    """Memory store on mysql-connector-python (InnoDB FULLTEXT, with a fallback for short words and stopwords)."""


class MysqlconnectorADKArtifactStore(BaseSyncADKArtifactStore[MysqlconnectorConfig]):
    """Artifact metadata store on mysql-connector-python (MySQL 8 / MariaDB)."""
