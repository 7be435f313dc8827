"""``aiomysql`` stores: the async store contracts bound to :class:`AiomysqlConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.aiomysql.config import AiomysqlConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["AiomysqlADKArtifactStore", "AiomysqlADKMemoryStore", "AiomysqlADKStore"]


class AiomysqlADKStore(BaseAsyncADKStore[AiomysqlConfig]):
    """Session store on aiomysql (MySQL 8 / MariaDB)."""


class AiomysqlADKMemoryStore(BaseAsyncADKMemoryStore[AiomysqlConfig]):
    """Memory store on aiomysql (InnoDB FULLTEXT, with a fallback for short words and stopwords)."""


class AiomysqlADKArtifactStore(BaseAsyncADKArtifactStore[AiomysqlConfig]):
    """Artifact metadata store on aiomysql (MySQL 8 / MariaDB)."""
