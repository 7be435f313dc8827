"""``asyncpg`` adapter (async): ``AsyncpgConfig`` and its stores."""

from sqlspec_adk.adapters.asyncpg.config import AsyncpgConfig
from sqlspec_adk.adapters.asyncpg.store import AsyncpgADKArtifactStore, AsyncpgADKMemoryStore, AsyncpgADKStore

__all__ = ["AsyncpgADKArtifactStore", "AsyncpgADKMemoryStore", "AsyncpgADKStore", "AsyncpgConfig"]
