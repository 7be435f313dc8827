"""``aiosqlite`` adapter (async): ``AiosqliteConfig`` and its stores."""

from sqlspec_adk.adapters.aiosqlite.config import AiosqliteConfig
from sqlspec_adk.adapters.aiosqlite.store import AiosqliteADKArtifactStore, AiosqliteADKMemoryStore, AiosqliteADKStore

__all__ = ["AiosqliteADKArtifactStore", "AiosqliteADKMemoryStore", "AiosqliteADKStore", "AiosqliteConfig"]
