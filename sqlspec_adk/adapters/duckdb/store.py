"""``duckdb`` stores: the sync store contracts bound to :class:`DuckdbConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.duckdb.config import DuckdbConfig
from sqlspec_adk.artifact.store import BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseSyncADKStore

__all__ = ["DuckdbADKArtifactStore", "DuckdbADKMemoryStore", "DuckdbADKStore"]


class DuckdbADKStore(BaseSyncADKStore[DuckdbConfig]):
    """Session store on DuckDB."""


class DuckdbADKMemoryStore(BaseSyncADKMemoryStore[DuckdbConfig]):
    """Memory store on DuckDB (BM25 full-text search when the fts extension is installed)."""


class DuckdbADKArtifactStore(BaseSyncADKArtifactStore[DuckdbConfig]):
    """Artifact metadata store on DuckDB."""
