"""``PyMySQL`` stores: the sync store contracts bound to :class:`PymysqlConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.pymysql.config import PymysqlConfig
from sqlspec_adk.artifact.store import BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseSyncADKStore

__all__ = ["PymysqlADKArtifactStore", "PymysqlADKMemoryStore", "PymysqlADKStore"]


class PymysqlADKStore(BaseSyncADKStore[PymysqlConfig]):
    """Session store on PyMySQL (MySQL 8 / MariaDB)."""


class PymysqlADKMemoryStore(BaseSyncADKMemoryStore[PymysqlConfig]):
    """Memory store on PyMySQL (InnoDB FULLTEXT, with a fallback for short words and stopwords)."""


class PymysqlADKArtifactStore(BaseSyncADKArtifactStore[PymysqlConfig]):
    """Artifact metadata store on PyMySQL (MySQL 8 / MariaDB)."""
