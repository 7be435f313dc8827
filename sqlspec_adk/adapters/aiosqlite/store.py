"""``aiosqlite`` stores: the async store contracts bound to :class:`AiosqliteConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.aiosqlite.config import AiosqliteConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["AiosqliteADKArtifactStore", "AiosqliteADKMemoryStore", "AiosqliteADKStore"]


class AiosqliteADKStore(BaseAsyncADKStore[AiosqliteConfig]):
    """Session store on aiosqlite."""


class AiosqliteADKMemoryStore(BaseAsyncADKMemoryStore[AiosqliteConfig]):
    """Memory store on aiosqlite (FTS5 when available)."""


class AiosqliteADKArtifactStore(BaseAsyncADKArtifactStore[AiosqliteConfig]):
    """Artifact metadata store on aiosqlite."""
