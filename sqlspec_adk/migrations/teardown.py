"""Dropping every table of a config: test teardown and ``sqlspec-adk`` cleanup, never an upgrade step."""

from __future__ import annotations

from typing import Any

import sqlspec_adk.migrations.v0007_fts_user_scope as v0007_fts_user_scope
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.protocol import Op, Stmt, operation

__all__ = ["drop_statements", "drop_tables"]


def drop_statements(dialect: Dialect) -> list[Stmt]:
    """DROP statements for every object of ``dialect``'s config, dependents first; each tolerates absence."""
    a, d = dialect.adk, dialect
    first: list[str] = []
    tables = [d.events_table, d.session_table, d.user_state_table, d.app_state_table]
    tables += [d.memory_table, d.artifact_table, d.metadata_table]
    if d.memory.revisions:
        tables.append(d.memory.revision_table)  # version 5's
    if d.family == "sqlite" and a.enable_memory:
        first = [f"DROP TABLE IF EXISTS {d.table(a.memory_table + suffix)}" for suffix in ("_fts", "_fts_vocab")]
        first.append(f"DROP VIEW IF EXISTS {d.quote(v0007_fts_user_scope.source_view(d))}")
        first.append(f"DROP TABLE IF EXISTS {d.quote(v0007_fts_user_scope.users_table(d))}")
    if d.family == "duckdb":
        fts_schema = d.quote(f"fts_{a.schema or 'main'}_{a.memory_table}")  # what PRAGMA create_fts_index fills
        first = [f"DROP SCHEMA IF EXISTS {fts_schema} CASCADE"]
    if d.family == "spanner":
        # Spanner refuses to drop an indexed table: indexes first.
        first = [f"DROP SEARCH INDEX IF EXISTS {d.index_name(a.memory_table, 'search_idx')}"]
        indexes = [(a.events_table, "id_uq"), (a.session_table, "list_idx")]
        indexes += [(a.memory_table, "event_uq"), (a.memory_table, "scope_idx")]
        # Version 2's (the owner indexes exist only with owner_id_column; IF EXISTS covers their absence).
        indexes += [(a.events_table, "compaction_idx"), (a.memory_table, "session_idx")]
        indexes += [(table, "owner_idx") for table in (a.session_table, a.memory_table, a.artifact_table)]
        indexes += [(a.session_table, "app_list_idx")]  # version 6's
        # Version 3's, with spanner_shard_count (whatever the config says now: it may have been set before).
        sharded = (a.session_table, a.events_table, a.memory_table, a.artifact_table)
        indexes += [(table, "shard_idx") for table in sharded]
        first += [f"DROP INDEX IF EXISTS {d.index_name(table, suffix)}" for table, suffix in indexes]
    if d.family == "oracle":
        return [Stmt(f"DROP TABLE {table} CASCADE CONSTRAINTS PURGE", exists_ok=True) for table in tables]
    return [Stmt(sql) for sql in [*first, *(f"DROP TABLE IF EXISTS {table}" for table in tables)]]


async def drop_tables(config: DatabaseConfig) -> None:
    """Drop every table of ``config`` (its pool stays open)."""

    def build() -> Op[Any]:
        for stmt in drop_statements(config.dialect):  # noqa: UP028 - a list iterator takes no send()
            yield stmt

    await config.arun(operation("drop_tables", build, write=True))
