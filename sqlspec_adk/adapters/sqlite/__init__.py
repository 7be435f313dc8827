"""Stdlib ``sqlite3`` adapter (sync): ``SqliteConfig`` and its stores."""

from sqlspec_adk.adapters.sqlite.config import SqliteConfig
from sqlspec_adk.adapters.sqlite.store import SqliteADKArtifactStore, SqliteADKMemoryStore, SqliteADKStore

__all__ = ["SqliteADKArtifactStore", "SqliteADKMemoryStore", "SqliteADKStore", "SqliteConfig"]
