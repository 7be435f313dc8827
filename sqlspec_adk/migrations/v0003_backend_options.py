"""Schema version 3: per-backend options (issue 18). Taken; work in progress, not in ``runner.VERSIONS`` yet."""

from __future__ import annotations

__all__ = ["NAME", "VERSION"]

VERSION = 3
NAME = "backend_options"
