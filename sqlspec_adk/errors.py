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
    "InputValidationError",
    "InvalidStateError",
    "SessionNotFoundError",
    "StaleSessionError",
]


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


class InvalidStateError(TypeError):
    """A state value cannot be stored as JSON; raised before anything is written."""


class ArtifactIntegrityError(RuntimeError):
    """Stored artifact content is missing or does not match its recorded checksum."""
