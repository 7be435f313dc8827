"""Schema version 4: lexical ranking (issues 15 and 16). Taken; work in progress, not in ``runner.VERSIONS`` yet."""

from __future__ import annotations

__all__ = ["NAME", "VERSION"]

VERSION = 4
NAME = "lexical_ranking"
