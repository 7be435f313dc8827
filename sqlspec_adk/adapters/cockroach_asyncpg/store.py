"""CockroachDB (``asyncpg``) stores: the async store contracts bound to :class:`CockroachAsyncpgConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.cockroach_asyncpg.config import CockroachAsyncpgConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["CockroachAsyncpgADKArtifactStore", "CockroachAsyncpgADKMemoryStore", "CockroachAsyncpgADKStore"]


class CockroachAsyncpgADKStore(BaseAsyncADKStore[CockroachAsyncpgConfig]):
    """Session store on CockroachDB (asyncpg)."""


class CockroachAsyncpgADKMemoryStore(BaseAsyncADKMemoryStore[CockroachAsyncpgConfig]):
    """Memory store on CockroachDB (asyncpg; tsvector full-text search)."""


class CockroachAsyncpgADKArtifactStore(BaseAsyncADKArtifactStore[CockroachAsyncpgConfig]):
    """Artifact metadata store on CockroachDB (asyncpg)."""
