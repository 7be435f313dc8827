"""Schema version 2: what 0.1.0's schema lacked for this release's features. Frozen once released.

- sessions: a ``compaction`` flag on events (true for an event that carries an
  ``EventCompaction``; backfilled from the stored event JSON), so ``get_session``
  can skip the raw events a compaction summarized without reading them all; an
  index for owner-scoped session lists when ``owner_id_column`` is set.
- memory: an ``embedding`` column (the entry's vector, portable storage: float32
  bytes, or the family's float array) for semantic and hybrid search; an index
  for deleting or listing one session's entries; an owner index.
- artifacts: the owner column (nullable: rows written before it have no owner)
  and its index, so owner-scoped artifact reads filter on it.

Every statement is idempotent (``IF NOT EXISTS``, or an "already exists" the
engine absorbs), so an upgrade killed half way completes on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp

from sqlspec_adk.dialects.base import Dialect

__all__ = ["NAME", "VERSION", "index_statement", "statements"]

VERSION = 2
NAME = "lookups_and_vectors"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 2's statements for one component of ``dialect``'s config, in order."""
    renderer = _RENDERERS[dialect.family](dialect)
    return list(getattr(renderer, component)())


def index_statement(dialect: Dialect, table: str, name: str, suffix: str, columns: str) -> str:
    """``CREATE INDEX`` of ``columns`` on ``table`` (named after ``name`` and ``suffix``), idempotent in the
    family's way: ``IF NOT EXISTS``, or (MySQL, Oracle) an "already exists" error the engine absorbs."""
    return _RENDERERS[dialect.family](dialect).index(table, name, suffix, columns)


class _Portable:
    """Families with ``ADD COLUMN IF NOT EXISTS`` and ``CREATE INDEX IF NOT EXISTS`` (PostgreSQL, DuckDB, ...)."""

    flag = "BOOLEAN NOT NULL DEFAULT FALSE"
    true = "TRUE"
    vector = "BYTEA"
    compaction_test = "(event_data->'actions'->'compaction') IS NOT NULL"
    partial_index = True
    #: Build the compaction index before the backfill fills its column (DuckDB cannot index a table its open
    #: transaction has updated: "Cannot create index with outstanding updates").
    index_before_backfill = False

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.a = dialect.adk
        self.owner = dialect.adk.owner_id_column

    def add_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}"

    def index(self, table: str, name: str, suffix: str, columns: str, where: str = "") -> str:
        condition = f" WHERE {where}" if where and self.partial_index else ""
        return f"CREATE INDEX IF NOT EXISTS {self.d.index_name(name, suffix)} ON {table} ({columns}){condition}"

    def compaction_index(self) -> str:
        """Finds a session's compaction events without reading its other events."""
        if self.partial_index:
            columns, where = "app_name, user_id, session_id, seq", "compaction"
        else:
            columns, where = "app_name, user_id, session_id, compaction, seq", ""
        return self.index(self.d.events_table, self.a.events_table, "compaction_idx", columns, where)

    def owner_type(self) -> str:
        """The owner column's type alone (no NOT NULL or references): rows written before it get none."""
        assert self.owner is not None
        parsed = sqlglot.parse_one(f"CREATE TABLE t ({self.owner.ddl})")
        kind = parsed.find(exp.ColumnDef)
        assert kind is not None and kind.args.get("kind") is not None
        return str(kind.args["kind"].sql(dialect=self.d.sqlglot_name))

    def sessions(self) -> Sequence[str]:
        d, a = self.d, self.a
        backfill = f"UPDATE {d.events_table} SET compaction = {self.true} WHERE {self.compaction_test}"
        index = self.compaction_index()
        steps = [index, backfill] if self.index_before_backfill else [backfill, index]
        found = [self.add_column(d.events_table, f"compaction {self.flag}"), *steps]
        if self.owner:
            columns = f"{self.owner.name}, app_name, user_id, update_time, id"
            found.append(self.index(d.session_table, a.session_table, "owner_idx", columns))
        return found

    def memory(self) -> Sequence[str]:
        d, a = self.d, self.a
        found = [
            self.add_column(d.memory_table, f"embedding {self.vector}"),
            self.index(d.memory_table, a.memory_table, "session_idx", "app_name, user_id, session_id"),
        ]
        if self.owner:
            found.append(
                self.index(d.memory_table, a.memory_table, "owner_idx", f"{self.owner.name}, app_name, user_id")
            )
        return found

    def artifacts(self) -> Sequence[str]:
        if not self.owner:
            return []
        d, a = self.d, self.a
        return [
            self.add_column(d.artifact_table, f"{self.owner.name} {self.owner_type()}"),
            self.index(d.artifact_table, a.artifact_table, "owner_idx", f"{self.owner.name}, app_name, user_id"),
        ]


class _Postgres(_Portable):
    vector = "REAL[]"


class _Duckdb(_Portable):
    flag = "BOOLEAN DEFAULT FALSE"  # DuckDB adds no column with a NOT NULL constraint
    vector = "FLOAT[]"
    compaction_test = "json_extract(event_data, '$.actions.compaction') IS NOT NULL"
    partial_index = False
    index_before_backfill = True


class _Sqlite(_Portable):
    flag = "INTEGER NOT NULL DEFAULT 0"
    true = "1"
    vector = "BLOB"
    compaction_test = "json_extract(event_data, '$.actions.compaction') IS NOT NULL"

    def add_column(self, table: str, column: str) -> str:
        # No IF NOT EXISTS on SQLite's ADD COLUMN: "duplicate column name" is absorbed as already done,
        # and a failed statement leaves SQLite's transaction open.
        return f"ALTER TABLE {table} ADD COLUMN {column}"


class _Mysql(_Portable):
    flag = "TINYINT NOT NULL DEFAULT 0"
    true = "1"
    vector = "LONGBLOB"
    compaction_test = "JSON_EXTRACT(event_data, '$.actions.compaction') IS NOT NULL"
    partial_index = False

    def add_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {table} ADD COLUMN {column}"  # 1060 (duplicate column) is "already done"

    def memory(self) -> Sequence[str]:
        # ADD COLUMN rebuilds the table and its FULLTEXT index under the session's stopword setting:
        # with the server default, "the" and "about" would no longer be found after the upgrade.
        return [
            "SET SESSION innodb_ft_enable_stopword = OFF",
            *super().memory(),
            "SET SESSION innodb_ft_enable_stopword = DEFAULT",
        ]

    def index(self, table: str, name: str, suffix: str, columns: str, where: str = "") -> str:
        return f"CREATE INDEX {self.d.index_name(name, suffix)} ON {table} ({columns})"  # 1061: already there


class _Oracle(_Portable):
    flag = "NUMBER(1) DEFAULT 0 NOT NULL"
    true = "1"
    vector = "BLOB"
    compaction_test = "JSON_EXISTS(event_data, '$.actions.compaction')"
    partial_index = False

    def add_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {table} ADD ({column})"  # ORA-01430 (column exists) is "already done"

    def index(self, table: str, name: str, suffix: str, columns: str, where: str = "") -> str:
        return f"CREATE INDEX {self.d.index_name(name, suffix)} ON {table} ({columns})"  # ORA-00955/01408


class _Spanner(_Portable):
    flag = "BOOL NOT NULL DEFAULT (FALSE)"
    vector = "ARRAY<FLOAT32>"
    compaction_test = "JSON_QUERY(event_data, '$.actions.compaction') IS NOT NULL"
    partial_index = False


_RENDERERS: dict[str, type[_Portable]] = {
    "sqlite": _Sqlite,
    "duckdb": _Duckdb,
    "postgresql": _Postgres,
    "cockroachdb": _Postgres,
    "mysql": _Mysql,
    "oracle": _Oracle,
    "spanner": _Spanner,
}
