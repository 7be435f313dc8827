"""Schema version 5: native vector search and the vector cache's revisions (issue 15). Placeholder, not registered yet."""

from __future__ import annotations

VERSION = 5
NAME = "vectors"
