"""``duckdb`` adapter (sync, embedded): ``DuckdbConfig`` and its stores."""

from sqlspec_adk.adapters.duckdb.config import DuckdbConfig
from sqlspec_adk.adapters.duckdb.store import DuckdbADKArtifactStore, DuckdbADKMemoryStore, DuckdbADKStore

__all__ = ["DuckdbADKArtifactStore", "DuckdbADKMemoryStore", "DuckdbADKStore", "DuckdbConfig"]
