"""sqlspec-adk: durable Google ADK sessions, memory and artifacts in the SQL database you run."""

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.errors import ArtifactIntegrityError, ConfigError, InvalidStateError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.service import SQLSpecSessionService
from sqlspec_adk.settings import ADKConfig

__all__ = [
    "ADKConfig",
    "ArtifactIntegrityError",
    "ConfigError",
    "InvalidStateError",
    "SQLSpecArtifactService",
    "SQLSpecMemoryService",
    "SQLSpecSessionService",
]
__version__ = "0.1.0"
