"""Versioned schema: one module per version (immutable once released), the runner, and teardown."""

from sqlspec_adk.migrations.runner import LATEST_VERSION, current_version, render, upgrade
from sqlspec_adk.migrations.teardown import drop_tables

__all__ = ["LATEST_VERSION", "current_version", "drop_tables", "render", "upgrade"]
