"""SQLite family: shared by the ``sqlite`` (sync), ``aiosqlite`` and ADBC SQLite adapters.

- Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken
  before the stale check, so two writers are serialized and the
  read-merge-write of app/user state cannot lose an update.
- Timestamps are REAL (IEEE double), so the float ADK hands us comes back bit
  for bit and a fresh session never looks stale.
- Memory search is FTS5 with bm25, minus the query's everyday words: a token
  held by more than ``prune_fraction`` (5%) of the entries, and by more than
  ``prune_min_docs`` (1,000) of them, is left out of the ``MATCH`` (see
  :func:`~sqlspec_adk.dialects.memory.prune_common_tokens`), because bm25
  scores every row any token matches. Document frequencies come from an
  ``fts5vocab`` table read inside the search statement itself (one statement).
  The index holds each entry's (app, user) key in a second column (schema
  version 7) and the match includes it, so a search reads one user's postings.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import MEMORY_COLUMNS, MemorySQL
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations.v0007_fts_user_scope import scope_key_sql
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import MemoryRecord
from sqlspec_adk.settings import ADKConfig

__all__ = ["SqliteDialect"]


class SqliteCore(DialectCore):
    sqlglot_name: ClassVar[str] = "sqlite"


class SqliteSessionSQL(SqliteCore, SessionSQL):
    """The portable session SQL: ``BEGIN IMMEDIATE`` makes its read-merge-write exact."""


class SqliteArtifactSQL(SqliteCore, ArtifactSQL):
    """The portable artifact SQL."""


class SqliteMemorySQL(SqliteCore, MemorySQL):
    """FTS5 search over an external-content index of the memory table (see migrations v1).

    External content addresses rows by integer rowid, and only an ``INTEGER
    PRIMARY KEY`` keeps rowids stable across VACUUM, so the memory row key is
    one here (assigned by SQLite).
    """

    has_fts: ClassVar[bool] = True

    def row_id(self, app_name: str, user_id: str, event_id: str) -> Any:
        return None

    @cached_property
    def fts_table(self) -> str:
        """Quoted name of the FTS5 index of the memory table."""
        return self.table(f"{self.adk.memory_table}_fts")

    @cached_property
    def vocab_table(self) -> str:
        """Quoted name of the ``fts5vocab`` row table over the FTS5 index (document frequency per token)."""
        return self.table(f"{self.adk.memory_table}_fts_vocab")

    @staticmethod
    def match_sql(terms: str) -> str:
        """The ``MATCH`` argument for ``terms`` (SQL for the ``OR`` of the terms' quoted phrases, NULL when
        there is none) inside one (app, user): its two placeholders, ahead of any in ``terms``, bind the key.

        The key's token is matched with the terms (version 7's index), so FTS5 visits this user's entries
        only. No term at all gives ``""``, which matches nothing.
        """
        key = scope_key_sql("?", "?")
        return (
            f"(SELECT CASE WHEN t IS NULL THEN '\"\"' ELSE '\"' || {key} || '\" AND (' || t || ')' END "
            f"FROM (SELECT {terms} AS t))"
        )

    def _fts_search_sql(self, terms: str, owner: Any) -> str:
        # The scope filter on the joined row stays: it also checks the owner, and costs one lookup per
        # entry the index found. The key's column weighs 0 in bm25, so only the search text ranks.
        columns = ", ".join(f"m.{column}" for column in MEMORY_COLUMNS)
        fts = self.fts_table
        return (
            f"SELECT {columns} FROM {fts} JOIN {self.memory_table} m ON m.id = {fts}.rowid "
            f"WHERE {fts} MATCH {self.match_sql(terms)} AND {self.scope_sql(owner, 'm')} "
            f"AND m.content_json IS NOT NULL ORDER BY bm25({fts}, 1.0, 0.0), m.timestamp DESC, m.id LIMIT ?"
        )

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """bm25-ranked FTS5 search over the query's tokens minus its everyday words, in one statement.

        A token is left out when more than ``max(prune_min_docs, prune_fraction
        * entries)`` entries hold it, unless no token is rarer (the rarest
        tokens always stay, so a query of common words still matches). The
        entry count is the table's largest ``id`` (ids are distinct positive
        integers, so it bounds the count from above without a scan; after mass
        deletes it only prunes less), and the frequencies are table-wide, which
        is also what the match costs. The ``MATCH`` argument is built inside SQL
        from the bound tokens, each one a double-quoted FTS5 string (a one-token
        phrase); tokens hold letters, digits and marks only (checked before any
        statement), so none can close the quote. When no token is in the index
        the argument is ``""``, which matches nothing.
        """
        values = ", ".join("(?)" for _ in tokens)
        vocab = self.vocab_table
        # With porter stemming the index holds stems ("run"), so a query token ("running") is not a vocab
        # term: its frequency is unknown and it is kept (FTS5 stems it inside the MATCH).
        unknown = "doc IS NULL OR " if self.adk.backend.sqlite.fts_tokenizer == "porter" else ""
        sql = (
            f"WITH query(term) AS (VALUES {values}), "
            f"freq AS (SELECT term, (SELECT v.doc FROM {vocab} v WHERE v.term = query.term) AS doc FROM query), "
            "kept AS (SELECT term FROM freq "
            f"WHERE {unknown}doc <= MAX(?, ? * (SELECT COALESCE(MAX(id), 0) FROM {self.memory_table})) "
            "OR doc = (SELECT MIN(doc) FROM freq)) "
        ) + self._fts_search_sql("(SELECT GROUP_CONCAT('\"' || term || '\"', ' OR ') FROM kept)", owner)
        scope = self.scope_params(app_name, user_id, owner)
        params = (*tokens, self.prune_min_docs, self.prune_fraction, app_name, user_id, *scope, limit)
        return Stmt(sql, params, Fetch.ALL)

    def fts_all_tokens_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """bm25-ranked FTS5 search over every token (an ``OR`` of double-quoted one-token phrases)."""
        terms = " OR ".join(f'"{token}"' for token in tokens)
        params = (app_name, user_id, terms, *self.scope_params(app_name, user_id, owner), limit)
        return Stmt(self._fts_search_sql("?", owner), params, Fetch.ALL)

    def search_memory(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Op[list[MemoryRecord]]:
        """Search without the everyday words; if that finds none of this user's entries, with every token.

        The frequencies are table-wide, so the rare tokens kept may belong to
        other users only; the second statement (same read transaction) then
        finds this user's entries through the common words.
        """
        records = yield from super().search_memory(
            app_name=app_name, user_id=user_id, tokens=tokens, limit=limit, owner=owner
        )
        if records or not self.memory_fts or len(tokens) < 2:
            return records
        rows = yield self.fts_all_tokens_stmt(app_name, user_id, tokens, limit, owner)
        return [self.memory_record(row, app_name, user_id) for row in rows]


class SqliteDialect(SqliteCore, Dialect):
    """SQLite: one writer at a time, taken up front."""

    family: ClassVar[str] = "sqlite"
    db_system: ClassVar[str] = "sqlite"
    rules: ClassVar[TransactionRules] = TransactionRules(begin_write=("BEGIN IMMEDIATE",), begin_read=("BEGIN",))
    sessions_class = SqliteSessionSQL
    memory_class = SqliteMemorySQL
    artifacts_class = SqliteArtifactSQL

    def __init__(self, adk: ADKConfig) -> None:
        if adk.schema:
            # A SQLite "schema" is an ATTACHed database, which this library does not manage.
            raise ConfigError("extension_config['adk']['schema'] is not supported on SQLite; leave it unset")
        super().__init__(adk)
