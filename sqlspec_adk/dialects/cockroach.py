"""CockroachDB: the PostgreSQL dialect with CockroachDB's differences.

Shared by the ``cockroach_asyncpg`` and ``cockroach_psycopg`` adapters (the
PostgreSQL wire drivers). What changes:

- Transactions are SERIALIZABLE and the server may abort one with SQLSTATE
  40001 at any statement or at COMMIT; the plan retries the whole operation
  (bounded, with jittered backoff), replaying what already ran. A lone
  statement is retried by the server itself where it can, and by the plan
  otherwise (a 40001 means nothing committed).
- No advisory locks: concurrent schema upgrades rely on the retries instead.
- Full-text search ranks with ``ts_rank`` (CockroachDB has no ``ts_rank_cd``)
  and the tsvector index is CockroachDB's inverted index (``USING GIN``),
  without PostgreSQL's ``WITH (fastupdate = off)``.
- Statements never modify the same table twice in one statement (CockroachDB
  refuses that), and the result of ``append_event`` does not depend on whether
  the final SELECT sees the CTEs' writes.

Never run against a real CockroachDB here: see docs/backends/cockroachdb.md.
"""

from __future__ import annotations

from typing import ClassVar

from sqlspec_adk.dialects.postgres import PostgresDialect

__all__ = ["CockroachDialect"]


class CockroachDialect(PostgresDialect):
    """CockroachDB DDL, statements and retry policy."""

    serialization_attempts: ClassVar[int] = 10
    rank_function: ClassVar[str] = "ts_rank"
    fts_index_options: ClassVar[str] = ""  # an inverted index has no pending list (no fastupdate)

    def begin_sql(self, write: bool) -> str:
        # Every CockroachDB transaction is a consistent snapshot (SERIALIZABLE).
        return "BEGIN" if write else "BEGIN TRANSACTION READ ONLY"

    def lock_ddl(self) -> list[str]:
        return []
