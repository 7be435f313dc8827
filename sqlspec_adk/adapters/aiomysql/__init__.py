"""``aiomysql`` adapter (async, MySQL 8 / MariaDB): ``AiomysqlConfig`` and its stores."""

from sqlspec_adk.adapters.aiomysql.config import AiomysqlConfig
from sqlspec_adk.adapters.aiomysql.store import AiomysqlADKArtifactStore, AiomysqlADKMemoryStore, AiomysqlADKStore

__all__ = ["AiomysqlADKArtifactStore", "AiomysqlADKMemoryStore", "AiomysqlADKStore", "AiomysqlConfig"]
