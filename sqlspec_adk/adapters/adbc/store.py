"""``adbc`` stores: the sync store contracts bound to :class:`AdbcConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.adbc.config import AdbcConfig
from sqlspec_adk.artifact.store import BaseSyncADKArtifactStore
from sqlspec_adk.memory.store import BaseSyncADKMemoryStore
from sqlspec_adk.store import BaseSyncADKStore

__all__ = ["AdbcADKArtifactStore", "AdbcADKMemoryStore", "AdbcADKStore"]


class AdbcADKStore(BaseSyncADKStore[AdbcConfig]):
    """Session store over an ADBC driver."""


class AdbcADKMemoryStore(BaseSyncADKMemoryStore[AdbcConfig]):
    """Memory store over an ADBC driver (the driver family's full-text search)."""


class AdbcADKArtifactStore(BaseSyncADKArtifactStore[AdbcConfig]):
    """Artifact metadata store over an ADBC driver."""
