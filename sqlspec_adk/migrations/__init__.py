"""Versioned schema steps, recorded in the metadata table (minimal; see runner)."""

from __future__ import annotations

from sqlspec_adk.migrations.runner import LATEST_VERSION, current_version, render, upgrade

__all__ = ["LATEST_VERSION", "current_version", "render", "upgrade"]
