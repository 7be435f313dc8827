"""``psycopg`` 3 adapter, async and sync: ``PsycopgAsyncConfig``, ``PsycopgSyncConfig`` and their stores."""

from sqlspec_adk.adapters.psycopg.config import PsycopgAsyncConfig, PsycopgSyncConfig
from sqlspec_adk.adapters.psycopg.store import (
    PsycopgAsyncADKArtifactStore,
    PsycopgAsyncADKMemoryStore,
    PsycopgAsyncADKStore,
    PsycopgSyncADKArtifactStore,
    PsycopgSyncADKMemoryStore,
    PsycopgSyncADKStore,
)

__all__ = [
    "PsycopgAsyncADKArtifactStore",
    "PsycopgAsyncADKMemoryStore",
    "PsycopgAsyncADKStore",
    "PsycopgAsyncConfig",
    "PsycopgSyncADKArtifactStore",
    "PsycopgSyncADKMemoryStore",
    "PsycopgSyncADKStore",
    "PsycopgSyncConfig",
]
