"""Schema version 4: lexical ranking (issues 15 and 16). Frozen once released.

- memory, PostgreSQL: the full-text index becomes ``(app_name, user_id,
  search_vector_<config>)``, so a search (which always names one app and user)
  reads only its own user's postings, and the per-token document counts the
  BM25 ranking takes from the index at query time (see
  :class:`~sqlspec_adk.dialects.postgres.memory.PostgresMemorySQL`) stay as
  cheap with a thousand users as with one. A GIN index over text columns needs
  the ``btree_gin`` extension (in PostgreSQL's contrib, trusted: a user with
  CREATE on the database may install it). The upgrade installs it if it can;
  if it cannot (no privilege, or not shipped), the version-1 index stays and
  search works the same, only reading other users' postings too. Where the new
  index is made the version-1 index is dropped: every search filters by app
  and user, and two GIN indexes cost every insert twice.

Nothing is backfilled: no statistics are stored, the index build covers the
rows already there, so an upgraded database ranks exactly as a new one. Every
other family and component has no statement here (SQLite and DuckDB rank with
their own bm25; MySQL/MariaDB weights by its FULLTEXT index's own frequencies;
CockroachDB has no ``btree_gin``).

Each statement is idempotent (``IF NOT EXISTS``; the extension and index
steps check the catalog first), so an upgrade killed half way completes on the
next run.
"""

from __future__ import annotations

from sqlspec_adk.dialects.base import Dialect

__all__ = ["NAME", "VERSION", "statements", "user_fts_index"]

VERSION = 4
NAME = "lexical_ranking"


def user_fts_index(dialect: Dialect) -> str:
    """The name (unquoted, not schema-qualified) of the ``(app_name, user_id, search_vector_<config>)`` index.

    The table name is cut so the whole suffix fits: a long name cut at the
    identifier limit must never make it the version-1 index's name.
    """
    suffix = f"fts_{dialect.adk.fts_config.lower()}_user_idx"
    return f"{dialect.adk.memory_table[: dialect.max_identifier - len(suffix) - 1]}_{suffix}"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 4's statements for one component of ``dialect``'s config, in order."""
    if dialect.family != "postgresql" or component != "memory" or not dialect.memory.memory_fts:
        return []
    adk = dialect.adk
    config = adk.fts_config.lower()
    column = dialect.quote(f"search_vector_{config}"[: dialect.max_identifier])
    table = dialect.memory_table
    schema = f"{dialect.quote(adk.schema)}." if adk.schema else ""
    old_index = schema + dialect.index_name(adk.memory_table, f"fts_{config}_idx")
    new_index = user_fts_index(dialect)
    # Identifiers are validated plain names ([A-Za-z0-9_]), safe inside these string literals.
    made = (
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        f"WHERE i.indrelid = to_regclass('{table}') AND c.relname = '{new_index}'"
    )
    return [
        # Not having the extension is not an error: the version-1 index keeps serving searches. The block
        # runs in its own subtransaction, so a refusal (no privilege, no control file, a concurrent install)
        # leaves the upgrade's transaction usable.
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN "
        "CREATE EXTENSION IF NOT EXISTS btree_gin; END IF; "
        "EXCEPTION WHEN OTHERS THEN RAISE NOTICE USING MESSAGE = 'sqlspec-adk: btree_gin not installed, memory "
        "search keeps the one-column full-text index: ' || SQLERRM; END $$",
        # The old index goes only once the new one is there, on this very table.
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN "
        f"CREATE INDEX IF NOT EXISTS {dialect.quote(new_index)} ON {table} "
        f"USING GIN (app_name, user_id, {column}) WITH (fastupdate = off); "
        f"IF EXISTS ({made}) THEN DROP INDEX IF EXISTS {old_index}; END IF; END IF; END $$",
    ]
