"""``sqlite3`` stores: the sync store contracts bound to :class:`SqliteConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.sqlite.config import SqliteConfig
from sqlspec_adk.artifact.store import BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseSyncADKStore

__all__ = ["SqliteADKArtifactStore", "SqliteADKMemoryStore", "SqliteADKStore"]


class SqliteADKStore(BaseSyncADKStore[SqliteConfig]):
    """Session store on stdlib sqlite3."""


class SqliteADKMemoryStore(BaseSyncADKMemoryStore[SqliteConfig]):
    """Memory store on stdlib sqlite3 (FTS5 when available)."""


class SqliteADKArtifactStore(BaseSyncADKArtifactStore[SqliteConfig]):
    """Artifact metadata store on stdlib sqlite3."""
