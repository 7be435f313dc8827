"""DuckDB family: shared by the ``duckdb`` adapter and ADBC's DuckDB driver.

- No foreign key from events to sessions (see migrations v1). DuckDB runs an
  UPDATE as a delete plus an insert, so updating a session row that event rows
  reference fails its foreign-key check, and every append updates the session
  row. Events are deleted explicitly instead (``SessionSQL.cascades_events``
  is False).
- One writer per database file and process, and DuckDB's concurrency control
  is optimistic: two transactions touching the same row fail at commit rather
  than wait. The adapters therefore run every transaction on a database under
  one process-wide lock (:func:`sqlspec_adk.adapters._duckdb.database_lock`),
  which also makes the default read-merge-write of app/user state exact.
- Timestamps are DOUBLE, so ADK's float timestamps come back bit for bit.
- Memory search uses the ``fts`` extension with BM25 ranking. Whether the
  extension loads is driver knowledge: the config finds out and builds the
  dialect with ``fts_extension`` (see :mod:`sqlspec_adk.adapters._duckdb`);
  without it the portable ``LIKE`` search is used.
- DuckDB's full-text index is a snapshot that does not follow later writes.
  Rebuilding it costs far more than an insert (see docs/backends/duckdb.md),
  so writes only mark it stale in the metadata table and a search rebuilds it
  first when it is stale.
- A search first reads its tokens' document frequencies from the index's
  ``dict`` table and leaves everyday words out
  (:func:`~sqlspec_adk.dialects.memory.prune_common_tokens`): BM25 scores
  every entry any token matches. Passing the pruned text to ``match_bm25``
  from a subquery would make DuckDB evaluate it per row, so this is a separate
  small statement in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import MEMORY_COLUMNS, MemorySQL, check_search_tokens, prune_common_tokens
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import MemoryRecord, MemoryWrite
from sqlspec_adk.settings import ADKConfig

__all__ = ["FTS_FRESH", "FTS_STALE", "DuckdbDialect", "DuckdbMemorySQL"]

#: ``meta_value`` of the index-state row once the full-text index matches the memory table.
FTS_FRESH = "fresh"
#: ... and once a write changed the memory table after the last build.
FTS_STALE = "stale"


class DuckdbCore(DialectCore):
    sqlglot_name: ClassVar[str] = "duckdb"


class DuckdbSessionSQL(DuckdbCore, SessionSQL):
    """The portable session SQL: the process-wide lock makes its read-merge-write exact."""


class DuckdbArtifactSQL(DuckdbCore, ArtifactSQL):
    """The portable artifact SQL."""


class DuckdbMemorySQL(DuckdbCore, MemorySQL):
    """BM25 search over a lazily rebuilt ``fts`` index of the memory table.

    ``fts_extension``: whether the ``fts`` extension is loadable on this
    config's connections (the config knows; a dialect never loads anything).
    """

    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig, *, fts_extension: bool = True) -> None:
        super().__init__(adk)
        self.fts_extension = fts_extension

    @cached_property
    def memory_fts(self) -> bool:
        """``memory_use_fts`` (default: on), off when the extension is missing; asked for without it, refused."""
        if self.fts_extension or self.adk.memory_use_fts is False:
            return super().memory_fts
        if self.adk.memory_use_fts:
            raise ConfigError(
                "extension_config['adk']['memory_use_fts'] is true, but DuckDB's fts extension is not available: "
                "pip install duckdb-extension-fts of the same version as duckdb, or leave memory_use_fts unset"
            )
        return False

    # ------------------------------------------------------------ statements
    @cached_property
    def fts_schema(self) -> str:
        """Quoted name of the schema ``PRAGMA create_fts_index`` fills for the memory table."""
        return self.quote(f"fts_{self.adk.schema or 'main'}_{self.adk.memory_table}")

    @cached_property
    def fts_state_key(self) -> str:
        """The metadata row recording whether the full-text index is fresh."""
        return f"fts_index:{self.adk.memory_table}"

    @cached_property
    def fts_build_sql(self) -> str:
        """(Re)build the full-text index of the memory table."""
        # search_text is already folded and space-separated by sqlspec_adk.tokens: split at spaces only,
        # keep every letter, digit and script (the default ignore pattern drops all but a-z).
        # Table names are validated plain names ([A-Za-z0-9_]), safe inside the string literal.
        table = f"{self.adk.schema}.{self.adk.memory_table}" if self.adk.schema else self.adk.memory_table
        return (
            f"PRAGMA create_fts_index('{table}', 'id', 'search_text', stemmer = 'none', stopwords = 'none', "
            "ignore = '\\s+', strip_accents = 0, lower = 0, overwrite = 1)"
        )

    @cached_property
    def fts_state_sql(self) -> str:
        return (
            f"INSERT INTO {self.metadata_table} (meta_key, meta_value) VALUES (?, ?) "
            "ON CONFLICT (meta_key) DO UPDATE SET meta_value = excluded.meta_value"
        )

    @cached_property
    def select_fts_state_sql(self) -> str:
        return f"SELECT meta_value FROM {self.metadata_table} WHERE meta_key = ?"

    def fts_state_stmt(self, state: str) -> Stmt:
        """Record the index as :data:`FTS_FRESH` or :data:`FTS_STALE`."""
        return Stmt(self.fts_state_sql, (self.fts_state_key, state))

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        # The tokens reach match_bm25 as one bound string; the extension splits it at spaces, and a
        # token holds only letters, digits and marks, so nothing in it is syntax.
        columns = ", ".join(MEMORY_COLUMNS)
        sql = (
            f"SELECT {self.select_columns} FROM (SELECT {columns}, {self.fts_schema}.match_bm25(id, ?) AS score "
            f"FROM {self.memory_table} WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL) scored "
            f"WHERE score IS NOT NULL ORDER BY score DESC, timestamp DESC, id {self.limit_sql}"
        )
        return Stmt(sql, (" ".join(tokens), *self.scope_params(app_name, user_id, owner), limit), Fetch.ALL)

    def doc_counts_stmt(self, tokens: Sequence[str]) -> Stmt:
        """(token, entries holding it, indexed entries) for each of ``tokens`` in the full-text index."""
        marks = ", ".join("?" for _ in tokens)
        return Stmt(
            f"SELECT term, df, (SELECT num_docs FROM {self.fts_schema}.stats) FROM {self.fts_schema}.dict "
            f"WHERE term IN ({marks})",
            tuple(tokens),
            Fetch.ALL,
        )

    def statements(self) -> list[str]:
        texts = super().statements()
        texts += [self.fts_state_sql, self.select_fts_state_sql]
        if self.memory_fts:
            texts += [self.fts_build_sql, self.doc_counts_stmt(["token"]).sql]
        return texts

    # ------------------------------------------------------------- vectors
    # ``embedding`` is ``FLOAT[]`` (schema version 2), bound as a list and ranked in SQL by the core
    # ``list_cosine_similarity`` (exact, no index). Measured on 20,000 384-dimension rows: casting each
    # row to ``FLOAT[384]`` for ``array_cosine_similarity`` costs about 40% more than scoring the list.
    # No revisions: nothing caches DuckDB's vectors.
    vector_ranking: ClassVar[str] = "sql"
    revisions: ClassVar[bool] = False
    vector_placeholder = "CAST(? AS FLOAT[])"

    def vector_param(self, vector: Sequence[float] | None) -> Any:
        return None if vector is None else [float(value) for value in vector]

    def vector_search_stmt(
        self, app_name: str, user_id: str, vector: Sequence[float], limit: int, owner: Any = None
    ) -> Stmt:
        """The nearest live entries by cosine; vectors of another length (a reembed under way) are left out."""
        columns = ", ".join(MEMORY_COLUMNS)
        sql = (
            f"SELECT {self.select_columns}, score FROM (SELECT {columns}, "
            "list_cosine_similarity(embedding, CAST(? AS FLOAT[])) AS score "
            f"FROM {self.memory_table} WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL "
            "AND len(embedding) = ?) scored "
            f"ORDER BY score DESC, timestamp DESC, id {self.limit_sql}"
        )
        params = (self.vector_param(vector), *self.scope_params(app_name, user_id, owner), len(vector), limit)
        return Stmt(sql, params, Fetch.ALL)

    # ------------------------------------------------------------- operations
    def refresh_memory_index(self) -> Op[bool]:
        """Rebuild the full-text index if a write marked it stale; return whether it was rebuilt."""
        row = yield Stmt(self.select_fts_state_sql, (self.fts_state_key,), Fetch.ONE)
        if row is not None and row[0] == FTS_FRESH:
            return False
        yield Stmt(self.fts_build_sql)
        yield self.fts_state_stmt(FTS_FRESH)
        return True

    def search_memory(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Op[list[MemoryRecord]]:
        """Refresh a stale index, drop the everyday words, search; with every token if that found nothing.

        The index is current after the refresh, so a query none of whose tokens
        it holds matches nothing and needs no search. The frequencies are
        table-wide: if the rare tokens kept belong to other users only, the
        search runs again with every token the index holds.
        """
        scope = {"app_name": app_name, "user_id": user_id, "limit": limit, "owner": owner}
        if not (self.memory_fts and tokens):
            return (yield from super().search_memory(tokens=tokens, **scope))
        check_search_tokens(tokens)
        yield from self.refresh_memory_index()
        rows = yield self.doc_counts_stmt(tokens)
        counts = {str(row[0]): int(row[1]) for row in rows}
        entries = int(rows[0][2]) if rows else 0
        kept = prune_common_tokens(tokens, counts, entries, fraction=self.prune_fraction, min_docs=self.prune_min_docs)
        records = yield from super().search_memory(tokens=kept, **scope)
        present = [token for token in tokens if token in counts]
        if not records and len(kept) < len(present):
            records = yield from super().search_memory(tokens=present, **scope)
        return records

    # Every write marks the index stale, with FTS on or off: a later config may search with it.
    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        yield from super().add_memory_entries(writes, replace=replace)
        if writes:
            yield self.fts_state_stmt(FTS_STALE)

    def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner: Any = None) -> Op[int]:
        count = yield from super().delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner=owner)
        return (yield from self._marked_stale(count))

    def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner: Any = None
    ) -> Op[int]:
        count = yield from super().delete_user_memory(
            app_name=app_name, user_id=user_id, session_id=session_id, owner=owner
        )
        return (yield from self._marked_stale(count))

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        count = yield from super().delete_memory_before(before=before, app_name=app_name)
        return (yield from self._marked_stale(count))

    def _marked_stale(self, count: int) -> Op[int]:
        if count:
            yield self.fts_state_stmt(FTS_STALE)
        return count


class DuckdbDialect(DuckdbCore, Dialect):
    """DuckDB: every transaction on a file under one process-wide lock, BM25 memory search.

    ``fts_extension``: whether the config's connections can load the ``fts``
    extension (default: assume they can; the adapters pass what they found).
    """

    family: ClassVar[str] = "duckdb"
    db_system: ClassVar[str] = "duckdb"
    # No SAVEPOINT in DuckDB.
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("BEGIN TRANSACTION",), begin_read=("BEGIN TRANSACTION",), savepoints=False
    )
    sessions_class = DuckdbSessionSQL
    memory_class = DuckdbMemorySQL
    artifacts_class = DuckdbArtifactSQL

    def __init__(self, adk: ADKConfig, *, fts_extension: bool = True) -> None:
        super().__init__(adk)
        self.memory: DuckdbMemorySQL = DuckdbMemorySQL(adk, fts_extension=fts_extension)
