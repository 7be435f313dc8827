"""``oracledb`` adapter (thin mode, async and sync): configs and stores."""

from sqlspec_adk.adapters.oracledb.config import OracledbAsyncConfig, OracledbSyncConfig
from sqlspec_adk.adapters.oracledb.store import (
    OracledbAsyncADKArtifactStore,
    OracledbAsyncADKMemoryStore,
    OracledbAsyncADKStore,
    OracledbSyncADKArtifactStore,
    OracledbSyncADKMemoryStore,
    OracledbSyncADKStore,
)

__all__ = [
    "OracledbAsyncADKArtifactStore",
    "OracledbAsyncADKMemoryStore",
    "OracledbAsyncADKStore",
    "OracledbAsyncConfig",
    "OracledbSyncADKArtifactStore",
    "OracledbSyncADKMemoryStore",
    "OracledbSyncADKStore",
    "OracledbSyncConfig",
]
