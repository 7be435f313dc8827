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
  folded tokens (see :mod:`sqlspec_adk.tokens`), padded with one space on each
  side so ``' token '`` matches whole tokens only.
- A deleted entry becomes a tombstone: content, author and metadata are cleared
  and its ``search_text`` emptied, but the row keeps its key so that adding the
  session again (ADK re-adds whole sessions) does not bring the memory back.
  Explicit ``add_memory`` with that id replaces the tombstone. Retention
  (:meth:`MemorySQL.delete_memory_before`) and
  :meth:`MemorySQL.delete_user_memory` remove rows for good.

Search receives tokens of the restricted alphabet only. The fallback here ranks
by the number of distinct query tokens an entry contains, then newest first,
using ``LIKE '% token %'`` (a token holds no wildcard, and ``ESCAPE`` guards it
anyway). Families with full-text search set ``has_fts`` and override
:meth:`MemorySQL.fts_search_stmt`.

Families whose full-text index exposes document frequencies (SQLite's
``fts5vocab``, DuckDB's ``dict`` table, PostgreSQL's GIN index counted at query
time) leave a query's everyday words out of the ranked search
(:func:`prune_common_tokens`): a ranked ``OR`` search scores every entry any
token matches, and a word held by a large share of the entries ("my", "is",
"the") adds thousands of rows to score but next to no relevance. Families that
rank in SQL rather than with a native bm25 use :data:`BM25_K1` and
:data:`BM25_B`, FTS5's own defaults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.converters import decode_state
from sqlspec_adk.dialects.common import key_part_bytes
from sqlspec_adk.dialects.memory_vectors import VectorSQL
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord, MemoryWrite
from sqlspec_adk.tokens import EMPTY_SEARCH_TEXT, is_safe_token

__all__ = [
    "BM25_B",
    "BM25_K1",
    "MEMORY_COLUMNS",
    "PRUNE_FRACTION",
    "PRUNE_MIN_DOCS",
    "MemorySQL",
    "check_search_tokens",
    "prune_common_tokens",
]

#: Columns a search selects, in the order :meth:`MemorySQL.memory_record` reads them.
MEMORY_COLUMNS = ("id", "session_id", "event_id", "author", "timestamp", "content_json", "custom_metadata")
#: Columns an explicit entry with a stored id replaces.
UPDATED_COLUMNS = ("session_id", "author", "timestamp", "content_json", "custom_metadata", "search_text")
_LIKE_ESCAPE = "!"
#: A query token held by more than this fraction of the indexed entries is left out
#: of a pruning family's ranked search. Measured on the W5 benchmark (20,000
#: entries, SQLite): 0.05 keeps recall@5 at its unpruned value (0.93) at a sixth of
#: the latency; 0.02 loses recall (0.83); 0.1 keeps it at 2.5x the cost of 0.05.
PRUNE_FRACTION = 0.05
#: ...and by more than this many entries: a smaller index is searched with every
#: token, since scoring a thousand rows is cheap and a small memory needs every hit.
PRUNE_MIN_DOCS = 1000
#: BM25's term-frequency saturation and length normalization, as SQLite FTS5's ``bm25()`` uses them.
BM25_K1 = 1.2
BM25_B = 0.75


def check_search_tokens(tokens: Sequence[str]) -> None:
    """Refuse, before any statement, a token outside the restricted alphabet of :mod:`sqlspec_adk.tokens`."""
    unsafe = [token for token in tokens if not is_safe_token(token)]
    if unsafe:
        # Tokens come from tokens.query_tokens; anything else is a programming error.
        raise ValueError(f"search tokens must come from sqlspec_adk.tokens.query_tokens, got {unsafe[:3]!r}")


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


class MemorySQL(VectorSQL):
    """Memory statements and operations; a family subclasses it with its own core mixin."""

    #: Whether this family has a native full-text search the memory store can use.
    has_fts: ClassVar[bool] = False
    #: Bytes of the row id the family adds to each index key of the memory table (0: none it counts).
    key_row_id_bytes: ClassVar[int] = 0
    #: Pruning of everyday query words (families that support it; see :func:`prune_common_tokens`).
    prune_fraction: ClassVar[float] = PRUNE_FRACTION
    prune_min_docs: ClassVar[int] = PRUNE_MIN_DOCS

    # ---------------------------------------------------------------- options
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

    @cached_property
    def select_columns(self) -> str:
        """The SELECT list of a search, :data:`MEMORY_COLUMNS` as :meth:`memory_record` reads them."""
        return ", ".join(self.json.select(c) if c in ("content_json", "custom_metadata") else c for c in MEMORY_COLUMNS)

    def row_id(self, app_name: str, user_id: str, event_id: str) -> Any:
        """The ``id`` of a new row: a digest of its unique key, or None where the database assigns it."""
        digest = hashlib.sha256("\x00".join((app_name, user_id, event_id)).encode("utf-8"))
        return digest.hexdigest()[:32]

    # ------------------------------------------------------------ statements
    @cached_property
    def insert_columns(self) -> list[str]:
        owner = [self.owner.name] if self.owner else []
        return ["id", "app_name", "user_id", "session_id", "event_id", "author", "timestamp", *owner]

    @cached_property
    def insert_head(self) -> str:
        """``INSERT INTO memory (...) VALUES (...)`` for one entry (see :meth:`upsert_params`)."""
        columns = [*self.insert_columns, "content_json", "custom_metadata", "search_text", *self.vector_write_columns]
        values = ["?" for _ in self.insert_columns] + [self.json.param, self.json.param, "?", *self.vector_write_values]
        return f"INSERT INTO {self.memory_table} ({', '.join(columns)}) VALUES ({', '.join(values)})"

    @cached_property
    def updated_columns(self) -> list[str]:
        """Columns an explicit entry with a stored id replaces: :data:`UPDATED_COLUMNS`, the vector and its stamp."""
        return [*UPDATED_COLUMNS, *self.vector_write_columns]

    def upsert_sql(self, replace: bool) -> str:
        """Insert one entry; on a duplicate ``(app_name, user_id, event_id)`` keep the row, or replace its content.

        The replacing form runs after the keeping form (see
        :meth:`add_memory_entries`), so it only ever updates.
        """
        if not replace:
            # No conflict target: every unique key (the row id too) is an arbiter, so two
            # writers adding the same event at once never raise a unique violation.
            return f"{self.insert_head} ON CONFLICT DO NOTHING"
        updates = ", ".join(f"{column} = excluded.{column}" for column in self.updated_columns)
        return f"{self.insert_head} ON CONFLICT (app_name, user_id, event_id) DO UPDATE SET {updates}"

    def upsert_params(self, write: MemoryWrite, revision: int | None = None) -> tuple[Any, ...]:
        """The parameters of :meth:`upsert_sql` for one entry (``revision``: its (app, user)'s, see
        :meth:`~sqlspec_adk.dialects.memory_vectors.VectorSQL.bump_revision`)."""
        params: tuple[Any, ...] = (
            self.row_id(write.app_name, write.user_id, write.event_id),
            write.app_name,
            write.user_id,
            write.session_id,
            write.event_id,
            write.author,
            write.timestamp,
        )
        if self.owner:
            params += (write.owner_id,)
        metadata = None if write.custom_metadata_json is None else self.json.text(write.custom_metadata_json)
        vector = self.vector_write_params(write.embedding, revision)
        return (*params, self.json.text(write.content_json), metadata, write.search_text, *vector)

    def token_pattern(self, token: str) -> str:
        """The LIKE pattern matching ``token`` as a whole word of a padded ``search_text``."""
        escaped = "".join(_LIKE_ESCAPE + char if char in "%_" + _LIKE_ESCAPE else char for char in token)
        return f"% {escaped} %"

    def token_match_sql(self) -> str:
        """Condition with one ``?`` (a :meth:`token_pattern`): ``search_text`` contains the token."""
        return f"search_text LIKE ? ESCAPE '{_LIKE_ESCAPE}'"

    def fallback_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """Search without a full-text index: entries ranked by distinct tokens matched, then newest."""
        match = self.token_match_sql()
        score = " + ".join(f"CASE WHEN {match} THEN 1 ELSE 0 END" for _ in tokens)
        columns = ", ".join(MEMORY_COLUMNS)
        sql = (
            f"SELECT {self.select_columns} FROM (SELECT {columns}, {score} AS hits FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL) scored "
            f"WHERE hits > 0 ORDER BY hits DESC, timestamp DESC, id {self.limit_sql}"
        )
        params = [self.token_pattern(token) for token in tokens]
        return Stmt(sql, (*params, *self.scope_params(app_name, user_id, owner), limit), Fetch.ALL)

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """Full-text search ranked by relevance, of one app and user (and ``owner``, see :meth:`scope_sql`);
        selects :attr:`select_columns`. Families with FTS override."""
        raise NotImplementedError(f"{type(self).__name__} sets has_fts but does not implement fts_search_stmt")

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
            content_json=self.json.read(row[5]),
            custom_metadata=decode_state(self.json.read(row[6])),
        )

    def forget_sql(self, owner: Any = None) -> str:
        # The vector goes with the content: it was computed from it.
        vector = f"{self.vector_column} = NULL, " if self.stores_vectors else ""
        return (
            f"UPDATE {self.memory_table} SET content_json = NULL, custom_metadata = NULL, author = NULL, {vector}"
            f"search_text = ? WHERE {self.scope_sql(owner)} AND event_id = ? AND content_json IS NOT NULL"
        )

    def statements(self) -> list[str]:
        """Every fixed statement text of this part (for parse checks)."""
        texts = [self.upsert_sql(False), self.upsert_sql(True), self.forget_sql()]
        texts.append(self.fallback_search_stmt("a", "u", ["token"], 1).sql)
        if self.memory_fts:
            texts.append(self.fts_search_stmt("a", "u", ["token"], 1).sql)
        return [*texts, *self.vector_statements()]

    # ------------------------------------------------------------- operations
    def check_memory_keys(self, writes: Sequence[MemoryWrite]) -> None:
        """Refuse entries whose ids are too long for the family's keys, before any statement.

        Each index key is (app, user, one more column) and, where the family adds it, the row id
        (:attr:`key_row_id_bytes`): event_uq, session_idx, owner_idx and the timestamp index (8 bytes).
        """
        for w in writes:
            self.check_id_chars(event_id=w.event_id, session_id=w.session_id)
            third = {"event_id": w.event_id, "session_id": w.session_id, "owner_id": w.owner_id if self.owner else None}
            name, value = max(((n, v) for n, v in third.items() if v is not None), key=lambda i: key_part_bytes(i[1]))
            fixed = self.key_row_id_bytes + max(0, 8 - key_part_bytes(value))
            self.check_key("memory entry", fixed, app_name=w.app_name, user_id=w.user_id, **{name: value})

    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Store entries, deduplicated per ``(app_name, user_id, event_id)``.

        With ``replace`` a duplicate's content, metadata and session are replaced
        (explicit entries: the newest write wins, and a tombstone is revived);
        without it the stored row is kept as is (events never change, and a
        deleted event stays deleted).

        Where writes bump revisions (:attr:`revisions`), each (app, user)
        written is bumped first, in key order (so two writers never wait on each
        other's rows in opposite orders), and its rows are stamped with it. A
        batch that writes no vector and replaces nothing changes no stored
        vector, so it bumps nothing (no embedder: no extra statement).
        """
        if not writes:
            return
        self.check_memory_keys(writes)
        revisions: dict[tuple[str, str], int] = {}
        changes_vectors = replace or any(w.embedding is not None for w in writes)
        if self.revisions and self.stores_vectors and changes_vectors:
            for scope in sorted({(w.app_name, w.user_id) for w in writes}):
                revisions[scope] = yield from self.bump_revision(*scope)
        params = [self.upsert_params(w, revisions.get((w.app_name, w.user_id))) for w in writes]
        # Families whose insert-if-absent raises on a concurrent insert get that batch rerun (engine).
        yield Stmt(self.upsert_sql(False), params, many=True, duplicate_is_zero=self.insert_skip_raises)
        if replace:
            # An upsert names one conflict target, and PostgreSQL raises on a race over
            # any other unique key (here the row id). Inserting first without a target
            # makes the upsert an update of rows that already exist: no race left.
            yield Stmt(self.upsert_sql(True), params, many=True)

    def search_memory(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Op[list[MemoryRecord]]:
        """The best ``limit`` entries of one app and user (and ``owner``) matching any of ``tokens``, best first."""
        check_search_tokens(tokens)
        if not tokens:
            return []
        if self.memory_fts:
            stmt = self.fts_search_stmt(app_name, user_id, tokens, limit, owner)
        else:
            stmt = self.fallback_search_stmt(app_name, user_id, tokens, limit, owner)
        rows = yield stmt
        return [self.memory_record(row, app_name, user_id) for row in rows]

    def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner: Any = None) -> Op[int]:
        """Turn one entry into a tombstone (content, author and metadata cleared); return 1, or 0 if none."""
        params = (EMPTY_SEARCH_TEXT, *self.scope_params(app_name, user_id, owner), memory_id)
        count: int = yield Stmt(self.forget_sql(owner), params, Fetch.ROWCOUNT)
        return count

    def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner: Any = None
    ) -> Op[int]:
        """Remove every row (tombstones included) of one user, or of one of their sessions; return the count."""
        sql = f"DELETE FROM {self.memory_table} WHERE {self.scope_sql(owner)}"
        params: tuple[Any, ...] = self.scope_params(app_name, user_id, owner)
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

    def count_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention dry run: rows :meth:`delete_memory_before` would remove."""
        sql = f"SELECT COUNT(*) FROM {self.memory_table} WHERE timestamp < ?"
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        row = yield Stmt(sql + (" AND app_name = ?" if app_name is not None else ""), params, Fetch.ONE)
        return int(row[0])

    def delete_idle_sessions_memory(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """The entries of the sessions not updated since ``before`` (``memory_follows_sessions``); returns the count."""
        sql = (
            f"DELETE FROM {self.memory_table} WHERE session_id IS NOT NULL AND EXISTS (SELECT 1 FROM "
            f"{self.session_table} s WHERE s.app_name = {self.memory_table}.app_name "
            f"AND s.user_id = {self.memory_table}.user_id AND s.id = {self.memory_table}.session_id "
            "AND s.update_time < ?" + (" AND s.app_name = ?)" if app_name is not None else ")")
        )
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        count: int = yield Stmt(sql, params, Fetch.ROWCOUNT)
        return count
