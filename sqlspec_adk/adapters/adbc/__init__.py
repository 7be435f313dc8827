"""``adbc`` adapter (sync): one config over the ADBC sqlite, postgresql and duckdb drivers."""

from sqlspec_adk.adapters.adbc.config import AdbcConfig
from sqlspec_adk.adapters.adbc.store import AdbcADKArtifactStore, AdbcADKMemoryStore, AdbcADKStore

__all__ = ["AdbcADKArtifactStore", "AdbcADKMemoryStore", "AdbcADKStore", "AdbcConfig"]
