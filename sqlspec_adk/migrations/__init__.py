"""Versioned schema: one module per version (immutable once released), the runner, files for other tools.

See :mod:`sqlspec_adk.migrations.runner` for how an upgrade runs on each family.
"""

from sqlspec_adk.migrations.runner import (
    LATEST_VERSION,
    VERSIONS,
    SchemaState,
    components,
    current_version,
    read_state,
    upgrade,
    upgrade_plan,
    upgrade_sync,
)
from sqlspec_adk.migrations.teardown import drop_tables

__all__ = [
    "LATEST_VERSION",
    "VERSIONS",
    "SchemaState",
    "components",
    "current_version",
    "drop_tables",
    "read_state",
    "upgrade",
    "upgrade_plan",
    "upgrade_sync",
]
