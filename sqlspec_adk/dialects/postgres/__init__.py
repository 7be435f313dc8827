"""PostgreSQL family: shared by the ``asyncpg``, ``psycopg`` (async and sync) and ``psqlpy`` adapters.

- State and event data are JSONB, bound and read as text
  (:mod:`~sqlspec_adk.dialects.postgres.jsonb`, which also makes NUL safe).
- Timestamps are DOUBLE PRECISION: the float ADK hands us comes back bit for bit.
- Nearly every operation is one statement (:mod:`.sessions`, :mod:`.memory`,
  :mod:`.artifacts`), marked ``alone``: PostgreSQL runs a lone statement in
  its own implicit transaction, so the engine sends it without BEGIN/COMMIT
  (:attr:`PostgresDialect.rules`: ``alone_autocommit``).
- Multi-statement reads get one snapshot (REPEATABLE READ, READ ONLY); writes
  run at the server default (READ COMMITTED), made exact by the atomic
  ``state || delta`` upserts and revision-checked updates.
- The schema is in :mod:`sqlspec_adk.migrations` (the migration runner takes
  ``pg_advisory_xact_lock`` for family ``postgresql``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.postgres.artifacts import PostgresArtifactSQL
from sqlspec_adk.dialects.postgres.core import PostgresCore, alone, counted, together
from sqlspec_adk.dialects.postgres.jsonb import JsonbCodec, from_jsonb_text, to_jsonb_text, tsquery_text
from sqlspec_adk.dialects.postgres.memory import PostgresMemorySQL
from sqlspec_adk.dialects.postgres.sessions import PostgresSessionSQL
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.protocol import Op, TransactionRules

__all__ = [
    "JsonbCodec",
    "PostgresArtifactSQL",
    "PostgresCore",
    "PostgresDialect",
    "PostgresMemorySQL",
    "PostgresSessionSQL",
    "alone",
    "counted",
    "together",
    "from_jsonb_text",
    "to_jsonb_text",
    "tsquery_text",
]


class PostgresDialect(PostgresCore, Dialect):
    """PostgreSQL: one-statement operations, atomic JSONB merges, tsvector search."""

    family: ClassVar[str] = "postgresql"
    db_system: ClassVar[str] = "postgresql"
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("BEGIN",),
        begin_read=("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",),
        alone_autocommit=True,
    )
    # A btree entry holds at most 2,704 bytes (BTMaxItemSize at 8 KiB pages), after compressing long
    # values; ids are counted uncompressed, less room for the tuple's and each column's header (at most
    # 8 + 5 x 4 bytes) and alignment, so no key of this size is refused, however random its text.
    key_limit: ClassVar[int | None] = 2640
    key_family: ClassVar[str] = "PostgreSQL"
    sessions_class: ClassVar[type[SessionSQL]] = PostgresSessionSQL
    memory_class: ClassVar[type[MemorySQL]] = PostgresMemorySQL
    artifacts_class: ClassVar[type[ArtifactSQL]] = PostgresArtifactSQL
    sessions: PostgresSessionSQL
    memory: PostgresMemorySQL
    artifacts: PostgresArtifactSQL

    def delete_session(self, *, app_name: str, user_id: str, session_id: str, owner: Any = None) -> Op[int]:
        """As every family's; with ``memory_follows_sessions`` the session and its memory in one transaction."""
        op = super().delete_session(app_name=app_name, user_id=user_id, session_id=session_id, owner=owner)
        return together(op) if self.adk.memory_follows_sessions else op
