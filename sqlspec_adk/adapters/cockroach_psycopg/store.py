"""CockroachDB (``psycopg``) stores: the async and sync store contracts bound to the CockroachDB psycopg configs."""

from __future__ import annotations

from sqlspec_adk.adapters.cockroach_psycopg.config import CockroachPsycopgAsyncConfig, CockroachPsycopgSyncConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

__all__ = [
    "CockroachPsycopgADKArtifactStore",
    "CockroachPsycopgADKMemoryStore",
    "CockroachPsycopgADKStore",
    "CockroachPsycopgAsyncADKArtifactStore",
    "CockroachPsycopgAsyncADKMemoryStore",
    "CockroachPsycopgAsyncADKStore",
    "CockroachPsycopgSyncADKArtifactStore",
    "CockroachPsycopgSyncADKMemoryStore",
    "CockroachPsycopgSyncADKStore",
]


class CockroachPsycopgAsyncADKStore(BaseAsyncADKStore[CockroachPsycopgAsyncConfig]):
    """Session store on CockroachDB (psycopg, async)."""


class CockroachPsycopgAsyncADKMemoryStore(BaseAsyncADKMemoryStore[CockroachPsycopgAsyncConfig]):
    """Memory store on CockroachDB (psycopg, async)."""


class CockroachPsycopgAsyncADKArtifactStore(BaseAsyncADKArtifactStore[CockroachPsycopgAsyncConfig]):
    """Artifact metadata store on CockroachDB (psycopg, async)."""


class CockroachPsycopgSyncADKStore(BaseSyncADKStore[CockroachPsycopgSyncConfig]):
    """Session store on CockroachDB (psycopg, sync)."""


class CockroachPsycopgSyncADKMemoryStore(BaseSyncADKMemoryStore[CockroachPsycopgSyncConfig]):
    """Memory store on CockroachDB (psycopg, sync)."""


class CockroachPsycopgSyncADKArtifactStore(BaseSyncADKArtifactStore[CockroachPsycopgSyncConfig]):
    """Artifact metadata store on CockroachDB (psycopg, sync)."""


# The names sqlspec-adk 0.1.0 released for the async stores (the same classes), kept importable.
CockroachPsycopgADKStore = CockroachPsycopgAsyncADKStore
CockroachPsycopgADKMemoryStore = CockroachPsycopgAsyncADKMemoryStore
CockroachPsycopgADKArtifactStore = CockroachPsycopgAsyncADKArtifactStore
