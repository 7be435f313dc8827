"""``spanner`` stores: the async store contracts bound to :class:`SpannerConfig`."""

from __future__ import annotations

from sqlspec_adk.adapters.spanner.config import SpannerConfig
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore
from sqlspec_adk.store import BaseAsyncADKStore

__all__ = ["SpannerADKArtifactStore", "SpannerADKMemoryStore", "SpannerADKStore"]


class SpannerADKStore(BaseAsyncADKStore[SpannerConfig]):
    """Session store on Cloud Spanner."""


class SpannerADKMemoryStore(BaseAsyncADKMemoryStore[SpannerConfig]):
    """Memory store on Cloud Spanner (search index with SEARCH and SCORE)."""


class SpannerADKArtifactStore(BaseAsyncADKArtifactStore[SpannerConfig]):
    """Artifact metadata store on Cloud Spanner."""
