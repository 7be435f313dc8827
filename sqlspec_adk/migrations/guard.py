"""The schema check a store runs before its first operation: refuse a database the code cannot use.

Once per config and component (sessions, memory, artifacts), read only:

- behind this code's version (or never migrated): refused with a
  :class:`~sqlspec_adk.errors.MigrationError` naming ``sqlspec-adk migrate
  upgrade``, unless ``create_tables`` is on (then the store upgrades it);
- ahead of this code's version (a newer sqlspec-adk migrated it): reads work,
  writes are refused;
- left out of the library's migrations (``include_<component>_migration``
  false): its tables must exist, whatever created them;
- at this version but made with other schema options than the config's (the
  owner column, full-text settings, per-backend options): a warning naming
  the options that differ and ``sqlspec-adk migrate upgrade``; the store runs
  on the schema as it is (applying options is an explicit upgrade, never a
  side effect of opening a store).

``create_tables()`` on a store upgrades and marks the check done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any

from sqlspec_adk.config import DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.migrations.runner import (
    LATEST_VERSION,
    Step,
    drive_async,
    drive_sync,
    options_signature,
    read_state_op,
    tables_exist_op,
    upgrade_plan,
)
from sqlspec_adk.protocol import operation

__all__ = ["ensure_schema", "ensure_schema_sync", "mark_current"]

OK, AHEAD = "ok", "ahead"

logger = logging.getLogger(__name__)

#: The tables each component keeps (besides the metadata table).
_TABLES = {
    "sessions": ("session_table", "events_table", "app_state_table", "user_state_table"),
    "memory": ("memory_table",),
    "artifacts": ("artifact_table",),
}


def mark_current(config: DatabaseConfig) -> None:
    """Record that ``config``'s database was just brought to this code's version."""
    for component in _TABLES:
        config.schema_checks[component] = OK


def _check(config: DatabaseConfig, component: str) -> Generator[Step, Any, str]:
    dialect, adk = config.dialect, config.adk
    if not getattr(adk, f"include_{component}_migration"):
        names = [getattr(adk, key) for key in _TABLES[component]]
        missing = yield operation("schema_check", lambda: tables_exist_op(dialect, names), write=False)
        if missing:
            raise MigrationError(
                f"table(s) {', '.join(missing)} of the sqlspec-adk {component} component are missing; "
                f"include_{component}_migration is false, so create them with your own migration tool "
                "('sqlspec-adk migrate generate' writes their DDL)"
            )
        return OK
    if config.database_missing():
        state_version = 0
    else:
        state = yield operation("schema_check", lambda: read_state_op(dialect), write=False)
        state_version = state.current([component]) if state.exists else 0
        if state_version == LATEST_VERSION:
            _warn_of_other_options(state.options.get(component), options_signature(dialect, component), component)
    if state_version > LATEST_VERSION:
        return AHEAD
    if state_version < LATEST_VERSION:
        if not adk.create_tables:
            raise MigrationError(
                f"the sqlspec-adk schema of this database ({component}) is at version {state_version}, "
                f"this sqlspec-adk needs version {LATEST_VERSION}: run 'sqlspec-adk migrate upgrade <database URI>' "
                "(or call create_tables() on a store, or set extension_config['adk']['create_tables'] = True)"
            )
        yield from upgrade_plan(dialect)
    return OK


def _warn_of_other_options(recorded: str | None, configured: str, component: str) -> None:
    if recorded is None or recorded == configured:
        return
    before, now = json.loads(recorded), json.loads(configured)
    differing = sorted(key for key in {*before, *now} if before.get(key) != now.get(key))
    logger.warning(
        "the sqlspec-adk %s schema of this database was made with other options than this config's (%s: "
        "recorded %s, configured %s); the store uses the schema as it is. To apply this config's options "
        "run 'sqlspec-adk migrate upgrade <database URI>' with them, or give the store the database's",
        component,
        ", ".join(differing),
        {key: before.get(key) for key in differing},
        {key: now.get(key) for key in differing},
    )


def _decided(config: DatabaseConfig, component: str, verdict: str, write: bool) -> None:
    config.schema_checks[component] = verdict
    if verdict == AHEAD and write:
        raise MigrationError(
            f"this database's sqlspec-adk schema ({component}) is newer than this sqlspec-adk knows "
            f"(version {LATEST_VERSION}); reads work, writes are refused: upgrade sqlspec-adk"
        )


async def ensure_schema(config: DatabaseConfig, component: str, *, write: bool) -> None:
    """Check ``component``'s schema once for ``config`` (see the module docstring); raise if it is unusable."""
    verdict = config.schema_checks.get(component)
    if verdict is None:
        verdict = await drive_async(config, _check(config, component))
    _decided(config, component, verdict, write)


def ensure_schema_sync(config: SyncDatabaseConfig[Any], component: str, *, write: bool) -> None:
    """:func:`ensure_schema` on the calling thread, for a sync config."""
    verdict = config.schema_checks.get(component)
    if verdict is None:
        verdict = drive_sync(config, _check(config, component))
    _decided(config, component, verdict, write)
