"""DuckDB family: shared by the ``duckdb`` adapter and ADBC's DuckDB driver.

- No foreign key from events to sessions. DuckDB runs an UPDATE as a delete
  plus an insert, so updating a session row that event rows reference fails
  its foreign-key check, and every append updates the session row. Events are
  deleted explicitly instead (:meth:`BaseDialect.delete_session` and
  :meth:`BaseDialect.delete_idle_sessions` already do).
- One writer per database file and process, and DuckDB's concurrency control
  is optimistic: two transactions touching the same row fail at commit rather
  than wait. The adapters therefore run every transaction on a database under
  one process-wide lock (:func:`database_lock`), which also makes the default
  read-merge-write of app/user state exact.
- Timestamps are DOUBLE, so ADK's float timestamps come back bit for bit.
- Memory search uses the ``fts`` extension with BM25 ranking. The extension is
  loaded from the ``duckdb-extension-fts`` package of the same version as
  ``duckdb`` (or from DuckDB's own extension directory); nothing is ever
  downloaded. Without it the portable ``LIKE`` search is used, and that is
  logged once per process.
- DuckDB's full-text index is a snapshot that does not follow later writes.
  Rebuilding it costs far more than an insert (see docs/backends/duckdb.md),
  so writes only mark it stale in the metadata table and a search rebuilds it
  first when it is stale.
- A search first reads its tokens' document frequencies from the index's
  ``dict`` table and leaves everyday words out
  (:func:`~sqlspec_adk.dialects.memory_sql.prune_common_tokens`): BM25 scores
  every entry any token matches. Passing the pruned text to ``match_bm25``
  from a subquery would make DuckDB evaluate it per row, so this is a separate
  small statement in the same transaction.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS, MemoryWrite, check_search_tokens, prune_common_tokens
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.identifiers import quote_identifier
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord

__all__ = ["DuckdbDialect", "database_lock", "fts_load_sql"]

logger = logging.getLogger(__name__)

#: ``meta_value`` of the index-state row once the full-text index matches the memory table.
FTS_FRESH = "fresh"
FTS_STALE = "stale"


@functools.cache
def fts_load_sql() -> str | None:
    """The ``LOAD`` statement that makes the ``fts`` extension available, or None (logged once).

    Tries the ``duckdb-extension-fts`` package built for the installed DuckDB
    version, then an extension already installed in DuckDB's own directory.
    Automatic installs stay off: this never reaches the network.
    """
    import duckdb

    candidates: list[str] = []
    spec = importlib.util.find_spec("duckdb_extension_fts")
    for base in (spec.submodule_search_locations or []) if spec else []:
        path = Path(base) / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"
        if path.is_file():
            candidates.append("LOAD '{}'".format(str(path).replace("'", "''")))
    candidates.append("LOAD fts")
    settings: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    for sql in candidates:
        try:
            with duckdb.connect(":memory:", config=settings) as probe:
                probe.execute(sql)
        except duckdb.Error:
            continue
        return sql
    logger.warning(
        "DuckDB full-text search is unavailable (no fts extension for duckdb %s; "
        "pip install 'duckdb-extension-fts==%s'); memory search falls back to LIKE matching",
        duckdb.__version__,
        duckdb.__version__,
    )
    return None


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def database_lock(database: str) -> threading.Lock:
    """The lock every transaction on ``database`` runs under, shared by all configs of this process.

    A private in-memory database (``:memory:`` or empty) belongs to one config,
    so it gets a lock of its own.
    """
    if database in ("", ":memory:"):
        return threading.Lock()
    key = database if database.startswith(":memory:") else os.path.realpath(database)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class DuckdbDialect(BaseDialect):
    """DuckDB DDL, statements and the lazily rebuilt BM25 memory index."""

    sqlglot_name: ClassVar[str] = "duckdb"
    key_type: ClassVar[str] = "VARCHAR"
    text_type: ClassVar[str] = "VARCHAR"
    json_type: ClassVar[str] = "JSON"
    float_type: ClassVar[str] = "DOUBLE"
    int_type: ClassVar[str] = "INTEGER"
    bigint_type: ClassVar[str] = "BIGINT"
    has_fts: ClassVar[bool] = True

    def events_foreign_key_sql(self) -> str:
        return ""

    # ------------------------------------------------------------ connection
    def connection_setup(self) -> list[str]:
        """Statements each new connection runs: load ``fts`` when memory search uses it."""
        load = fts_load_sql() if self.memory_fts else None
        return [load] if load else []

    # ----------------------------------------------------------- memory (FTS)
    @cached_property
    def memory_fts(self) -> bool:
        wanted = self.adk.memory_use_fts
        if wanted is False:
            return False
        available = fts_load_sql() is not None
        if wanted and not available:
            raise ConfigError(
                "extension_config['adk']['memory_use_fts'] is true, but DuckDB's fts extension is not available: "
                "pip install duckdb-extension-fts of the same version as duckdb, or leave memory_use_fts unset"
            )
        return available

    @cached_property
    def fts_schema(self) -> str:
        """Quoted name of the schema ``PRAGMA create_fts_index`` fills for the memory table."""
        return quote_identifier(f"fts_{self.adk.schema or 'main'}_{self.adk.memory_table}", self.sqlglot_name)

    @cached_property
    def fts_state_key(self) -> str:
        """The metadata row recording whether the full-text index is fresh."""
        return f"fts_index:{self.adk.memory_table}"

    @cached_property
    def fts_build_sql(self) -> str:
        # search_text is already folded and space-separated by memory.text: split at spaces only,
        # keep every letter, digit and script (the default ignore pattern drops all but a-z).
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

    def fts_state_stmt(self, state: str) -> Stmt:
        return Stmt(self.fts_state_sql, (self.fts_state_key, state))

    def memory_fts_ddl(self) -> list[str]:
        # The index itself is built by the first search (see refresh_memory_index).
        return []

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        # The tokens reach match_bm25 as one bound string; the extension splits it at spaces, and a
        # token holds only letters, digits and marks, so nothing in it is syntax.
        columns = ", ".join(MEMORY_COLUMNS)
        sql = (
            f"SELECT {columns} FROM (SELECT {columns}, {self.fts_schema}.match_bm25(id, ?) AS score "
            f"FROM {self.memory_table} WHERE app_name = ? AND user_id = ? AND content_json IS NOT NULL) scored "
            "WHERE score IS NOT NULL ORDER BY score DESC, timestamp DESC, id LIMIT ?"
        )
        return Stmt(sql, (" ".join(tokens), app_name, user_id, limit), Fetch.ALL)

    def refresh_memory_index(self) -> Op[bool]:
        """Rebuild the full-text index if a write marked it stale; return whether it was rebuilt."""
        row = yield Stmt(
            f"SELECT meta_value FROM {self.metadata_table} WHERE meta_key = ?", (self.fts_state_key,), Fetch.ONE
        )
        if row is not None and row[0] == FTS_FRESH:
            return False
        yield Stmt(self.fts_build_sql)
        yield self.fts_state_stmt(FTS_FRESH)
        return True

    def memory_doc_counts_stmt(self, tokens: Sequence[str]) -> Stmt:
        """(token, entries holding it, indexed entries) for each of ``tokens`` in the full-text index."""
        marks = ", ".join("?" for _ in tokens)
        return Stmt(
            f"SELECT term, df, (SELECT num_docs FROM {self.fts_schema}.stats) FROM {self.fts_schema}.dict "
            f"WHERE term IN ({marks})",
            tuple(tokens),
            Fetch.ALL,
        )

    def search_memory_entries(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int
    ) -> Op[list[MemoryRecord]]:
        """Refresh a stale index, drop the everyday words, search; with every token if that found nothing.

        The index is current after the refresh, so a query none of whose tokens
        it holds matches nothing and needs no search. The frequencies are
        table-wide: if the rare tokens kept belong to other users only, the
        search runs again with every token the index holds.
        """
        if not (self.memory_fts and tokens):
            records: list[MemoryRecord] = yield from super().search_memory_entries(
                app_name=app_name, user_id=user_id, tokens=tokens, limit=limit
            )
            return records
        check_search_tokens(tokens)
        yield from self.refresh_memory_index()
        rows = yield self.memory_doc_counts_stmt(tokens)
        counts = {str(row[0]): int(row[1]) for row in rows}
        entries = int(rows[0][2]) if rows else 0
        kept = prune_common_tokens(
            tokens, counts, entries, fraction=self.memory_prune_fraction, min_docs=self.memory_prune_min_docs
        )
        records = yield from super().search_memory_entries(app_name=app_name, user_id=user_id, tokens=kept, limit=limit)
        present = [token for token in tokens if token in counts]
        if not records and len(kept) < len(present):
            records = yield from super().search_memory_entries(
                app_name=app_name, user_id=user_id, tokens=present, limit=limit
            )
        return records

    # Every write marks the index stale, with FTS on or off: a later config may search with it.
    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        yield from super().add_memory_entries(writes, replace=replace)
        if writes:
            yield self.fts_state_stmt(FTS_STALE)

    def forget_memory_entry(self, *, app_name: str, user_id: str, memory_id: str) -> Op[int]:
        count = yield from super().forget_memory_entry(app_name=app_name, user_id=user_id, memory_id=memory_id)
        return (yield from self._marked_stale(count))

    def delete_memory_entries(self, *, app_name: str, user_id: str, session_id: str | None = None) -> Op[int]:
        count = yield from super().delete_memory_entries(app_name=app_name, user_id=user_id, session_id=session_id)
        return (yield from self._marked_stale(count))

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        count = yield from super().delete_memory_before(before=before, app_name=app_name)
        return (yield from self._marked_stale(count))

    def _marked_stale(self, count: int) -> Op[int]:
        if count:
            yield self.fts_state_stmt(FTS_STALE)
        return count

    def drop_tables(self) -> Op[None]:
        yield Stmt(f"DROP SCHEMA IF EXISTS {self.fts_schema} CASCADE")
        yield from super().drop_tables()
