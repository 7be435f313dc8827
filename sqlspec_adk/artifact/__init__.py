"""Artifacts: the ADK artifact service, its metadata store contract and fsspec content storage."""

from sqlspec_adk.artifact.service import ArtifactVersionConflictError, SQLSpecArtifactService
from sqlspec_adk.artifact.storage import ArtifactStorage
from sqlspec_adk.artifact.store import ArtifactStoreBase, BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore

__all__ = [
    "ArtifactStorage",
    "ArtifactStoreBase",
    "ArtifactVersionConflictError",
    "BaseAsyncADKArtifactStore",
    "BaseSyncADKArtifactStore",
    "SQLSpecArtifactService",
]
