"""SQLite family: shared by the ``sqlite`` (sync), ``aiosqlite`` and ADBC SQLite adapters.

- Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken
  before the stale check, so two writers are serialized and the
  read-merge-write of app/user state cannot lose an update.
- Timestamps are REAL (IEEE double), so the float ADK hands us comes back bit
  for bit and a fresh session never looks stale.
- Memory search is FTS5 with bm25, minus the query's everyday words: a token
  held by more than ``prune_fraction`` (5%) of the user's entries, and by more
  than ``prune_min_docs`` (1,000) of them, is left out of the ``MATCH`` (see
  :func:`~sqlspec_adk.dialects.memory.prune_common_tokens`), because bm25
  scores every row any token matches. Document frequencies come from an
  ``fts5vocab`` table read inside the search statement itself (one statement).
  The index keeps each user's postings apart (schema version 7: tokens are
  prefixed with the user's key), so a search reads its own user's postings and
  counts only its own user's entries.
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
from sqlspec_adk.migrations.v0007_fts_user_scope import key_sql
from sqlspec_adk.protocol import Fetch, Stmt, TransactionRules
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

    @cached_property
    def users_table(self) -> str:
        """Quoted name of version 7's table numbering each (app, user) whose entries the index holds."""
        return self.table(f"{self.adk.memory_table}_fts_users")  # version 7's users_table

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """bm25-ranked FTS5 search of one user's entries for the query's tokens minus its everyday words.

        One statement, every cost the user's own (version 7 indexes each token
        prefixed with its user's key): ``fts5vocab`` gives the user's entries
        holding each prefixed token, and the bare key's count is the user's
        entries (tombstones included). A token is left out when more than
        ``max(prune_min_docs, prune_fraction * entries)`` of them hold it,
        unless no token is rarer (the rarest tokens always stay, so a query of
        common words still matches); a token none of them holds matches
        nothing and is left out (with porter stemming a query token is not a
        vocab term, the index holding stems, and it is kept). ``bm25`` ranks
        with the same per-user counts.

        The ``MATCH`` argument is built inside SQL from the bound tokens, each
        one a double-quoted FTS5 string of the key and the token; tokens hold
        letters, digits and marks only (checked before any statement), so none
        can close the quote, and the app and user never enter it (only their
        number does). No token left, or a user with no entries, gives ``""``,
        which matches nothing. The joined row is still checked against the
        scope (it also holds the owner), one lookup per entry found.
        """
        values = ", ".join("(?)" for _ in tokens)
        vocab, fts = self.vocab_table, self.fts_table
        unknown = "doc IS NULL OR " if self.adk.backend.sqlite.fts_tokenizer == "porter" else ""
        columns = ", ".join(f"m.{column}" for column in MEMORY_COLUMNS)
        key = key_sql("n")
        sql = (
            f"WITH keyed(k) AS (SELECT {key} FROM {self.users_table} WHERE app_name = ? AND user_id = ?), "
            f"query(term) AS (VALUES {values}), "
            f"freq AS (SELECT term, (SELECT v.doc FROM {vocab} v WHERE v.term = (SELECT k FROM keyed) || query.term) "
            "AS doc FROM query), "
            f"entries(n) AS (SELECT COALESCE((SELECT v.doc FROM {vocab} v WHERE v.term = (SELECT k FROM keyed)), 0)), "
            "kept AS (SELECT term FROM freq "
            f"WHERE {unknown}doc <= MAX(?, ? * (SELECT n FROM entries)) OR doc = (SELECT MIN(doc) FROM freq)), "
            "terms(t) AS (SELECT GROUP_CONCAT('\"' || (SELECT k FROM keyed) || term || '\"', ' OR ') FROM kept) "
            f"SELECT {columns} FROM {fts} JOIN {self.memory_table} m ON m.id = {fts}.rowid "
            f"WHERE {fts} MATCH (SELECT COALESCE(t, '\"\"') FROM terms) AND {self.scope_sql(owner, 'm')} "
            f"AND m.content_json IS NOT NULL ORDER BY bm25({fts}), m.timestamp DESC, m.id LIMIT ?"
        )
        scope = self.scope_params(app_name, user_id, owner)
        params = (app_name, user_id, *tokens, self.prune_min_docs, self.prune_fraction, *scope, limit)
        return Stmt(sql, params, Fetch.ALL)


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
