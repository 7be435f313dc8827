"""SQLite family: shared by the ``sqlite`` (sync) and ``aiosqlite`` adapters.

- WAL (file databases), a busy timeout, foreign keys with cascade and
  ``synchronous=FULL`` so an acknowledged commit survives a crash.
- Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken
  before the stale check, so two writers are serialized and the
  read-merge-write of app/user state cannot lose an update.
- Timestamps are REAL (IEEE double), so the float ADK hands us comes back bit
  for bit and a fresh session never looks stale.
- Memory search is FTS5 with bm25, minus the query's everyday words: a token
  held by more than ``memory_prune_fraction`` (5%) of the entries, and by more
  than ``memory_prune_min_docs`` (1,000) of them, is left out of the ``MATCH``
  (see :func:`~sqlspec_adk.dialects.memory_sql.prune_common_tokens`), because
  bm25 scores every row any token matches. Document frequencies come from an
  ``fts5vocab`` table read inside the search statement itself (one statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.identifiers import quote_identifier
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord

__all__ = ["SqliteDialect", "connect_arguments", "connection_pragmas", "is_memory_database"]

BEGIN_WRITE = "BEGIN IMMEDIATE"
BEGIN_READ = "BEGIN"


class SqliteDialect(BaseDialect):
    """SQLite DDL and statements."""

    sqlglot_name: ClassVar[str] = "sqlite"
    key_type: ClassVar[str] = "TEXT"
    text_type: ClassVar[str] = "TEXT"
    json_type: ClassVar[str] = "TEXT"
    float_type: ClassVar[str] = "REAL"
    int_type: ClassVar[str] = "INTEGER"
    bigint_type: ClassVar[str] = "INTEGER"
    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig) -> None:
        if adk.schema:
            # A SQLite "schema" is an ATTACHed database, which this library does not manage.
            raise ConfigError("extension_config['adk']['schema'] is not supported on SQLite; leave it unset")
        super().__init__(adk)

    # ------------------------------------------------------------ memory (FTS5)
    # The FTS5 index is an external-content table over the memory table, kept in
    # sync by triggers. External content addresses rows by integer rowid, and
    # only an INTEGER PRIMARY KEY keeps rowids stable across VACUUM, so the
    # memory row key is one here (assigned by SQLite).

    def memory_id_ddl(self) -> str:
        return "id INTEGER PRIMARY KEY"

    def memory_row_id(self, app_name: str, user_id: str, event_id: str) -> Any:
        return None

    @cached_property
    def memory_fts_table(self) -> str:
        """Quoted name of the FTS5 index of the memory table."""
        return self.table(f"{self.adk.memory_table}_fts")

    @cached_property
    def memory_vocab_table(self) -> str:
        """Quoted name of the ``fts5vocab`` row table over the FTS5 index (document frequency per token)."""
        return self.table(f"{self.adk.memory_table}_fts_vocab")

    def memory_extra_tables(self) -> list[str]:
        # Reported even when this config searches without FTS: another config
        # of the same database may have created them.
        return [self.memory_fts_table, self.memory_vocab_table] if self.adk.enable_memory else []

    def extra_tables(self) -> list[str]:
        return [*self.memory_extra_tables(), *super().extra_tables()]

    def memory_fts_ddl(self) -> list[str]:
        name = self.adk.memory_table
        fts = self.memory_fts_table
        table = self.memory_table
        docsize = self.table(f"{name}_fts_docsize")

        def trigger(suffix: str) -> str:
            return quote_identifier(f"{name}_fts_{suffix}", self.sqlglot_name)

        remove_old = f"INSERT INTO {fts} ({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        add_new = f"INSERT INTO {fts} (rowid, search_text) VALUES (new.id, new.search_text);"
        # Table names are validated plain names ([A-Za-z0-9_]), safe inside these string literals.
        return [
            # search_text is already folded by memory.text; unicode61 only splits it at the spaces.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, content='{name}', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
            # One row per token with the number of entries holding it, read by the search.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.memory_vocab_table} USING fts5vocab('{name}_fts', 'row')",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('ai')} AFTER INSERT ON {table} BEGIN {add_new} END",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('ad')} AFTER DELETE ON {table} BEGIN {remove_old} END",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('au')} AFTER UPDATE OF search_text ON {table} "
            f"BEGIN {remove_old} {add_new} END",
            # Index rows written while FTS was off (memory_use_fts=false earlier): rebuild when the counts differ.
            f"INSERT INTO {fts} ({fts}) SELECT 'rebuild' "
            f"WHERE (SELECT COUNT(*) FROM {docsize}) <> (SELECT COUNT(*) FROM {table})",
        ]

    def _fts_search_sql(self, match: str) -> str:
        columns = ", ".join(f"m.{column}" for column in MEMORY_COLUMNS)
        fts = self.memory_fts_table
        return (
            f"SELECT {columns} FROM {fts} JOIN {self.memory_table} m ON m.id = {fts}.rowid "
            f"WHERE {fts} MATCH {match} AND m.app_name = ? AND m.user_id = ? AND m.content_json IS NOT NULL "
            f"ORDER BY bm25({fts}), m.timestamp DESC, m.id LIMIT ?"
        )

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """bm25-ranked FTS5 search over the query's tokens minus its everyday words, in one statement.

        A token is left out when more than ``max(memory_prune_min_docs,
        memory_prune_fraction * entries)`` entries hold it, unless no token is
        rarer (the rarest tokens always stay, so a query of common words still
        matches). The entry count is the table's largest ``id`` (ids are distinct
        positive integers, so it bounds the count from above without a scan;
        after mass deletes it only prunes less), and the frequencies
        are table-wide, which is also what the match costs. The ``MATCH``
        argument is built inside SQL from the bound tokens, each one a
        double-quoted FTS5 string (a one-token phrase); tokens hold letters,
        digits and marks only (checked before any statement), so none can close
        the quote. When no token is in the index the argument is ``""``, which
        matches nothing.
        """
        values = ", ".join("(?)" for _ in tokens)
        vocab = self.memory_vocab_table
        sql = (
            f"WITH query(term) AS (VALUES {values}), "
            f"freq AS (SELECT term, (SELECT v.doc FROM {vocab} v WHERE v.term = query.term) AS doc FROM query), "
            "kept AS (SELECT term FROM freq "
            f"WHERE doc <= MAX(?, ? * (SELECT COALESCE(MAX(id), 0) FROM {self.memory_table})) "
            "OR doc = (SELECT MIN(doc) FROM freq)) "
        ) + self._fts_search_sql("(SELECT COALESCE(GROUP_CONCAT('\"' || term || '\"', ' OR '), '\"\"') FROM kept)")
        params = (*tokens, self.memory_prune_min_docs, self.memory_prune_fraction, app_name, user_id, limit)
        return Stmt(sql, params, Fetch.ALL)

    def memory_fts_all_tokens_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """bm25-ranked FTS5 search over every token (an ``OR`` of double-quoted one-token phrases)."""
        match = " OR ".join(f'"{token}"' for token in tokens)
        return Stmt(self._fts_search_sql("?"), (match, app_name, user_id, limit), Fetch.ALL)

    def search_memory_entries(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int
    ) -> Op[list[MemoryRecord]]:
        """Search without the everyday words; if that finds none of this user's entries, with every token.

        The frequencies are table-wide, so the rare tokens kept may belong to
        other users only; the second statement (same read transaction) then
        finds this user's entries through the common words.
        """
        records: list[MemoryRecord] = yield from super().search_memory_entries(
            app_name=app_name, user_id=user_id, tokens=tokens, limit=limit
        )
        if records or not self.memory_fts or len(tokens) < 2:
            return records
        rows = yield self.memory_fts_all_tokens_stmt(app_name, user_id, tokens, limit)
        return [self.memory_record(row, app_name, user_id) for row in rows]


def is_memory_database(database: str) -> bool:
    """Whether ``database`` names a private in-memory database (one connection only)."""
    return database in ("", ":memory:") or ("mode=memory" in database and database.startswith("file:"))


def connect_arguments(connection_config: dict[str, Any], busy_timeout: float) -> tuple[str, dict[str, Any]]:
    """(database, keyword arguments) for ``sqlite3.connect`` / ``aiosqlite.connect``.

    Transactions are managed explicitly (``isolation_level=None``).
    """
    options = dict(connection_config)
    database = str(options.pop("database", ":memory:"))
    options.setdefault("timeout", busy_timeout)
    options["isolation_level"] = None
    if database.startswith("file:"):
        options.setdefault("uri", True)
    return database, options


def connection_pragmas(database: str, busy_timeout: float) -> list[str]:
    """PRAGMAs run on every new connection, in order.

    ``busy_timeout`` comes first: switching to WAL needs a lock, and a connection opened while another
    one recovers the WAL of a crashed writer must wait for it rather than fail at once.
    """
    pragmas = [f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}"]
    if not is_memory_database(database):
        pragmas.append("PRAGMA journal_mode = WAL")
    return [*pragmas, "PRAGMA foreign_keys = ON", "PRAGMA synchronous = FULL"]
