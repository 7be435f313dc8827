"""``asyncmy`` stores: the async store contracts bound to :class:`AsyncmyConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.asyncmy.config import AsyncmyConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["AsyncmyADKArtifactStore", "AsyncmyADKMemoryStore", "AsyncmyADKStore"]


class AsyncmyADKStore(BaseAsyncADKStore[AsyncmyConfig]):
    """Session store on asyncmy (MySQL 8 / MariaDB)."""


class AsyncmyADKMemoryStore(BaseAsyncADKMemoryStore[AsyncmyConfig]):
    """Memory store on asyncmy (InnoDB FULLTEXT, with a fallback for short words and stopwords)."""


class AsyncmyADKArtifactStore(BaseAsyncADKArtifactStore[AsyncmyConfig]):
    """Artifact metadata store on asyncmy (MySQL 8 / MariaDB)."""
