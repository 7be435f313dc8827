"""Cloud Spanner family (GoogleSQL dialect): used by the ``spanner`` adapter.

- Keys avoid hotspots: no key or index starts with a timestamp or a counter.
  Sessions are keyed by (app, user, session id) with ADK's random session ids,
  events under their session by (app, user, session, seq), memory rows by a
  digest of their unique key. The timestamp-only retention indexes other
  families create are left out (see migrations v1): in Spanner a
  monotonically increasing index key sends every write to one split, so
  retention scans the table instead.
- Events carry a Spanner commit timestamp (``commit_time``,
  ``PENDING_COMMIT_TIMESTAMP()``), the true commit order across writers;
  ``timestamp`` stays ADK's own float (FLOAT64, exact).
- JSON is kept as ``STRING(MAX)`` text: written and read back unchanged.
- Spanner has no ``ON CONFLICT``: skip-if-present inserts are
  ``INSERT ... SELECT ... WHERE NOT EXISTS``, upserts an UPDATE followed by
  such an insert. Read-write transactions are serializable with locking, so
  both, and the read-merge-write of app/user state, are exact; a conflict
  aborts one transaction, which the engine runs again from the start.
- Memory search: a hidden ``TOKENLIST`` column (``TOKENIZE_FULLTEXT`` of the
  folded ``search_text``) under a search index, queried with ``SEARCH`` and
  ranked by ``SCORE``. Each token is a quoted rquery term joined with ``OR``;
  tokens hold letters, digits and marks only, so none can close its quote.
  A token that is not plain ASCII letters and digits is stored and searched in
  an ASCII spelling (:func:`index_token`): the emulator's rquery parser accepts
  ASCII terms only, and so no Spanner tokenizer rule for other scripts decides
  what matches. The same spelling is used by the ``LIKE`` fallback.
  ``SEARCH`` cannot run in a read-write transaction; searches are reads, and
  reads run in a read-only snapshot (``BEGIN READ ONLY`` in :attr:`SpannerDialect.rules`).
- Spanner refuses a key over 8 KiB (a table's primary key, or an index
  entry: its columns plus the primary key's). The ids that make up a key are
  checked before any statement (:meth:`DialectCore.check_key`), so a long id is
  refused with a message, never by the database mid-transaction.
- DDL is not transactional in Spanner; the adapter applies it through the
  schema API. Tables and indexes use ``IF NOT EXISTS``; the search index does
  not support it, so the migration runner marks it ``exists_ok`` and the
  adapter reports "duplicate name" as already there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import MemoryWrite
from sqlspec_adk.vectors import Float32Array

__all__ = [
    "DATABASE_DIALECT",
    "READ_ONLY",
    "SpannerDialect",
    "KEY_BYTES",
    "check_googlesql_column",
    "database_dialect_op",
    "index_text",
    "index_token",
]

#: The command that opens a read-only snapshot (the adapter's; Spanner has no BEGIN statement).
READ_ONLY = "BEGIN READ ONLY"
#: The first letters of a token in its ASCII spelling; a plain token starting so is spelled out too.
SPELLED = "qx"
_NIBBLES = "abcdefghijklmnop"


#: The largest key Spanner stores, in bytes. A key's size, measured on the emulator: the UTF-8 bytes of
#: its strings plus 8 per number; one byte more is refused ("Number of bytes for key of index ...").
KEY_BYTES = 8192


#: GoogleSQL's column types (the word that starts a column's type).
GOOGLESQL_TYPES = frozenset(
    {"ARRAY", "BOOL", "BYTES", "DATE", "ENUM", "FLOAT32", "FLOAT64", "INT64", "INTERVAL", "JSON", "NUMERIC"}
    | {"PROTO", "STRING", "TIMESTAMP", "UUID"}
)
#: What other SQL families' type names are called in GoogleSQL, for the error message.
_GOOGLESQL_NAMES = {
    **dict.fromkeys(("INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "SERIAL", "BIGSERIAL"), "INT64"),
    **dict.fromkeys(("TEXT", "VARCHAR", "CHAR", "CHARACTER", "NVARCHAR", "VARCHAR2"), "STRING(MAX)"),
    **dict.fromkeys(("DOUBLE", "FLOAT", "REAL"), "FLOAT64"),
    "DECIMAL": "NUMERIC",
    "BOOLEAN": "BOOL",
    "BLOB": "BYTES(MAX)",
    "BYTEA": "BYTES(MAX)",
}
_TYPE_WORD = re.compile(r"\s*\S+\s+([A-Za-z_][A-Za-z0-9_]*)")


def check_googlesql_column(ddl: str, key: str = "owner_id_column") -> None:
    """Refuse a column definition whose type GoogleSQL does not have (it goes into the DDL as written).

    The adapter's config calls it at construction; the dialect itself renders any column as written,
    as the frozen version 1 DDL does for every option set."""
    found = _TYPE_WORD.match(ddl)
    word = found.group(1).upper() if found else ""
    if word not in GOOGLESQL_TYPES:
        hint = f" (GoogleSQL calls it {_GOOGLESQL_NAMES[word]})" if word in _GOOGLESQL_NAMES else ""
        raise ConfigError(
            f"extension_config['adk'][{key!r}] = {ddl!r}: Spanner has no column type {word or ddl!r}{hint}; "
            f"write the column in GoogleSQL, e.g. 'tenant_id INT64' or 'tenant_id STRING(64) NOT NULL'"
        )


#: The database's SQL dialect (``GOOGLE_STANDARD_SQL`` or ``POSTGRESQL``); valid text in both dialects.
DATABASE_DIALECT = "SELECT option_value FROM information_schema.database_options WHERE option_name = 'database_dialect'"


def database_dialect_op() -> Op[None]:
    """Refuse a database of Spanner's PostgreSQL dialect: every statement here is GoogleSQL."""
    row = yield Stmt(DATABASE_DIALECT, (), Fetch.ONE)
    found = str(row[0]) if row else "GOOGLE_STANDARD_SQL"
    if found != "GOOGLE_STANDARD_SQL":
        raise ConfigError(
            f"this Spanner database uses the {found} dialect; sqlspec-adk's spanner adapter needs a GoogleSQL "
            "database (database_dialect GOOGLE_STANDARD_SQL, the default when a database is created)"
        )


def index_token(token: str) -> str:
    """``token`` as the search index holds it: itself when plain ASCII letters and digits, else
    :data:`SPELLED` and its UTF-8 bytes as letters (two per byte). One-to-one, letters only."""
    if token.isascii() and token.isalnum() and not token.startswith(SPELLED):
        return token
    return SPELLED + "".join(_NIBBLES[byte >> 4] + _NIBBLES[byte & 15] for byte in token.encode("utf-8"))


def index_text(search_text: str) -> str:
    """A stored ``search_text`` (tokens joined by spaces, padded) with every token in its index spelling."""
    tokens = search_text.split()
    return f" {' '.join(index_token(token) for token in tokens)} " if tokens else search_text


class SpannerCore(DialectCore):
    sqlglot_name: ClassVar[str] = "bigquery"  # sqlglot's GoogleSQL; it has no Spanner dialect

    def insert_skip_sql(self, table: str, columns: Sequence[str], values: Sequence[str], keys: Sequence[str]) -> str:
        """``INSERT ... SELECT ... WHERE NOT EXISTS``: 0 rows when the key exists (``values[i]`` for ``columns[i]``)."""
        source = ", ".join(f"{value} AS {column}" for column, value in zip(columns, values, strict=True))
        exists = " AND ".join(f"t.{key} = n.{key}" for key in keys)
        names = ", ".join(columns)
        return (
            f"INSERT INTO {table} ({names}) SELECT {', '.join(f'n.{c}' for c in columns)} FROM (SELECT {source}) AS n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {exists})"
        )


class SpannerSessionSQL(SpannerCore, SessionSQL):
    """Session SQL: commit-timestamped events, read-merge-write state in a locking transaction."""

    @cached_property
    def insert_event_sql(self) -> str:
        """The portable event insert (:meth:`event_params`) plus the commit timestamp."""
        return (
            f"INSERT INTO {self.events_table} (app_name, user_id, session_id, seq, id, invocation_id, author, "
            "timestamp, event_data, compaction, commit_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, PENDING_COMMIT_TIMESTAMP())"
        )

    def idle_events_sql(self, *, by_app: bool) -> str:
        """Delete the events of sessions not updated since ``?`` (and of app ``?``): EXISTS, not a row IN."""
        return (
            f"DELETE FROM {self.events_table} AS e WHERE EXISTS (SELECT 1 FROM {self.session_table} AS s "
            "WHERE s.app_name = e.app_name AND s.user_id = e.user_id AND s.id = e.session_id "
            "AND s.update_time < ?" + (" AND s.app_name = ?)" if by_app else ")")
        )

    def scoped_state_sql(self, scope: str) -> tuple[str, str, str]:
        """(SELECT, UPDATE, INSERT) of the app or user state row."""
        table, columns = self.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        marks = ", ".join("?" for _ in columns)
        return (
            f"SELECT state FROM {table} WHERE {where}",
            f"UPDATE {table} SET state = ?, update_time = ? WHERE {where}",
            f"INSERT INTO {table} ({', '.join(columns)}, state, update_time) VALUES ({marks}, ?, ?)",
        )

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Read, merge (dict.update) and write back; the read's lock makes concurrent writers serialize."""
        select, update, insert = self.scoped_state_sql(scope)
        row = yield Stmt(select, keys, Fetch.ONE)
        state = self.json.read_state(row[0]) if row else {}
        state.update(delta)
        if row:
            yield Stmt(update, (self.json.state(state), now, *keys))
        else:
            yield Stmt(insert, (*keys, self.json.state(state), now))
        return state

    def statements(self) -> list[str]:
        return [*super().statements(), *self.scoped_state_sql("app"), *self.scoped_state_sql("user")]


class SpannerMemorySQL(SpannerCore, MemorySQL):
    """Skip-if-present inserts by row id, UPDATE-then-insert upserts, SEARCH/SCORE full-text search."""

    has_fts: ClassVar[bool] = True
    key_row_id_bytes: ClassVar[int] = 32  # memory_row_id: 32 hex digits, in every index key
    # Vectors: ``embedding ARRAY<FLOAT32>`` (schema version 2), bound typed (Float32Array: an untyped float
    # list is ARRAY<FLOAT64> here, which the column refuses) and ranked in SQL by COSINE_DISTANCE, exact
    # (no vector index: that needs a fixed vector_length). No revisions: nothing caches Spanner's vectors.
    vector_ranking: ClassVar[str] = "sql"
    revisions: ClassVar[bool] = False

    def vector_param(self, vector: Sequence[float] | None) -> Any:
        return Float32Array(None if vector is None else tuple(float(value) for value in vector))

    def vector_search_stmt(
        self, app_name: str, user_id: str, vector: Sequence[float], limit: int, owner: Any = None
    ) -> Stmt:
        """The nearest live entries by cosine; vectors of another length (a reembed under way) are left out."""
        distance = "COSINE_DISTANCE(embedding, ?)"
        sql = (
            f"SELECT {self.select_columns}, 1 - {distance} AS score FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL AND embedding IS NOT NULL "
            f"AND ARRAY_LENGTH(embedding) = ? ORDER BY {distance}, timestamp DESC, id {self.limit_sql}"
        )
        query = self.vector_param(vector)
        params = (query, *self.scope_params(app_name, user_id, owner), len(vector), query, limit)
        return Stmt(sql, params, Fetch.ALL)

    def token_pattern(self, token: str) -> str:
        # In its index spelling a token is letters and digits only: nothing in it is a LIKE wildcard.
        return f"% {index_token(token)} %"

    def upsert_params(self, write: MemoryWrite, revision: int | None = None) -> tuple[Any, ...]:
        """The portable parameters, with ``search_text`` in its index spelling (:func:`index_text`)."""
        *params, text, vector = super().upsert_params(write, revision)
        return (*params, index_text(text), vector)

    def token_match_sql(self) -> str:
        return "search_text LIKE ?"

    def upsert_sql(self, replace: bool) -> str:
        """Insert one entry unless its row id (a digest of its unique key) exists; replacing goes through
        :attr:`memory_update_sql` first (see :meth:`add_memory_entries`)."""
        columns = [*self.insert_columns, "content_json", "custom_metadata", "search_text", *self.vector_write_columns]
        values = ["?" for _ in columns]
        return self.insert_skip_sql(self.memory_table, columns, values, ("id",))

    @cached_property
    def memory_update_sql(self) -> str:
        sets = ", ".join(f"{column} = ?" for column in self.updated_columns)
        return f"UPDATE {self.memory_table} SET {sets} WHERE app_name = ? AND user_id = ? AND event_id = ?"

    def memory_update_params(self, w: MemoryWrite) -> tuple[Any, ...]:
        """The parameters of :attr:`memory_update_sql` for one entry."""
        content = (w.session_id, w.author, w.timestamp, w.content_json, w.custom_metadata_json)
        vector = self.vector_write_params(w.embedding, None)
        return (*content, index_text(w.search_text), *vector, w.app_name, w.user_id, w.event_id)

    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Skip-if-present inserts; with ``replace`` the present rows are updated first."""
        if not writes:
            return
        self.check_memory_keys(writes)
        if replace:
            rows = [self.memory_update_params(w) for w in writes]
            yield Stmt(self.memory_update_sql, rows, many=True)
        yield Stmt(self.upsert_sql(False), [self.upsert_params(w) for w in writes], many=True)

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        query = " OR ".join(f'"{index_token(token)}"' for token in tokens)
        sql = (
            f"SELECT {self.select_columns} FROM {self.memory_table} WHERE SEARCH(search_tokens, ?) "
            f"AND {self.scope_sql(owner)} AND content_json IS NOT NULL "
            f"ORDER BY SCORE(search_tokens, ?) DESC, timestamp DESC, id {self.limit_sql}"
        )
        return Stmt(sql, (query, *self.scope_params(app_name, user_id, owner), query, limit), Fetch.ALL)

    def statements(self) -> list[str]:
        return [*super().statements(), self.memory_update_sql]


class SpannerArtifactSQL(SpannerCore, ArtifactSQL):
    """The portable artifact SQL with an ``INSERT ... WHERE NOT EXISTS`` skip-if-present insert."""


class SpannerDialect(SpannerCore, Dialect):
    """Spanner: serializable read-write transactions (aborted ones retried), read-only snapshots for reads."""

    family: ClassVar[str] = "spanner"
    db_system: ClassVar[str] = "gcp.spanner"
    # An aborted transaction is Spanner's normal answer to contention, so it gets more runs than the
    # default (the client library's own retry loop runs for up to 120 s). The emulator runs one read-write
    # transaction at a time and aborts the others; measured there (32 writers appending at once to one
    # database, shared user:/app: keys), the slowest append needed 15 to 21 runs, with 48 writers over 32.
    # 32 runs wait at most about 20 s in backoff.
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("BEGIN",), begin_read=(READ_ONLY,), retry_attempts=32, savepoints=False
    )
    key_limit: ClassVar[int | None] = KEY_BYTES
    key_family: ClassVar[str] = "Spanner"
    sessions_class = SpannerSessionSQL
    memory_class = SpannerMemorySQL
    artifacts_class = SpannerArtifactSQL
