"""CockroachDB over ``psycopg`` 3: ``CockroachPsycopgAsyncConfig``, ``CockroachPsycopgSyncConfig`` and their stores.

``CockroachPsycopgConfig`` and ``CockroachPsycopgADKStore`` /
``CockroachPsycopgADKMemoryStore`` / ``CockroachPsycopgADKArtifactStore`` are
the names 0.1.0 released for the async config and stores: the same classes.
"""

from sqlspec_adk.adapters.cockroach_psycopg.config import (
    CockroachPsycopgAsyncConfig,
    CockroachPsycopgConfig,
    CockroachPsycopgSyncConfig,
)
from sqlspec_adk.adapters.cockroach_psycopg.store import (
    CockroachPsycopgADKArtifactStore,
    CockroachPsycopgADKMemoryStore,
    CockroachPsycopgADKStore,
    CockroachPsycopgAsyncADKArtifactStore,
    CockroachPsycopgAsyncADKMemoryStore,
    CockroachPsycopgAsyncADKStore,
    CockroachPsycopgSyncADKArtifactStore,
    CockroachPsycopgSyncADKMemoryStore,
    CockroachPsycopgSyncADKStore,
)

__all__ = [
    "CockroachPsycopgADKArtifactStore",
    "CockroachPsycopgADKMemoryStore",
    "CockroachPsycopgADKStore",
    "CockroachPsycopgAsyncADKArtifactStore",
    "CockroachPsycopgAsyncADKMemoryStore",
    "CockroachPsycopgAsyncADKStore",
    "CockroachPsycopgAsyncConfig",
    "CockroachPsycopgConfig",
    "CockroachPsycopgSyncADKArtifactStore",
    "CockroachPsycopgSyncADKMemoryStore",
    "CockroachPsycopgSyncADKStore",
    "CockroachPsycopgSyncConfig",
]
