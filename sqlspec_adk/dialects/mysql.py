"""MySQL 8 / MariaDB 10.11 family: shared by ``aiomysql``, ``asyncmy``, ``pymysql`` and ``mysql-connector``.

The schema (InnoDB, ``utf8mb4``, exact binary no-pad key collations, ``JSON``
columns with a ``JSON_VALID`` check, ``DOUBLE`` timestamps) is in
:mod:`sqlspec_adk.migrations.v0001_initial`; this module holds the statements
and how their results map back.

- Writes run at READ COMMITTED (no gap locks), reads in a consistent
  REPEATABLE READ snapshot (:attr:`MysqlDialect.rules`; the per-connection
  session default is set by :mod:`sqlspec_adk.adapters._mysql`). Rows a write
  changes are locked in one order (session, app state, user state), and
  app/user state is merged under ``SELECT ... FOR UPDATE`` after the row is
  created if missing, so concurrent writers lose nothing. A deadlock, a lock
  wait timeout or a connection lost before COMMIT makes the engine run a fresh
  copy of the operation (the adapters classify those errors).
- MySQL has no ``ON CONFLICT``: a skip-if-present insert is a plain
  ``INSERT`` whose duplicate-key error the engine counts as 0 rows
  (``Stmt.duplicate_is_zero``); InnoDB undoes only that statement, never the
  transaction. Every other duplicate key is the driver's own integrity error.
- Key columns are ``VARCHAR`` of the lengths in :data:`KEY_LENGTHS`; an id
  longer than its column is refused before any statement (strict mode would
  refuse it mid-transaction).
- Memory search is InnoDB ``FULLTEXT`` in BOOLEAN MODE over the query tokens
  the index holds (its relevance weighted by how rare each word is, then
  BM25's length normalization), with a whole-token ``LIKE`` ranking for the
  others.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import BM25_B, BM25_K1, MEMORY_COLUMNS, MemorySQL, check_search_tokens
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import (
    AppendResult,
    ArtifactKey,
    ArtifactWrite,
    EventWrite,
    MemoryRecord,
    MemoryWrite,
    SessionSnapshot,
)
from sqlspec_adk.settings import ADKConfig
from sqlspec_adk.vectors import vector_bytes

__all__ = ["KEY_LENGTHS", "MysqlDialect", "check_key_lengths"]

#: Characters each key column holds (the v1 schema's ``VARCHAR`` sizes). Every
#: index stays within InnoDB's 3072-byte key limit at 4 bytes per utf8mb4 character.
KEY_LENGTHS: dict[str, int] = {
    "app_name": 128,
    "user_id": 255,
    "session_id": 128,
    "event_id": 128,
    "memory_id": 64,
    "filename": 1024,
}
#: Unicode categories InnoDB's full-text parser treats as word characters.
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})
#: InnoDB's defaults for the full-text token sizes, until the server's are read.
DEFAULT_FT_TOKEN_SIZES = (3, 84)
FT_SIZES_SQL = "SELECT @@innodb_ft_min_token_size, @@innodb_ft_max_token_size"


def check_key_lengths(**values: str | None) -> None:
    """Refuse an id longer than its column (None: no value); run before any statement of the operation."""
    for name, value in values.items():
        if value is not None and len(value) > KEY_LENGTHS[name]:
            raise ValueError(
                f"{name} is {len(value)} characters long; the MySQL/MariaDB schema stores at most "
                f"{KEY_LENGTHS[name]} (got {value[:40]!r}...)"
            )


class MysqlCore(DialectCore):
    """Backtick quoting, and the skip-if-present insert as a plain INSERT."""

    sqlglot_name: ClassVar[str] = "mysql"
    insert_skip_raises: ClassVar[bool] = True

    def insert_skip_sql(self, table: str, columns: Sequence[str], values: Sequence[str], keys: Sequence[str]) -> str:
        """A plain ``INSERT``: its duplicate-key error counts as 0 rows (``INSERT IGNORE`` would hide other errors)."""
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


class MysqlSessionSQL(MysqlCore, SessionSQL):
    """The portable session SQL with key-length checks and row-locked app/user state merges."""

    #: InnoDB undoes a failed statement alone; the ``NOT EXISTS`` in the ``UPDATE`` cost MariaDB about
    #: 55 us of its CPU per append at 32 sessions (W1c probe).
    redelivery_by_insert: ClassVar[bool] = True

    @cached_property
    def scoped_state_statements(self) -> dict[str, tuple[str, str, str]]:
        """Per scope (``app``, ``user``): the locking select, the insert and the update of the state row."""
        statements = {}
        for scope in ("app", "user"):
            table, columns = self.scoped_state_target(scope)
            where = " AND ".join(f"{column} = ?" for column in columns)
            names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
            statements[scope] = (
                f"SELECT state FROM {table} WHERE {where} FOR UPDATE",
                f"INSERT INTO {table} ({names}, state, update_time) VALUES ({marks}, {self.json.param}, ?)",
                f"UPDATE {table} SET state = {self.json.param}, update_time = ? WHERE {where}",
            )
        return statements

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Merge ``delta`` into the app or user state row under a row lock; return the new state.

        ``SELECT ... FOR UPDATE`` locks an existing row (at READ COMMITTED a
        missing row locks nothing, so two first writers never deadlock on a
        gap). A missing row is inserted; if a concurrent writer inserted it
        first, the INSERT counts 0 rows once that writer commits, and the row
        is locked and merged like any other. Keys whose value is None are kept.
        """
        select, insert, update = self.scoped_state_statements[scope]
        row = yield Stmt(select, keys, Fetch.ONE)
        if row is None:
            state = dict(delta)
            inserted = yield Stmt(insert, (*keys, self.json.state(state), now), Fetch.ROWCOUNT, duplicate_is_zero=True)
            if inserted:
                return state
            row = yield Stmt(select, keys, Fetch.ONE)
        state = self.json.read_state(row[0])
        state.update(delta)
        yield Stmt(update, (self.json.state(state), now, *keys))
        return state

    def create_session(self, *, app_name: str, user_id: str, session_id: str, **arguments: Any) -> Op[SessionSnapshot]:
        """The portable create, after checking the key lengths."""
        check_key_lengths(app_name=app_name, user_id=user_id, session_id=session_id)
        return (
            yield from super().create_session(app_name=app_name, user_id=user_id, session_id=session_id, **arguments)
        )

    def append_event(self, *, event: EventWrite, **arguments: Any) -> Op[AppendResult]:
        """The portable append, after checking the event id's length (a longer session key finds no session)."""
        check_key_lengths(event_id=event.id)
        return (yield from super().append_event(event=event, **arguments))

    def statements(self) -> list[str]:
        return [*super().statements(), *(sql for scope in self.scoped_state_statements.values() for sql in scope)]


class MysqlMemorySQL(MysqlCore, MemorySQL):
    """InnoDB ``FULLTEXT`` search in BOOLEAN MODE; upserts with MySQL's own clauses."""

    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig) -> None:
        super().__init__(adk)
        #: The server's (innodb_ft_min_token_size, innodb_ft_max_token_size), read at the first search.
        self.ft_token_sizes: tuple[int, int] | None = None

    @cached_property
    def replace_sql(self) -> str:
        """``REPLACE`` of one entry: the same columns and values as :attr:`insert_head`.

        REPLACE rather than ``ON DUPLICATE KEY UPDATE c = VALUES(c)``, which
        MySQL 8.0.20+ deprecates (MariaDB has no ``AS new`` row alias).
        """
        columns = [*self.insert_columns, "content_json", "custom_metadata", "search_text", *self.vector_write_columns]
        values = ["?" for _ in self.insert_columns] + [self.json.param, self.json.param, "?", *self.vector_write_values]
        return f"REPLACE INTO {self.memory_table} ({', '.join(columns)}) VALUES ({', '.join(values)})"

    # Vectors: float32 bytes in the LONGBLOB ``embedding``, bound as base64 text and ranked by the store.
    # Text, not bytes: aiomysql 0.3.2 escapes bytes with PyMySQL's escape_bytes_prefixed, which PyMySQL
    # 1.2 replaced with a string ("DO NOT IMPORT THIS!!!"), so a bytes parameter fails there.
    vector_placeholder = "FROM_BASE64(?)"

    def vector_param(self, vector: Sequence[float] | None) -> Any:
        return None if vector is None else base64.b64encode(vector_bytes(vector)).decode("ascii")

    # No RETURNING here: a revision bump is create-if-absent, update (its row lock), read.
    returning_upsert: ClassVar[bool] = False

    def upsert_sql(self, replace: bool) -> str:
        """Keep the stored row on a duplicate key (a no-op update never raises), or replace it."""
        return self.replace_sql if replace else f"{self.insert_head} ON DUPLICATE KEY UPDATE id = id"

    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        for write in writes:
            check_key_lengths(
                app_name=write.app_name, user_id=write.user_id, event_id=write.event_id, session_id=write.session_id
            )
        yield from super().add_memory_entries(writes, replace=replace)

    def fts_token(self, token: str) -> bool:
        """Whether InnoDB's full-text parser indexes ``token`` as one word (else the LIKE path finds it).

        Only letters and decimal digits of the Basic Multilingual Plane, within
        the server's ``innodb_ft_min_token_size`` .. ``innodb_ft_max_token_size``.
        """
        low, high = self.ft_token_sizes or DEFAULT_FT_TOKEN_SIZES
        return low <= len(token) <= high and all(
            ord(char) < 0x10000 and unicodedata.category(char) in _WORD_CATEGORIES for char in token
        )

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """``MATCH ... AGAINST`` in BOOLEAN MODE over the quoted tokens the FULLTEXT index holds, BM25-normalized.

        InnoDB's relevance already weights a word by how rare it is in the
        index (``tf * idf * idf``, ``idf = log10(entries / entries with the
        word)``, table-wide, as SQLite's FTS5 counts), so a frequent word does
        not tie with a rare one. What it lacks is BM25's length normalization:
        a short entry holding the rare word ranked with every long entry of
        the same word, newest first (W5: recall@5 0.87 without it, 0.97 with).
        The relevance is divided by ``1 + k1 * (1 - b + b * dl / avgdl)``
        (BM25's denominator at ``tf = 1``, FTS5's ``k1`` and ``b``), ``dl`` the
        entry's ``search_text`` length in bytes and ``avgdl`` its mean over the
        entries matched. Bytes rather than tokens: counting tokens scans every
        matched text (W5: 30% slower for the same recall). The entries are
        ranked on their key, timestamp and score only, and the best ``limit``
        read back by primary key, so no content is carried through the sort.

        Tokens the index cannot hold (shorter than ``innodb_ft_min_token_size``,
        3 by default: "my", "is", "i"; or not plain words to InnoDB's parser) are
        left out: they are nearly always everyday words, and keeping them meant
        ranking every entry of the user by ``LIKE``, which is what bounded this
        search (on the W5 set, 20,000 entries: about 8x slower, for recall@5
        0.905 instead of 0.881; ranking the FULLTEXT matches by ``LIKE`` hits
        did not win that back). Only when no token is indexable does the search
        rank by whole-token ``LIKE`` hits (the portable fallback), so a query
        such as "AI" or "東" still finds its entries.
        """
        words = [token for token in tokens if self.fts_token(token)]
        if not words:
            return self.fallback_search_stmt(app_name, user_id, tokens, limit, owner)
        # Each word is a double-quoted phrase; it holds letters and digits only, so nothing in it is syntax.
        against = " ".join(f'"{word}"' for word in words)
        relevance = "MATCH (search_text) AGAINST (? IN BOOLEAN MODE)"
        rank = f"score / (1 + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * dl / avgdl))"
        matched = (
            f"SELECT id, timestamp, {relevance} AS score, LENGTH(search_text) AS dl FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL AND {relevance}"
        )
        best = (
            f"SELECT id, timestamp, {rank} AS rank FROM (SELECT id, timestamp, score, dl, AVG(dl) OVER () AS avgdl "
            f"FROM ({matched}) matched) normed ORDER BY rank DESC, timestamp DESC, id {self.limit_sql}"
        )
        columns = ", ".join(
            self.json.select(f"m.{column}") if column in ("content_json", "custom_metadata") else f"m.{column}"
            for column in MEMORY_COLUMNS
        )
        sql = (
            f"SELECT {columns} FROM ({best}) best JOIN {self.memory_table} m ON m.id = best.id "
            "ORDER BY best.rank DESC, best.timestamp DESC, best.id"
        )
        return Stmt(sql, (against, *self.scope_params(app_name, user_id, owner), against, limit), Fetch.ALL)

    def search_memory(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Op[list[MemoryRecord]]:
        """Reads the server's full-text token sizes once per config, then searches.

        If the indexable tokens find nothing but the query also had tokens the
        index cannot hold, those are searched too, by whole-token ``LIKE``.
        """
        check_search_tokens(tokens)
        if self.memory_fts and tokens and self.ft_token_sizes is None:
            row = yield Stmt(FT_SIZES_SQL, (), Fetch.ONE)
            self.ft_token_sizes = (int(row[0]), int(row[1]))
        records = yield from super().search_memory(
            app_name=app_name, user_id=user_id, tokens=tokens, limit=limit, owner=owner
        )
        indexable = [self.fts_token(token) for token in tokens]
        if records or not self.memory_fts or all(indexable) or not any(indexable):
            return records  # found, or the first search already was the LIKE ranking
        rows = yield self.fallback_search_stmt(app_name, user_id, tokens, limit, owner)
        return [self.memory_record(row, app_name, user_id) for row in rows]


class MysqlArtifactSQL(MysqlCore, ArtifactSQL):
    """The portable artifact SQL; a version number taken concurrently is a duplicate key, counted as 0 rows."""

    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        check_key_lengths(app_name=key.app_name, user_id=key.user_id, session_id=key.scope, filename=key.filename)
        return (yield from super().save_artifact_version(key, write))


class MysqlDialect(MysqlCore, Dialect):
    """MySQL / MariaDB: READ COMMITTED writes, consistent-snapshot reads, row-locked state merges."""

    family: ClassVar[str] = "mysql"
    db_system: ClassVar[str] = "mysql"
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("START TRANSACTION",),
        begin_read=(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        ),
    )
    sessions_class = MysqlSessionSQL
    memory_class = MysqlMemorySQL
    artifacts_class = MysqlArtifactSQL
