"""Memory: ``SQLSpecMemoryService``, the memory store bases, and text tokenization.

Names are imported on first use: the dialects import :mod:`sqlspec_adk.memory.text`
while the store and service import the dialects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlspec_adk.memory.service import SQLSpecMemoryService
    from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore, MemoryStoreOps

__all__ = ["BaseAsyncADKMemoryStore", "BaseSyncADKMemoryStore", "MemoryStoreOps", "SQLSpecMemoryService"]

_HOMES = {
    "SQLSpecMemoryService": "sqlspec_adk.memory.service",
    "BaseAsyncADKMemoryStore": "sqlspec_adk.memory.store",
    "BaseSyncADKMemoryStore": "sqlspec_adk.memory.store",
    "MemoryStoreOps": "sqlspec_adk.memory.store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
