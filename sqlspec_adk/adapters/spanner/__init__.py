"""``spanner`` adapter (google-cloud-spanner's sync client, bridged to async): config and stores."""

from sqlspec_adk.adapters.spanner.config import SpannerConfig
from sqlspec_adk.adapters.spanner.store import SpannerADKArtifactStore, SpannerADKMemoryStore, SpannerADKStore

__all__ = ["SpannerADKArtifactStore", "SpannerADKMemoryStore", "SpannerADKStore", "SpannerConfig"]
