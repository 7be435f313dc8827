"""Migration runner: apply the versioned schema steps and record the version."""

from __future__ import annotations

import zlib

import sqlspec_adk.migrations.v0001_initial as v0001_initial
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.protocol import Fetch, Op, Stmt

__all__ = ["LATEST_VERSION", "current_version", "render", "upgrade"]

LATEST_VERSION = 1
VERSION_KEY = "schema_version"
#: Families whose DDL reports an existing object as an error rather than skipping it (no IF NOT EXISTS).
_PLAIN_DDL = frozenset({"oracle", "spanner"})


def components(dialect: Dialect) -> list[str]:
    """The components this config enables, metadata first."""
    enabled = {"sessions": dialect.adk.enable_sessions, "memory": dialect.adk.enable_memory}
    enabled["artifacts"] = dialect.adk.enable_artifacts
    return ["metadata", *(name for name, on in enabled.items() if on)]


def steps(dialect: Dialect) -> dict[int, list[str]]:
    """Version -> statements. Version 1 is the whole schema of this config's features."""
    return {1: [sql for component in components(dialect) for sql in v0001_initial.statements(dialect, component)]}


def _lock(dialect: Dialect) -> list[Stmt]:
    """Serialize concurrent upgrades where the family has a transaction-scoped lock (PostgreSQL)."""
    if dialect.family != "postgresql":
        return []
    key = zlib.crc32(f"sqlspec_adk:{dialect.adk.schema}:{dialect.adk.metadata_table}".encode()) & 0x7FFFFFFF
    # Fetch.NONE, as 0.1.0 sent it: the lock returns void, which some drivers cannot convert (psqlpy).
    return [Stmt(f"SELECT pg_advisory_xact_lock({key})")]


def _ddl(dialect: Dialect, sql: str) -> Stmt:
    return Stmt(sql, exists_ok=dialect.family in _PLAIN_DDL)


def current_version(dialect: Dialect) -> Op[int]:
    """The recorded schema version, 0 when nothing was ever applied."""
    for lock in _lock(dialect):  # noqa: UP028 - not ``yield from`` a list: a list iterator takes no send()
        yield lock
    for sql in v0001_initial.statements(dialect, "metadata"):
        yield _ddl(dialect, sql)
    row = yield Stmt(f"SELECT meta_value FROM {dialect.metadata_table} WHERE meta_key = ?", (VERSION_KEY,), Fetch.ONE)
    return int(row[0]) if row else 0


def upgrade(dialect: Dialect, target: int = LATEST_VERSION) -> Op[int]:
    """Apply every step above the recorded version up to ``target``; return the new version."""
    version = yield from current_version(dialect)
    all_steps = steps(dialect)
    for number in sorted(all_steps):
        if version < number <= target or number == 1:
            # Version 1 is idempotent, so re-running it also creates the tables of a
            # feature enabled after the first run.
            for sql in all_steps[number]:
                yield _ddl(dialect, sql)
    new_version = max(version, min(target, LATEST_VERSION))
    if new_version != version:
        if version == 0:
            yield Stmt(
                f"INSERT INTO {dialect.metadata_table} (meta_key, meta_value) VALUES (?, ?)",
                (VERSION_KEY, str(new_version)),
            )
        else:
            yield Stmt(
                f"UPDATE {dialect.metadata_table} SET meta_value = ? WHERE meta_key = ?",
                (str(new_version), VERSION_KEY),
            )
    return new_version


def render(dialect: Dialect) -> str:
    """The SQL of every step, for teams that apply schema with their own tools."""
    lines = []
    for number, statements in sorted(steps(dialect).items()):
        lines.append(f"-- sqlspec-adk schema version {number} ({dialect.sqlglot_name})")
        lines.extend(f"{sql};" for sql in statements)
    lines.append(
        f"INSERT INTO {dialect.metadata_table} (meta_key, meta_value) VALUES ('{VERSION_KEY}', '{LATEST_VERSION}');"
    )
    return "\n".join(lines) + "\n"
