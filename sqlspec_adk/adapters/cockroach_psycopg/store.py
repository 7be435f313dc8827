"""CockroachDB (``psycopg``) stores: the async and sync store contracts bound to the CockroachDB psycopg configs."""

from __future__ import annotations

from sqlspec_adk.adapters.cockroach_psycopg.config import CockroachPsycopgConfig, CockroachPsycopgSyncConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

__all__ = [
    "CockroachPsycopgADKArtifactStore",
    "CockroachPsycopgADKMemoryStore",
    "CockroachPsycopgADKStore",
    "CockroachPsycopgSyncADKArtifactStore",
    "CockroachPsycopgSyncADKMemoryStore",
    "CockroachPsycopgSyncADKStore",
]


class CockroachPsycopgADKStore(BaseAsyncADKStore[CockroachPsycopgConfig]):
    """Session store on CockroachDB (psycopg, async)."""


class CockroachPsycopgADKMemoryStore(BaseAsyncADKMemoryStore[CockroachPsycopgConfig]):
    """Memory store on CockroachDB (psycopg, async)."""


class CockroachPsycopgADKArtifactStore(BaseAsyncADKArtifactStore[CockroachPsycopgConfig]):
    """Artifact metadata store on CockroachDB (psycopg, async)."""


class CockroachPsycopgSyncADKStore(BaseSyncADKStore[CockroachPsycopgSyncConfig]):
    """Session store on CockroachDB (psycopg, sync)."""


class CockroachPsycopgSyncADKMemoryStore(BaseSyncADKMemoryStore[CockroachPsycopgSyncConfig]):
    """Memory store on CockroachDB (psycopg, sync)."""


class CockroachPsycopgSyncADKArtifactStore(BaseSyncADKArtifactStore[CockroachPsycopgSyncConfig]):
    """Artifact metadata store on CockroachDB (psycopg, sync)."""
