"""``PyMySQL`` adapter (sync, MySQL 8 / MariaDB): ``PymysqlConfig`` and its stores."""

from sqlspec_adk.adapters.pymysql.config import PymysqlConfig
from sqlspec_adk.adapters.pymysql.store import PymysqlADKArtifactStore, PymysqlADKMemoryStore, PymysqlADKStore

__all__ = ["PymysqlADKArtifactStore", "PymysqlADKMemoryStore", "PymysqlADKStore", "PymysqlConfig"]
