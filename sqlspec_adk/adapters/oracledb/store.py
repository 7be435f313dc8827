"""``oracledb`` stores: the async and sync store contracts bound to the Oracle configs."""

from __future__ import annotations

from sqlspec_adk.adapters.oracledb.config import OracledbAsyncConfig, OracledbSyncConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

__all__ = [
    "OracledbAsyncADKArtifactStore",
    "OracledbAsyncADKMemoryStore",
    "OracledbAsyncADKStore",
    "OracledbSyncADKArtifactStore",
    "OracledbSyncADKMemoryStore",
    "OracledbSyncADKStore",
]


class OracledbAsyncADKStore(BaseAsyncADKStore[OracledbAsyncConfig]):
    """Session store on python-oracledb's async thin driver."""


class OracledbAsyncADKMemoryStore(BaseAsyncADKMemoryStore[OracledbAsyncConfig]):
    """Memory store on python-oracledb (async); Oracle Text search."""


class OracledbAsyncADKArtifactStore(BaseAsyncADKArtifactStore[OracledbAsyncConfig]):
    """Artifact metadata store on python-oracledb (async)."""


class OracledbSyncADKStore(BaseSyncADKStore[OracledbSyncConfig]):
    """Session store on python-oracledb's sync thin driver."""


class OracledbSyncADKMemoryStore(BaseSyncADKMemoryStore[OracledbSyncConfig]):
    """Memory store on python-oracledb (sync); Oracle Text search."""


class OracledbSyncADKArtifactStore(BaseSyncADKArtifactStore[OracledbSyncConfig]):
    """Artifact metadata store on python-oracledb (sync)."""
