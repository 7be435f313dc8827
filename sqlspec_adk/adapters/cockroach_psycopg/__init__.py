"""CockroachDB over ``psycopg`` 3: async ``CockroachPsycopgConfig`` (alias ``CockroachPsycopgAsyncConfig``),
sync ``CockroachPsycopgSyncConfig``, and their stores."""

from sqlspec_adk.adapters.cockroach_psycopg.config import (
    CockroachPsycopgAsyncConfig,
    CockroachPsycopgConfig,
    CockroachPsycopgSyncConfig,
)
from sqlspec_adk.adapters.cockroach_psycopg.store import (
    CockroachPsycopgADKArtifactStore,
    CockroachPsycopgADKMemoryStore,
    CockroachPsycopgADKStore,
    CockroachPsycopgSyncADKArtifactStore,
    CockroachPsycopgSyncADKMemoryStore,
    CockroachPsycopgSyncADKStore,
)

__all__ = [
    "CockroachPsycopgADKArtifactStore",
    "CockroachPsycopgADKMemoryStore",
    "CockroachPsycopgADKStore",
    "CockroachPsycopgAsyncConfig",
    "CockroachPsycopgConfig",
    "CockroachPsycopgSyncADKArtifactStore",
    "CockroachPsycopgSyncADKMemoryStore",
    "CockroachPsycopgSyncADKStore",
    "CockroachPsycopgSyncConfig",
]
