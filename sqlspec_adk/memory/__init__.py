"""Memory: ``SQLSpecMemoryService``, the memory store bases, and ADK objects as rows."""

from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore, MemoryStoreBase

__all__ = ["BaseAsyncADKMemoryStore", "BaseSyncADKMemoryStore", "MemoryStoreBase", "SQLSpecMemoryService"]
