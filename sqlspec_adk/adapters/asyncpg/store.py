"""``asyncpg`` stores: the async store contracts bound to :class:`AsyncpgConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.asyncpg.config import AsyncpgConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["AsyncpgADKArtifactStore", "AsyncpgADKMemoryStore", "AsyncpgADKStore"]


class AsyncpgADKStore(BaseAsyncADKStore[AsyncpgConfig]):
    """Session store on asyncpg."""


class AsyncpgADKMemoryStore(BaseAsyncADKMemoryStore[AsyncpgConfig]):
    """Memory store on asyncpg (tsvector full-text search)."""


class AsyncpgADKArtifactStore(BaseAsyncADKArtifactStore[AsyncpgConfig]):
    """Artifact metadata store on asyncpg."""
