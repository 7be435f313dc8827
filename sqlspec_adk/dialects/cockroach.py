"""CockroachDB: the PostgreSQL dialect with CockroachDB's differences.

Shared by the ``cockroach_asyncpg`` and ``cockroach_psycopg`` adapters (the
PostgreSQL wire drivers). What changes:

- Transactions are SERIALIZABLE and the server may abort one with SQLSTATE
  40001 at any statement or at COMMIT; the engine runs the whole operation
  again (up to :attr:`CockroachDialect.rules` ``retry_attempts``, with
  jittered backoff). A lone statement is retried by the server itself where it
  can, and by the engine otherwise (a 40001 means nothing committed).
- Every transaction is a consistent snapshot, so reads begin ``READ ONLY``
  without an isolation level.
- No advisory locks (the migration runner takes one for family
  ``postgresql`` only): concurrent schema upgrades rely on the retries.
- Full-text search is PostgreSQL's: BM25 computed in SQL from frequencies
  counted in the index, no ``ts_rank_cd`` (which CockroachDB lacks); the
  tsvector index is CockroachDB's inverted index (migrations v1; version 4's
  ``(app_name, user_id, tsvector)`` index needs PostgreSQL's ``btree_gin`` and
  is not made here).
- Statements never modify the same table twice in one statement (CockroachDB
  refuses that), and the result of ``append_event`` does not depend on whether
  the final SELECT sees the CTEs' writes.

Never run against a real CockroachDB here: see docs/backends/cockroachdb.md.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.postgres import PostgresDialect, PostgresMemorySQL
from sqlspec_adk.protocol import Op, TransactionRules
from sqlspec_adk.vectors import floats_bytes

__all__ = ["CockroachDialect", "CockroachMemorySQL"]


class CockroachMemorySQL(PostgresMemorySQL):
    """The PostgreSQL memory SQL as is: its search ranks in SQL, with no function CockroachDB lacks.

    Vectors: ``real[]`` read as the driver's array (CockroachDB has no ``array_send``), ranked by the
    store (no pgvector; CockroachDB's own VECTOR type is not used).
    """

    vector_select = "embedding"

    def vector_value(self, value: Any) -> bytes | None:
        return None if value is None else floats_bytes(value)

    @cached_property
    def vector_index_dimensions(self) -> int | None:
        return None

    def vector_ranking_op(self) -> Op[str]:
        yield from ()
        return "cache"

    def vector_statements(self) -> list[str]:
        return MemorySQL.vector_statements(self)


class CockroachDialect(PostgresDialect):
    """CockroachDB: PostgreSQL's statements with CockroachDB's transactions."""

    family: ClassVar[str] = "cockroachdb"
    db_system: ClassVar[str] = "cockroachdb"
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("BEGIN",),
        begin_read=("BEGIN TRANSACTION READ ONLY",),
        alone_autocommit=True,
        retry_attempts=10,
    )
    memory_class: ClassVar[type[MemorySQL]] = CockroachMemorySQL
    memory: CockroachMemorySQL
    key_limit: ClassVar[int | None] = None  # no btree entry limit: keys are KV keys
