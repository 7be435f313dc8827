"""CockroachDB over ``asyncpg`` (async): ``CockroachAsyncpgConfig`` and its stores."""

from sqlspec_adk.adapters.cockroach_asyncpg.config import CockroachAsyncpgConfig
from sqlspec_adk.adapters.cockroach_asyncpg.store import (
    CockroachAsyncpgADKArtifactStore,
    CockroachAsyncpgADKMemoryStore,
    CockroachAsyncpgADKStore,
)

__all__ = [
    "CockroachAsyncpgADKArtifactStore",
    "CockroachAsyncpgADKMemoryStore",
    "CockroachAsyncpgADKStore",
    "CockroachAsyncpgConfig",
]
