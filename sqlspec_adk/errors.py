"""Errors raised by sqlspec-adk itself.

ADK's own errors (``StaleSessionError``, ``SessionNotFoundError``,
``AlreadyExistsError``) are re-exported here so callers can import every error
this library raises from one place.
"""

from __future__ import annotations

from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.input_validation_error import InputValidationError
from google.adk.errors.session_not_found_error import SessionNotFoundError

__all__ = [
    "AlreadyExistsError",
    "ArtifactIntegrityError",
    "ConfigError",
    "EmbedderMismatchError",
    "EmbeddingError",
    "EventConflictError",
    "InputValidationError",
    "InvalidStateError",
    "MigrationError",
    "SessionNotFoundError",
    "StaleSessionError",
]


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


class InvalidStateError(ValueError, TypeError):
    """A state value cannot be stored; raised before anything is written, naming the key.

    A ``ValueError`` (what the value is, not its type, is wrong: NaN, a non-string key, bytes that
    are not UTF-8 text) and, for code written against 0.1.0, still a ``TypeError``.
    """


class ArtifactIntegrityError(RuntimeError):
    """Stored artifact content is missing or does not match its recorded checksum."""


class EventConflictError(ValueError):
    """An event id the session already holds was appended again with different content; nothing was written."""


class MigrationError(RuntimeError):
    """The schema cannot be used or upgraded as it is; the message says what to run or install."""


class EmbeddingError(RuntimeError):
    """An embedder failed or returned something unusable; nothing was written.

    ``embedder`` is the embedder's name, ``reason`` what was wrong.
    """

    def __init__(self, embedder: str, reason: str) -> None:
        super().__init__(f"embedder {embedder!r}: {reason}")
        self.embedder = embedder
        self.reason = reason


class EmbedderMismatchError(ConfigError):
    """The memory table's vectors were made by another embedder than the one configured.

    ``recorded`` and ``configured`` are ``(name, dimensions)``. Vectors of two
    models cannot be compared, so a store refuses to search or write them
    mixed; ``sqlspec-adk memory reembed`` recomputes the stored vectors with the
    configured embedder and records it.
    """

    def __init__(self, recorded: tuple[str, int], configured: tuple[str, int], table: str) -> None:
        super().__init__(
            f"the vectors in memory table {table} were made by embedder {recorded[0]!r} ({recorded[1]} dimensions), "
            f"but this store is configured with {configured[0]!r} ({configured[1]} dimensions): run "
            "'sqlspec-adk memory reembed <database URI> --embedder <string form>' to recompute them with the "
            "configured embedder, or configure the recorded one"
        )
        self.recorded = recorded
        self.configured = configured
