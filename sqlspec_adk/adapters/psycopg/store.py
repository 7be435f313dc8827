"""``psycopg`` stores: the async and sync store contracts bound to the psycopg configs."""

from __future__ import annotations

from sqlspec_adk.adapters.psycopg.config import PsycopgAsyncConfig, PsycopgSyncConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

__all__ = [
    "PsycopgAsyncADKArtifactStore",
    "PsycopgAsyncADKMemoryStore",
    "PsycopgAsyncADKStore",
    "PsycopgSyncADKArtifactStore",
    "PsycopgSyncADKMemoryStore",
    "PsycopgSyncADKStore",
]


class PsycopgAsyncADKStore(BaseAsyncADKStore[PsycopgAsyncConfig]):
    """Session store on psycopg (async)."""


class PsycopgAsyncADKMemoryStore(BaseAsyncADKMemoryStore[PsycopgAsyncConfig]):
    """Memory store on psycopg (async; tsvector full-text search)."""


class PsycopgAsyncADKArtifactStore(BaseAsyncADKArtifactStore[PsycopgAsyncConfig]):
    """Artifact metadata store on psycopg (async)."""


class PsycopgSyncADKStore(BaseSyncADKStore[PsycopgSyncConfig]):
    """Session store on psycopg (sync)."""


class PsycopgSyncADKMemoryStore(BaseSyncADKMemoryStore[PsycopgSyncConfig]):
    """Memory store on psycopg (sync; tsvector full-text search)."""


class PsycopgSyncADKArtifactStore(BaseSyncADKArtifactStore[PsycopgSyncConfig]):
    """Artifact metadata store on psycopg (sync)."""
