"""``psqlpy`` adapter (async): ``PsqlpyConfig`` and its stores."""

from sqlspec_adk.adapters.psqlpy.config import PsqlpyConfig
from sqlspec_adk.adapters.psqlpy.store import PsqlpyADKArtifactStore, PsqlpyADKMemoryStore, PsqlpyADKStore

__all__ = ["PsqlpyADKArtifactStore", "PsqlpyADKMemoryStore", "PsqlpyADKStore", "PsqlpyConfig"]
