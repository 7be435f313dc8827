"""Artifacts: the ADK artifact service, its metadata store contract and fsspec content storage."""

from sqlspec_adk.artifact.service import ArtifactVersionConflictError, SQLSpecArtifactService
from sqlspec_adk.artifact.storage import ArtifactStorage
from sqlspec_adk.artifact.store import (
    ArtifactKey,
    ArtifactRow,
    ArtifactStoreOps,
    ArtifactWrite,
    BaseAsyncADKArtifactStore,
    BaseSyncADKArtifactStore,
)

__all__ = [
    "ArtifactKey",
    "ArtifactRow",
    "ArtifactStorage",
    "ArtifactStoreOps",
    "ArtifactVersionConflictError",
    "ArtifactWrite",
    "BaseAsyncADKArtifactStore",
    "BaseSyncADKArtifactStore",
    "SQLSpecArtifactService",
]
