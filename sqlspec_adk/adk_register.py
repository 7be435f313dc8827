"""Importing this module registers the ``sqlspec+<driver>://`` schemes with ADK's service registry.

The one-line ``services.py`` for an agents folder::

    import sqlspec_adk.adk_register  # noqa: F401
"""

from __future__ import annotations

from sqlspec_adk.adk_integration import register_schemes

__all__ = ["SCHEMES"]

#: The schemes registered on import.
SCHEMES: list[str] = register_schemes()
