"""Memory SQL, written once for every family, with a portable fallback search.

One row per memory entry in ``extension_config["adk"]["memory_table"]``:

- ``id`` is the row key. By default the library derives it from
  ``(app_name, user_id, event_id)`` (so it is stable across re-adds without a
  read); a family may use its own generated key instead (SQLite uses an
  ``INTEGER PRIMARY KEY`` because FTS5 needs a stable integer rowid).
- ``event_id`` is the memory id callers see (``MemoryEntry.id``): the ADK event
  id, or the id of an explicit entry. ``UNIQUE (app_name, user_id, event_id)``
  is the dedup rule: re-adding never duplicates.
- ``content_json`` is the lossless ``types.Content`` JSON; ``search_text`` the
  folded tokens (see :mod:`sqlspec_adk.memory.text`), padded with one space on
  each side so ``' token '`` matches whole tokens only.
- A deleted entry becomes a tombstone: content, author and metadata are cleared
  and its ``search_text`` emptied, but the row keeps its key so that adding the
  session again (ADK re-adds whole sessions) does not bring the memory back.
  Explicit ``add_memory`` with that id replaces the tombstone. Retention
  (:meth:`MemorySQL.delete_memory_before`) and
  :meth:`MemorySQL.delete_memory_entries` remove rows for good.

Search receives tokens of the restricted alphabet only. The fallback here ranks
by the number of distinct query tokens an entry contains, then newest first,
using ``LIKE '% token %'`` (a token holds no wildcard, and ``ESCAPE`` guards it
anyway). Families with full-text search set ``has_fts`` and override
:meth:`MemorySQL.memory_fts_ddl`, :meth:`MemorySQL.memory_fts_search_stmt` and,
if they add tables, :meth:`MemorySQL.memory_extra_tables`; families whose
upsert or LIMIT differ override :meth:`MemorySQL.memory_upsert_sql` and
:meth:`MemorySQL.memory_limit_sql`.

Families whose full-text index exposes document frequencies (SQLite's
``fts5vocab``, DuckDB's ``dict`` table) leave a query's everyday words out of
the ranked search (:func:`prune_common_tokens`): a ranked ``OR`` search scores
every entry any token matches, and a word held by a large share of the entries
("my", "is", "the") adds thousands of rows to score but next to no relevance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from sqlspec_adk.converters import decode_state
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.text import EMPTY_SEARCH_TEXT, is_safe_token
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord

if TYPE_CHECKING:
    from sqlspec_adk.config import ADKConfig
    from sqlspec_adk.identifiers import ColumnDefinition

__all__ = [
    "MEMORY_COLUMNS",
    "PRUNE_FRACTION",
    "PRUNE_MIN_DOCS",
    "MemorySQL",
    "MemoryWrite",
    "check_search_tokens",
    "prune_common_tokens",
]

#: Columns a search selects, in the order :meth:`MemorySQL.memory_record` reads them.
MEMORY_COLUMNS = ("id", "session_id", "event_id", "author", "timestamp", "content_json", "custom_metadata")
_UPDATED_COLUMNS = ("session_id", "author", "timestamp", "content_json", "custom_metadata", "search_text")
_LIKE_ESCAPE = "!"
#: A query token held by more than this fraction of the indexed entries is left out
#: of a pruning family's ranked search. Measured on the W5 benchmark (20,000
#: entries, SQLite): 0.05 keeps recall@5 at its unpruned value (0.93) at a sixth of
#: the latency; 0.02 loses recall (0.83); 0.1 keeps it at 2.5x the cost of 0.05.
PRUNE_FRACTION = 0.05
#: ...and by more than this many entries: a smaller index is searched with every
#: token, since scoring a thousand rows is cheap and a small memory needs every hit.
PRUNE_MIN_DOCS = 1000


def check_search_tokens(tokens: Sequence[str]) -> None:
    """Refuse, before any statement, a token outside the restricted alphabet of :mod:`sqlspec_adk.memory.text`."""
    unsafe = [token for token in tokens if not is_safe_token(token)]
    if unsafe:
        # Tokens come from memory.text.query_tokens; anything else is a programming error.
        raise ValueError(f"search tokens must come from sqlspec_adk.memory.text.query_tokens, got {unsafe[:3]!r}")


def prune_common_tokens(
    tokens: Sequence[str],
    doc_counts: Mapping[str, int],
    entries: int,
    *,
    fraction: float = PRUNE_FRACTION,
    min_docs: int = PRUNE_MIN_DOCS,
) -> list[str]:
    """The tokens worth a ranked search: those in the index, minus the everyday words.

    ``doc_counts`` maps a token to the number of indexed entries holding it
    (absent: none), ``entries`` is the number of indexed entries. A token is
    dropped when more than ``max(min_docs, fraction * entries)`` entries hold
    it, unless no token present is rarer: the rarest tokens always stay, so a
    query of common words only still matches. Tokens no entry holds are dropped
    (they match nothing). Order is kept.
    """
    present = [token for token in tokens if doc_counts.get(token, 0) > 0]
    if not present:
        return []
    ceiling = max(min_docs, fraction * entries)
    rarest = min(doc_counts[token] for token in present)
    return [token for token in present if doc_counts[token] <= ceiling or doc_counts[token] == rarest]


@dataclass(frozen=True, slots=True)
class MemoryWrite:
    """The stored columns of one memory entry, prepared (and validated) before the write transaction."""

    app_name: str
    user_id: str
    event_id: str
    session_id: str | None
    author: str | None
    timestamp: float
    content_json: str
    custom_metadata_json: str | None
    search_text: str
    owner_id: Any = None


class MemorySQL:
    """Memory DDL, statements and operations; mixed into ``BaseDialect``."""

    if TYPE_CHECKING:
        # Provided by BaseDialect, which this mixin is part of.
        adk: ADKConfig
        owner: ColumnDefinition | None
        has_fts: ClassVar[bool]
        key_type: ClassVar[str]
        text_type: ClassVar[str]
        json_type: ClassVar[str]
        float_type: ClassVar[str]

        def table(self, name: str) -> str: ...

        def index_name(self, table: str, suffix: str) -> str: ...

        def json_param(self) -> str: ...

        def owner_column_ddl(self) -> str: ...

    #: Pruning of everyday query words (families that support it; see :func:`prune_common_tokens`).
    memory_prune_fraction: float = PRUNE_FRACTION
    memory_prune_min_docs: int = PRUNE_MIN_DOCS

    # ---------------------------------------------------------------- options
    @cached_property
    def memory_table(self) -> str:
        """Quoted name of the memory table."""
        return self.table(self.adk.memory_table)

    @cached_property
    def memory_fts(self) -> bool:
        """Whether search uses the family's full-text index (``memory_use_fts``, default: where available)."""
        wanted = self.adk.memory_use_fts
        if wanted and not self.has_fts:
            raise ConfigError(
                f"extension_config['adk']['memory_use_fts'] is true, but {type(self).__name__} has no "
                "full-text search; leave it unset or set it to false"
            )
        return self.has_fts if wanted is None else wanted

    # -------------------------------------------------------------------- DDL
    def memory_id_ddl(self) -> str:
        """Definition of the ``id`` row-key column (see :meth:`memory_row_id`)."""
        return f"id {self.key_type} NOT NULL PRIMARY KEY"

    def memory_row_id(self, app_name: str, user_id: str, event_id: str) -> Any:
        """The ``id`` of a new row: a digest of its unique key, or None where the database assigns it."""
        digest = hashlib.sha256("\x00".join((app_name, user_id, event_id)).encode("utf-8"))
        return digest.hexdigest()[:32]

    def memory_ddl(self) -> list[str]:
        """DDL for the memory table, its index and (when enabled) its full-text index, idempotent."""
        name = self.adk.memory_table
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.memory_table} (\n"
            f"  {self.memory_id_ddl()},\n"
            f"  app_name {self.key_type} NOT NULL,\n  user_id {self.key_type} NOT NULL,\n"
            f"  session_id {self.key_type},\n  event_id {self.key_type} NOT NULL,\n  author {self.text_type},\n"
            f"  timestamp {self.float_type} NOT NULL,\n  {self.owner_column_ddl()}content_json {self.json_type},\n"
            f"  custom_metadata {self.json_type},\n  search_text {self.text_type} NOT NULL,\n"
            "  UNIQUE (app_name, user_id, event_id)\n)",
            f"CREATE INDEX IF NOT EXISTS {self.index_name(name, 'scope_idx')} "
            f"ON {self.memory_table} (app_name, user_id, timestamp)",
        ]
        if self.memory_fts:
            statements += self.memory_fts_ddl()
        return statements

    def memory_fts_ddl(self) -> list[str]:
        """The full-text index over ``search_text`` and whatever keeps it in sync; families with FTS override."""
        return []

    def memory_extra_tables(self) -> list[str]:
        """Quoted names of memory tables besides the main one (FTS tables), for ``extra_tables``."""
        return []

    # ------------------------------------------------------------ statements
    def memory_limit_sql(self) -> str:
        """The row-limit clause with one ``?`` parameter."""
        return "LIMIT ?"

    def memory_upsert_sql(self, replace: bool) -> str:
        """Insert one entry; on a duplicate ``(app_name, user_id, event_id)`` keep the row, or replace its content.

        The replacing form runs after the keeping form (see :meth:`add_memory_entries`),
        so it only ever updates.

        Parameters, in order: ``id``, app_name, user_id, session_id, event_id,
        author, timestamp, [owner], content_json, custom_metadata, search_text.
        """
        return self._memory_upsert_cache[replace]

    @cached_property
    def _memory_upsert_cache(self) -> dict[bool, str]:
        owner = f"{self.owner.name}, " if self.owner else ""
        owner_param = "?, " if self.owner else ""
        insert = (
            f"INSERT INTO {self.memory_table} "
            f"(id, app_name, user_id, session_id, event_id, author, timestamp, {owner}content_json, custom_metadata, "
            f"search_text) VALUES (?, ?, ?, ?, ?, ?, ?, {owner_param}{self.json_param()}, {self.json_param()}, ?)"
        )
        updates = ", ".join(f"{column} = excluded.{column}" for column in _UPDATED_COLUMNS)
        return {
            # No conflict target: every unique key (the row id too) is an arbiter, so two
            # writers adding the same event at once never raise a unique violation.
            False: f"{insert} ON CONFLICT DO NOTHING",
            True: f"{insert} ON CONFLICT (app_name, user_id, event_id) DO UPDATE SET {updates}",
        }

    def memory_upsert_params(self, write: MemoryWrite) -> tuple[Any, ...]:
        """The parameters of :meth:`memory_upsert_sql` for one entry."""
        params: tuple[Any, ...] = (
            self.memory_row_id(write.app_name, write.user_id, write.event_id),
            write.app_name,
            write.user_id,
            write.session_id,
            write.event_id,
            write.author,
            write.timestamp,
        )
        if self.owner:
            params += (write.owner_id,)
        return (*params, write.content_json, write.custom_metadata_json, write.search_text)

    def memory_token_pattern(self, token: str) -> str:
        """The LIKE pattern matching ``token`` as a whole word of a padded ``search_text``."""
        escaped = "".join(_LIKE_ESCAPE + char if char in "%_" + _LIKE_ESCAPE else char for char in token)
        return f"% {escaped} %"

    def memory_token_match_sql(self) -> str:
        """Condition with one ``?`` (a :meth:`memory_token_pattern`): ``search_text`` contains the token."""
        return f"search_text LIKE ? ESCAPE '{_LIKE_ESCAPE}'"

    def memory_fallback_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """Search without a full-text index: entries ranked by distinct tokens matched, then newest."""
        match = self.memory_token_match_sql()
        score = " + ".join(f"CASE WHEN {match} THEN 1 ELSE 0 END" for _ in tokens)
        columns = ", ".join(MEMORY_COLUMNS)
        sql = (
            f"SELECT {columns} FROM (SELECT {columns}, {score} AS hits FROM {self.memory_table} "
            "WHERE app_name = ? AND user_id = ? AND content_json IS NOT NULL) scored "
            f"WHERE hits > 0 ORDER BY hits DESC, timestamp DESC, id {self.memory_limit_sql()}"
        )
        params = [self.memory_token_pattern(token) for token in tokens]
        return Stmt(sql, (*params, app_name, user_id, limit), Fetch.ALL)

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """Full-text search ranked by relevance; selects :data:`MEMORY_COLUMNS`. Families with FTS override."""
        raise NotImplementedError(f"{type(self).__name__} sets has_fts but does not implement memory_fts_search_stmt")

    def memory_record(self, row: Sequence[Any], app_name: str, user_id: str) -> MemoryRecord:
        """A search row (:data:`MEMORY_COLUMNS`) as a record; JSON columns may come back as text or decoded."""
        return MemoryRecord(
            id=str(row[0]),
            app_name=app_name,
            user_id=user_id,
            session_id=row[1],
            event_id=row[2],
            author=row[3],
            timestamp=float(row[4]),
            content_json=row[5],
            custom_metadata=decode_state(row[6]),
        )

    def memory_statements(self) -> Iterator[str]:
        """Every fixed memory statement this dialect renders (for statement checks)."""
        yield from self.memory_ddl()
        yield self.memory_upsert_sql(False)
        yield self.memory_upsert_sql(True)
        yield self.memory_fallback_search_stmt("a", "u", ["token"], 1).sql
        if self.memory_fts:
            yield self.memory_fts_search_stmt("a", "u", ["token"], 1).sql

    # ------------------------------------------------------------- operations
    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Store entries, deduplicated per ``(app_name, user_id, event_id)``.

        With ``replace`` a duplicate's content, metadata and session are replaced
        (explicit entries: the newest write wins, and a tombstone is revived);
        without it the stored row is kept as is (events never change, and a
        deleted event stays deleted).
        """
        if not writes:
            return
        params = [self.memory_upsert_params(w) for w in writes]
        yield Stmt(self.memory_upsert_sql(False), params, many=True)
        if replace:
            # An upsert names one conflict target, and PostgreSQL raises on a race over
            # any other unique key (here the row id). Inserting first without a target
            # makes the upsert an update of rows that already exist: no race left.
            yield Stmt(self.memory_upsert_sql(True), params, many=True)

    def search_memory_entries(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int
    ) -> Op[list[MemoryRecord]]:
        """The best ``limit`` entries of one app and user matching any of ``tokens``, best first."""
        check_search_tokens(tokens)
        if not tokens:
            return []
        if self.memory_fts:
            stmt = self.memory_fts_search_stmt(app_name, user_id, tokens, limit)
        else:
            stmt = self.memory_fallback_search_stmt(app_name, user_id, tokens, limit)
        rows = yield stmt
        return [self.memory_record(row, app_name, user_id) for row in rows]

    def forget_memory_entry(self, *, app_name: str, user_id: str, memory_id: str) -> Op[int]:
        """Turn one entry into a tombstone (content, author and metadata cleared); return 1, or 0 if none."""
        count: int = yield Stmt(
            f"UPDATE {self.memory_table} SET content_json = NULL, custom_metadata = NULL, author = NULL, "
            "search_text = ? WHERE app_name = ? AND user_id = ? AND event_id = ? AND content_json IS NOT NULL",
            (EMPTY_SEARCH_TEXT, app_name, user_id, memory_id),
            Fetch.ROWCOUNT,
        )
        return count

    def delete_memory_entries(self, *, app_name: str, user_id: str, session_id: str | None = None) -> Op[int]:
        """Remove every row (tombstones included) of one user, or of one of their sessions; return the count."""
        sql = f"DELETE FROM {self.memory_table} WHERE app_name = ? AND user_id = ?"
        params: tuple[Any, ...] = (app_name, user_id)
        if session_id is not None:
            sql += " AND session_id = ?"
            params += (session_id,)
        count: int = yield Stmt(sql, params, Fetch.ROWCOUNT)
        return count

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention: remove rows with ``timestamp < before`` (optionally one app's); return the count."""
        sql = f"DELETE FROM {self.memory_table} WHERE timestamp < ?"
        params: tuple[Any, ...] = (before,)
        if app_name is not None:
            sql += " AND app_name = ?"
            params += (app_name,)
        count: int = yield Stmt(sql, params, Fetch.ROWCOUNT)
        return count
