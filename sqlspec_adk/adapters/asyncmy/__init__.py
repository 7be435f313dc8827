"""``asyncmy`` adapter (async, MySQL 8 / MariaDB): ``AsyncmyConfig`` and its stores."""

from sqlspec_adk.adapters.asyncmy.config import AsyncmyConfig
from sqlspec_adk.adapters.asyncmy.store import AsyncmyADKArtifactStore, AsyncmyADKMemoryStore, AsyncmyADKStore

__all__ = ["AsyncmyADKArtifactStore", "AsyncmyADKMemoryStore", "AsyncmyADKStore", "AsyncmyConfig"]
