"""Schema version 5: what vector search needs beyond version 2's ``embedding`` column (issue 15). Frozen once released.

Memory component only:

- ``<memory_table>_rev`` (``app_name``, ``user_id``, ``revision``): one row
  per (app, user), bumped by every memory write in its transaction, and a
  ``vrev`` column on the memory table stamping each row with the revision that
  wrote it, with an ``(app_name, user_id, vrev)`` index. A store that ranks
  vectors itself keeps them in memory and reads only what changed since (see
  :mod:`sqlspec_adk.dialects.memory_vectors`). Not on DuckDB and Spanner,
  which rank in SQL.
- PostgreSQL with an embedder configured: the ``vector`` extension (pgvector)
  is installed if it can be (it is not an error if it cannot: search then
  ranks in the store), and where it is, an HNSW index over
  ``embedding::vector(<dimensions>)`` (cosine) for the configured embedder's
  dimensions, partial on ``array_length(embedding, 1)``. The dimensions are in
  the memory component's schema options, so configuring an embedder of
  another length builds its index on the next upgrade. Never run here (pgvector
  is not installable on these machines): checked by sqlglot and recorded
  statements only.
- Oracle 23ai: a ``VECTOR(*, FLOAT32)`` column ``embedding_vector`` (ranked in
  SQL with ``VECTOR_DISTANCE``); older servers keep the version-2 BLOB. Static
  checks only (no Oracle server here).

Nothing is backfilled: rows written before have no ``vrev`` and are read when
a store first loads a user's vectors; ``sqlspec-adk memory reembed`` computes
the vectors of rows that have none. Every statement is idempotent, so an
upgrade killed half way completes on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.migrations.v0001_initial import _MYSQL_COLLATION, _MYSQL_TABLE_OPTIONS

__all__ = ["NAME", "VERSION", "statements"]

VERSION = 5
NAME = "vectors"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 5's statements for one component of ``dialect``'s config, in order."""
    if component != "memory":
        return []
    renderer = _RENDERERS.get(dialect.family)
    return [] if renderer is None else list(renderer(dialect).memory())


class _Portable:
    """SQLite, PostgreSQL, CockroachDB: ``IF NOT EXISTS`` everywhere."""

    key, bigint = "TEXT", "BIGINT"

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.a = dialect.adk

    def revision_table(self) -> str:
        k = self.key
        return (
            f"CREATE TABLE IF NOT EXISTS {self.d.memory.revision_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n  revision {self.bigint} NOT NULL,\n"
            "  PRIMARY KEY (app_name, user_id)\n)"
        )

    def add_column(self) -> str:
        return f"ALTER TABLE {self.d.memory_table} ADD COLUMN IF NOT EXISTS vrev {self.bigint}"

    def index(self) -> str:
        name = self.d.index_name(self.a.memory_table, "vrev_idx")
        return f"CREATE INDEX IF NOT EXISTS {name} ON {self.d.memory_table} (app_name, user_id, vrev)"

    def memory(self) -> Sequence[str]:
        return [self.revision_table(), self.add_column(), self.index()]


class _Sqlite(_Portable):
    bigint = "INTEGER"

    def add_column(self) -> str:
        # No IF NOT EXISTS on SQLite's ADD COLUMN: "duplicate column name" is absorbed as already done.
        return f"ALTER TABLE {self.d.memory_table} ADD COLUMN vrev INTEGER"


class _Postgres(_Portable):
    def memory(self) -> Sequence[str]:
        found = list(super().memory())
        dimensions = self.d.memory.vector_index_dimensions
        if dimensions is None:
            return found
        table = self.d.memory_table
        index = self.d.quote(self.d.memory.vector_index_name(dimensions))
        vector = f"vector({dimensions})"
        return [
            *found,
            # Not having pgvector is not an error: the store ranks the vectors. The block runs in its own
            # subtransaction, so a refusal (no privilege, not installed) leaves the upgrade's transaction usable.
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN "
            "CREATE EXTENSION IF NOT EXISTS vector; END IF; "
            "EXCEPTION WHEN OTHERS THEN RAISE NOTICE USING MESSAGE = 'sqlspec-adk: pgvector not installed, "
            "memory search ranks vectors in the store: ' || SQLERRM; END $$",
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN "
            f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING hnsw ((embedding::{vector}) vector_cosine_ops) "
            f"WHERE array_length(embedding, 1) = {dimensions}; END IF; END $$",
        ]


class _Cockroach(_Portable):
    """No pgvector on CockroachDB: the revisions only."""


class _Mysql(_Portable):
    def revision_table(self) -> str:
        key = f"VARCHAR(%d) {_MYSQL_COLLATION} NOT NULL"
        return (
            f"CREATE TABLE IF NOT EXISTS {self.d.memory.revision_table} (\n"
            f"  app_name {key % 128},\n  user_id {key % 255},\n  revision BIGINT NOT NULL,\n"
            f"  PRIMARY KEY (app_name, user_id)\n) {_MYSQL_TABLE_OPTIONS}"
        )

    def add_column(self) -> str:
        return f"ALTER TABLE {self.d.memory_table} ADD COLUMN vrev BIGINT"  # 1060 (duplicate column): done

    def index(self) -> str:
        name = self.d.index_name(self.a.memory_table, "vrev_idx")
        return f"CREATE INDEX {name} ON {self.d.memory_table} (app_name, user_id, vrev)"  # 1061: done

    def memory(self) -> Sequence[str]:
        # ADD COLUMN rebuilds the table and its FULLTEXT index under the session's stopword setting (see v2).
        return [
            "SET SESSION innodb_ft_enable_stopword = OFF",
            *super().memory(),
            "SET SESSION innodb_ft_enable_stopword = DEFAULT",
        ]


class _Oracle(_Portable):
    key, bigint = "VARCHAR2(256 CHAR)", "NUMBER(19)"

    def revision_table(self) -> str:
        name = self.d.index_name(f"{self.a.memory_table}_rev", "pk")
        k = self.key
        return (
            f"CREATE TABLE {self.d.memory.revision_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n  revision {self.bigint} NOT NULL,\n"
            f"  CONSTRAINT {name} PRIMARY KEY (app_name, user_id)\n)"
        )  # ORA-00955 (name already used): done

    def add_column(self) -> str:
        return f"ALTER TABLE {self.d.memory_table} ADD (vrev {self.bigint})"  # ORA-01430: done

    def index(self) -> str:
        name = self.d.index_name(self.a.memory_table, "vrev_idx")
        return f"CREATE INDEX {name} ON {self.d.memory_table} (app_name, user_id, vrev)"  # ORA-00955/01408

    def memory(self) -> Sequence[str]:
        found = list(super().memory())
        if getattr(self.d.memory, "native_vector", False):
            found.append(f"ALTER TABLE {self.d.memory_table} ADD (embedding_vector VECTOR(*, FLOAT32))")
        return found


_RENDERERS: dict[str, type[_Portable]] = {
    "sqlite": _Sqlite,
    "postgresql": _Postgres,
    "cockroachdb": _Cockroach,
    "mysql": _Mysql,
    "oracle": _Oracle,
}
