"""The migration runner: bring a database to the newest schema version, once, safely, on every family.

Each version module (``v0001_initial``, ``v0002_...``) gives its statements per
family and component (sessions, memory, artifacts; the metadata table comes
first). The metadata table records, per component, the version applied
(``schema_version:<component>``) and the options its DDL was rendered with
(``schema_options:<component>``: full-text search, ``fts_config``, the owner
column); ``schema_version`` keeps the lowest of them, as 0.1.0 recorded it. A
database made by 0.1.0 has only ``schema_version``: its components count as at
version 0, and version 1 runs again, as every 0.1.0 upgrade did (its
statements are idempotent and find their tables there).

An upgrade is a plan of operations (:func:`upgrade_plan`), driven on the
config sync or async (:func:`upgrade_sync`, :func:`upgrade`), so two processes
upgrading at the same moment serialize:

- SQLite, DuckDB, PostgreSQL, CockroachDB: one transaction (their DDL is
  transactional): all or nothing. PostgreSQL takes a transaction-scoped
  advisory lock first; SQLite's ``BEGIN IMMEDIATE`` and DuckDB's one writer
  serialize by themselves; CockroachDB retries its serialization conflicts.
- MySQL/MariaDB: DDL commits implicitly, so the steps commit one by one; a
  named lock (``GET_LOCK``) held by the upgrade's own connection serializes
  upgrades, and dies with the connection if the process is killed.
- Oracle, Spanner: DDL commits implicitly (Spanner: outside any transaction,
  through its schema API); a lease row in the metadata table serializes
  upgrades, taken over once it expires if its holder died.

Every statement is idempotent and each version is recorded right after its
statements, so an upgrade killed at any point completes on the next run. A
database recorded at a version newer than this code knows is refused, naming
both versions.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import zlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import Any, TypeVar

import sqlspec_adk.migrations.v0001_initial as v0001_initial
import sqlspec_adk.migrations.v0002_lookups_and_vectors as v0002_lookups_and_vectors
import sqlspec_adk.migrations.v0003_backend_options as v0003_backend_options
import sqlspec_adk.migrations.v0004_lexical_ranking as v0004_lexical_ranking
import sqlspec_adk.migrations.v0005_vectors as v0005_vectors
import sqlspec_adk.migrations.v0006_app_session_index as v0006_app_session_index
import sqlspec_adk.migrations.v0007_fts_user_scope as v0007_fts_user_scope
import sqlspec_adk.migrations.v0008_memory_write_indexes as v0008_memory_write_indexes
from sqlspec_adk.config import DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.engine.plans import drive_plan_async, drive_plan_sync
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt, operation
from sqlspec_adk.settings import ADKConfig

__all__ = [
    "COMPONENTS",
    "LATEST_VERSION",
    "VERSIONS",
    "SchemaState",
    "components",
    "current_version",
    "read_state",
    "read_state_op",
    "upgrade",
    "upgrade_plan",
    "transactional_ddl",
    "upgrade_sync",
]

T = TypeVar("T")

#: The released versions, oldest first. A new version is a new module appended here; a released one never changes.
VERSIONS: tuple[ModuleType, ...] = (
    v0001_initial,
    v0002_lookups_and_vectors,
    v0003_backend_options,
    v0004_lexical_ranking,
    v0005_vectors,
    v0006_app_session_index,
    v0007_fts_user_scope,
    v0008_memory_write_indexes,
)
LATEST_VERSION: int = VERSIONS[-1].VERSION
COMPONENTS = ("sessions", "memory", "artifacts")
VERSION_KEY = "schema_version"
LEASE_KEY = "migration_lease"
#: How long an Oracle or Spanner upgrade may hold its lease before another upgrade may take it over.
LEASE_SECONDS = 600.0
#: How long an upgrade waits for another one to finish before giving up.
WAIT_SECONDS = 900.0
_STRATEGY = {
    "sqlite": "transaction",
    "duckdb": "transaction",
    "postgresql": "transaction",
    "cockroachdb": "transaction",
    "mysql": "named_lock",
    "oracle": "lease",
    "spanner": "lease",
}

#: What the runner yields: an operation to run (its result is sent back), or seconds to sleep.
Step = Operation[Any] | float


def transactional_ddl(family: str) -> bool:
    """Whether an upgrade on ``family`` runs in one transaction (its DDL is transactional)."""
    return _STRATEGY[family] == "transaction"


def components(adk: ADKConfig, *, migrated_only: bool = True) -> list[str]:
    """The components this config enables (and, with ``migrated_only``, the library's migrations include)."""
    enabled = {
        "sessions": adk.enable_sessions and (adk.include_sessions_migration or not migrated_only),
        "memory": adk.enable_memory and (adk.include_memory_migration or not migrated_only),
        "artifacts": adk.enable_artifacts and (adk.include_artifacts_migration or not migrated_only),
    }
    return [name for name in COMPONENTS if enabled[name]]


def options_signature(dialect: Dialect, component: str) -> str:
    """The options a component's DDL depends on, as stable text: a change re-applies its versions."""
    adk = dialect.adk
    options: dict[str, Any] = {"owner": adk.owner_id_column.ddl if adk.owner_id_column else None}
    if component == "memory":
        options["fts"] = dialect.memory.memory_fts
        options["fts_config"] = adk.fts_config
        dimensions = dialect.memory.vector_index_dimensions
        if dimensions is not None:  # only where the vector index's DDL depends on it (PostgreSQL)
            options["vector_index"] = dimensions
    for version in VERSIONS:
        # A version whose DDL follows options of its own (schema_options(dialect, component): only those
        # not at their defaults, so a database on the defaults keeps its signature) adds them here.
        extra = getattr(version, "schema_options", None)
        if extra is not None:
            options.update(extra(dialect, component))
    return json.dumps(options, sort_keys=True)


def _version_statements(version: ModuleType, dialect: Dialect, component: str, recorded: str | None) -> list[str]:
    """A version's statements for one component. A version that must undo an option turned off defines
    ``statements_since(dialect, component, recorded)`` and gets the options recorded before (``{}``: none)."""
    since = getattr(version, "statements_since", None)
    if since is None:
        return list(version.statements(dialect, component))
    return list(since(dialect, component, json.loads(recorded) if recorded else {}))


@dataclass
class SchemaState:
    """What the metadata table records (read only)."""

    exists: bool = False
    versions: dict[str, int] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    legacy: int = 0
    lease: str | None = None

    def version(self, component: str) -> int:
        """The component's recorded version; 0 when none is (a database made by 0.1.0 records none)."""
        return self.versions.get(component, 0)

    def current(self, names: Sequence[str]) -> int:
        """The version every one of ``names`` has reached (0 when nothing was ever applied)."""
        if not self.exists:
            return 0
        if not names:
            return self.legacy
        return min(self.versions.get(name, self.legacy if self.versions == {} and self.legacy else 0) for name in names)

    def newest(self) -> int:
        return max([self.legacy, *self.versions.values()])


def _parse_state(rows: Sequence[Sequence[Any]]) -> SchemaState:
    state = SchemaState(exists=True)
    for key, value in rows:
        key, value = str(key), str(value)
        if key == VERSION_KEY:
            state.legacy = int(value)
        elif key.startswith(VERSION_KEY + ":"):
            state.versions[key.split(":", 1)[1]] = int(value)
        elif key.startswith("schema_options:"):
            state.options[key.split(":", 1)[1]] = value
        elif key == LEASE_KEY:
            state.lease = value
    return state


def _table_exists_stmt(dialect: Dialect, name: str) -> Stmt:
    """A read-only catalog query counting tables called ``name`` (unquoted) in the config's schema."""
    schema = dialect.adk.schema
    family = dialect.family
    if family == "sqlite":
        return Stmt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,), Fetch.ONE)
    if family == "oracle":
        owner = "?" if schema else "SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')"
        params = (schema.upper(), name.upper()) if schema else (name.upper(),)
        return Stmt(f"SELECT COUNT(*) FROM all_tables WHERE owner = {owner} AND table_name = ?", params, Fetch.ONE)
    if family == "spanner":
        sql = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '' AND table_name = ?"
        return Stmt(sql, (name,), Fetch.ONE)
    current = {"mysql": "DATABASE()"}.get(family, "current_schema()")
    where = "table_schema = ?" if schema else f"table_schema = {current}"
    sql = f"SELECT COUNT(*) FROM information_schema.tables WHERE {where} AND table_name = ?"
    return Stmt(sql, (schema, name) if schema else (name,), Fetch.ONE)


def _read_recorded(dialect: Dialect) -> Op[SchemaState]:
    rows = yield Stmt(f"SELECT meta_key, meta_value FROM {dialect.metadata_table}", (), Fetch.ALL)
    return _parse_state(rows)


def read_state_op(dialect: Dialect) -> Op[SchemaState]:
    """The recorded schema state, read only: no DDL, no write (0 when the metadata table does not exist)."""
    row = yield _table_exists_stmt(dialect, dialect.adk.metadata_table)
    if not row or not int(row[0]):
        return SchemaState()
    return (yield from _read_recorded(dialect))


def tables_exist_op(dialect: Dialect, names: Sequence[str]) -> Op[list[str]]:
    """Which of the (unquoted) table ``names`` are missing, read only."""
    missing = []
    for name in names:
        row = yield _table_exists_stmt(dialect, name)
        if not row or not int(row[0]):
            missing.append(name)
    return missing


def _record(dialect: Dialect, key: str, value: str) -> Op[None]:
    """Set one metadata row (an UPDATE, then a skip-if-present INSERT when there was none)."""
    sessions = dialect.sessions
    changed = yield Stmt(
        f"UPDATE {dialect.metadata_table} SET meta_value = ? WHERE meta_key = ?", (value, key), Fetch.ROWCOUNT
    )
    if not changed:
        sql = sessions.insert_skip_sql(dialect.metadata_table, ("meta_key", "meta_value"), ("?", "?"), ("meta_key",))
        yield sessions.insert_skip(sql, (key, value))


def _check_not_newer(state: SchemaState) -> None:
    newest = state.newest()
    if newest > LATEST_VERSION:
        raise MigrationError(
            f"the database's sqlspec-adk schema is at version {newest}, newer than this sqlspec-adk knows "
            f"(version {LATEST_VERSION}): upgrade sqlspec-adk instead of migrating"
        )


@dataclass(frozen=True)
class _Pending:
    component: str
    version: ModuleType
    statements: tuple[str, ...]


def _pending(dialect: Dialect, state: SchemaState, target: int) -> tuple[list[_Pending], dict[str, str]]:
    """The (component, version) steps still to apply, in order, and the option signatures to record."""
    steps: list[_Pending] = []
    signatures: dict[str, str] = {}
    for component in components(dialect.adk):
        have = state.version(component)
        signature = options_signature(dialect, component)
        reapply = state.options.get(component) != signature
        for version in VERSIONS:
            if target >= version.VERSION and (have < version.VERSION or reapply):
                found = _version_statements(version, dialect, component, state.options.get(component))
                steps.append(_Pending(component, version, tuple(found)))
        signatures[component] = signature
    return steps, signatures


def _metadata_statements(dialect: Dialect) -> Op[None]:
    for sql in v0001_initial.statements(dialect, "metadata"):
        yield Stmt(sql, exists_ok=True)


def _whole_upgrade(dialect: Dialect, target: int, lock: Sequence[Stmt], unlock: Sequence[Stmt]) -> Op[int]:
    """Every pending step in one operation (one transaction where the family's DDL is transactional)."""
    for stmt in lock:
        row = yield stmt
        if row is not None and row[0] is not None and not int(row[0]):
            raise MigrationError("another sqlspec-adk upgrade held the schema lock for too long; try again")
    yield from _metadata_statements(dialect)
    state = yield from _read_recorded(dialect)
    _check_not_newer(state)
    steps, signatures = _pending(dialect, state, target)
    for step in steps:
        for sql in step.statements:
            yield Stmt(sql, exists_ok=True)
        yield from _record(dialect, f"{VERSION_KEY}:{step.component}", str(step.version.VERSION))
        state.versions[step.component] = max(state.version(step.component), step.version.VERSION)
    for component, signature in signatures.items():
        if state.options.get(component) != signature:
            yield from _record(dialect, f"schema_options:{component}", signature)
    reached = state.current(components(dialect.adk))
    if reached != state.legacy:
        yield from _record(dialect, VERSION_KEY, str(reached))
    for stmt in unlock:
        yield stmt
    return reached


def _advisory_key(dialect: Dialect) -> int:
    return zlib.crc32(f"sqlspec_adk:{dialect.adk.schema}:{dialect.adk.metadata_table}".encode()) & 0x7FFFFFFF


def upgrade_plan(dialect: Dialect, target: int | None = None) -> Generator[Step, Any, int]:
    """The upgrade as a plan of operations (see the module docstring); returns the version reached."""
    goal = LATEST_VERSION if target is None else target
    strategy = _STRATEGY[dialect.family]
    if strategy == "transaction":
        lock = []
        if dialect.family == "postgresql":
            # Fetch.NONE: the lock returns void, which psycopg reads as '' and psqlpy cannot convert at all.
            lock = [Stmt(f"SELECT pg_advisory_xact_lock({_advisory_key(dialect)})")]
        reached: int = yield operation("migrate", lambda: _whole_upgrade(dialect, goal, lock, ()), write=True)
        return reached
    if strategy == "named_lock":
        name = f"sqlspec_adk:{dialect.adk.schema or ''}:{dialect.adk.metadata_table}"[:64]
        lock = [Stmt("SELECT GET_LOCK(?, ?)", (name, int(WAIT_SECONDS)), Fetch.ONE)]
        unlock = [Stmt("SELECT RELEASE_LOCK(?)", (name,), Fetch.ONE)]
        # The connection is closed afterwards: the named lock (and any session setting a step made) dies with it.
        reached = yield operation(
            "migrate", lambda: _whole_upgrade(dialect, goal, lock, unlock), write=True, own_connection=True
        )
        return reached
    return (yield from _leased_upgrade(dialect, goal))


def _leased_upgrade(dialect: Dialect, target: int) -> Generator[Step, Any, int]:
    """Oracle and Spanner: a lease row serializes upgrades; each statement runs (and commits) on its own."""
    yield operation("migrate_metadata", lambda: _metadata_statements(dialect), write=True)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + WAIT_SECONDS
    while not (yield operation("migrate_lease", lambda: _take_lease(dialect, token, time.time()), write=True)):
        if time.monotonic() > deadline:
            raise MigrationError(f"another sqlspec-adk upgrade held the migration lease for over {WAIT_SECONDS:.0f} s")
        yield 0.5
    try:
        state: SchemaState = yield operation("migrate_state", lambda: _read_recorded(dialect), write=False)
        _check_not_newer(state)
        steps, signatures = _pending(dialect, state, target)
        for step in steps:
            for sql in step.statements:
                yield operation("migrate_step", partial(_one, Stmt(sql, exists_ok=True)), write=True)
            key, value = f"{VERSION_KEY}:{step.component}", str(step.version.VERSION)
            yield operation("migrate_record", partial(_record, dialect, key, value), write=True)
            state.versions[step.component] = max(state.version(step.component), step.version.VERSION)
        for component, signature in signatures.items():
            if state.options.get(component) != signature:
                key, value = f"schema_options:{component}", signature
                yield operation("migrate_record", partial(_record, dialect, key, value), write=True)
        reached = state.current(components(dialect.adk))
        if reached != state.legacy:
            yield operation("migrate_record", lambda: _record(dialect, VERSION_KEY, str(reached)), write=True)
        return reached
    finally:
        yield operation("migrate_lease", lambda: _give_lease(dialect, token), write=True)


def _one(stmt: Stmt) -> Op[None]:
    yield stmt


def _take_lease(dialect: Dialect, token: str, now: float) -> Op[bool]:
    """Hold the lease if nobody does, or if its holder let it expire (a killed upgrade)."""
    row = yield Stmt(f"SELECT meta_value FROM {dialect.metadata_table} WHERE meta_key = ?", (LEASE_KEY,), Fetch.ONE)
    value = f"{token} {now + LEASE_SECONDS:.3f}"
    if row is None:
        sql = dialect.sessions.insert_skip_sql(
            dialect.metadata_table, ("meta_key", "meta_value"), ("?", "?"), ("meta_key",)
        )
        inserted = yield dialect.sessions.insert_skip(sql, (LEASE_KEY, value))
        return bool(inserted)
    holder, _, expires = str(row[0]).partition(" ")
    if holder != token and float(expires or 0) > now:
        return False
    changed = yield Stmt(
        f"UPDATE {dialect.metadata_table} SET meta_value = ? WHERE meta_key = ? AND meta_value = ?",
        (value, LEASE_KEY, str(row[0])),
        Fetch.ROWCOUNT,
    )
    return bool(changed)


def _give_lease(dialect: Dialect, token: str) -> Op[None]:
    yield Stmt(
        f"DELETE FROM {dialect.metadata_table} WHERE meta_key = ? AND meta_value LIKE ?", (LEASE_KEY, f"{token} %")
    )


def drive_sync(config: SyncDatabaseConfig[Any], plan: Generator[Step, Any, T]) -> T:
    """Run a migration plan on the calling thread."""

    def take(step: Step) -> Any:
        if isinstance(step, Operation):
            return config.run(step)
        time.sleep(step)
        return None

    return drive_plan_sync(plan, take)


async def drive_async(config: DatabaseConfig, plan: Generator[Step, Any, T]) -> T:
    """Run a migration plan from async code (a sync config's operations run on worker threads)."""

    async def take(step: Step) -> Any:
        if isinstance(step, Operation):
            return await config.arun(step)
        await asyncio.sleep(step)
        return None

    return await drive_plan_async(plan, take)


async def upgrade(config: DatabaseConfig, target: int | None = None) -> int:
    """Bring ``config``'s database to ``target`` (default: the newest version); returns the version reached."""
    return await drive_async(config, upgrade_plan(config.dialect, target))


def upgrade_sync(config: SyncDatabaseConfig[Any], target: int | None = None) -> int:
    """:func:`upgrade` on the calling thread, for a sync config."""
    return drive_sync(config, upgrade_plan(config.dialect, target))


async def read_state(config: DatabaseConfig) -> SchemaState:
    """The recorded schema state, read only (nothing is created: not even the metadata table)."""
    if config.database_missing():
        return SchemaState()
    return await config.arun(operation("schema_state", lambda: read_state_op(config.dialect), write=False))


async def current_version(config: DatabaseConfig) -> int:
    """The version every migrated component of ``config`` has reached; 0 when nothing was ever applied."""
    return (await read_state(config)).current(components(config.adk))
