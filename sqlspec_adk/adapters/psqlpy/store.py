"""``psqlpy`` stores: the async store contracts bound to :class:`PsqlpyConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.psqlpy.config import PsqlpyConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["PsqlpyADKArtifactStore", "PsqlpyADKMemoryStore", "PsqlpyADKStore"]


class PsqlpyADKStore(BaseAsyncADKStore[PsqlpyConfig]):
    """Session store on psqlpy."""


class PsqlpyADKMemoryStore(BaseAsyncADKMemoryStore[PsqlpyConfig]):
    """Memory store on psqlpy (tsvector full-text search)."""


class PsqlpyADKArtifactStore(BaseAsyncADKArtifactStore[PsqlpyConfig]):
    """Artifact metadata store on psqlpy."""
