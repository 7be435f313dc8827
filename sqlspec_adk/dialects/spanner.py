"""Cloud Spanner family (GoogleSQL dialect): used by the ``spanner`` adapter.

- Keys avoid hotspots: no key or index starts with a timestamp or a counter.
  Sessions are keyed by (app, user, session id) with ADK's random session ids,
  events under their session by (app, user, session, seq), memory rows by a
  digest of their unique key. The timestamp-only retention indexes other
  families create are left out: in Spanner a monotonically increasing index
  key sends every write to one split, so retention scans the table instead.
- Events carry a Spanner commit timestamp (``commit_time``,
  ``PENDING_COMMIT_TIMESTAMP()``), the true commit order across writers;
  ``timestamp`` stays ADK's own float (FLOAT64, exact).
- JSON is kept as ``STRING(MAX)`` text: written and read back unchanged.
- Spanner has no ``ON CONFLICT``: skip-if-present inserts are
  ``INSERT ... SELECT ... WHERE NOT EXISTS``, upserts an UPDATE followed by
  such an insert. Read-write transactions are serializable with locking, so
  both, and the read-merge-write of app/user state, are exact.
- Memory search: a hidden ``TOKENLIST`` column (``TOKENIZE_FULLTEXT`` of the
  folded ``search_text``) under a search index, queried with ``SEARCH`` and
  ranked by ``SCORE``. Each token is a quoted rquery term joined with ``OR``;
  tokens hold letters, digits and marks only, so none can close its quote.
  ``SEARCH`` cannot run in a read-write transaction; searches are reads and
  run in a read-only snapshot.
- DDL is not transactional in Spanner; the adapter applies it through the
  schema API. Tables and indexes use ``IF NOT EXISTS``; the search index does
  not support it, so the adapter treats "duplicate name" as done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from google.adk.errors import StaleSessionError

from sqlspec_adk.converters import decode_state, encode_state
from sqlspec_adk.dialects.artifact_sql import _COLUMNS as ARTIFACT_COLUMNS
from sqlspec_adk.dialects.base import STALE_MESSAGE, BaseDialect
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS, MemoryWrite
from sqlspec_adk.protocol import Fetch, Op, Stmt, _split_outside_quotes

__all__ = ["DDL_VERBS", "SpannerDialect", "to_named_params"]

#: Statements the adapter sends through the schema API instead of a transaction.
DDL_VERBS = ("CREATE", "ALTER", "DROP")
_UPDATED = ("session_id", "author", "timestamp", "content_json", "custom_metadata", "search_text")


@lru_cache(maxsize=1024)
def to_named_params(sql: str) -> str:
    """Rewrite ``?`` placeholders as Spanner's ``@p1, @p2, ...``."""
    pieces = _split_outside_quotes(sql)
    return "".join(piece + (f"@p{index}" if index < len(pieces) else "") for index, piece in enumerate(pieces, start=1))


class SpannerDialect(BaseDialect):
    """Spanner GoogleSQL DDL and statements."""

    sqlglot_name: ClassVar[str] = "bigquery"  # sqlglot's GoogleSQL; it has no Spanner dialect
    key_type: ClassVar[str] = "STRING(MAX)"
    text_type: ClassVar[str] = "STRING(MAX)"
    json_type: ClassVar[str] = "STRING(MAX)"
    float_type: ClassVar[str] = "FLOAT64"
    int_type: ClassVar[str] = "INT64"
    bigint_type: ClassVar[str] = "INT64"
    has_fts: ClassVar[bool] = True

    # ------------------------------------------------------------------- DDL
    def _table(self, table: str, columns: Sequence[str], key: str, *constraints: str) -> str:
        body = ",\n  ".join([*columns, *constraints])
        return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) PRIMARY KEY ({key})"

    def _index(self, table: str, name: str, suffix: str, columns: str, unique: bool = False) -> str:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        return f"CREATE {kind} IF NOT EXISTS {self.index_name(name, suffix)} ON {table} ({columns})"

    def metadata_ddl(self) -> list[str]:
        columns = [f"meta_key {self.key_type} NOT NULL", f"meta_value {self.text_type} NOT NULL"]
        return [self._table(self.metadata_table, columns, "meta_key")]

    def session_ddl(self) -> list[str]:
        a, s, f = self.adk, self.text_type, self.float_type
        owner = [self.owner.ddl] if self.owner else []
        scope = [f"app_name {s} NOT NULL", f"user_id {s} NOT NULL"]
        state = [f"state {s} NOT NULL", f"update_time {f} NOT NULL"]
        session = [*scope, f"id {s} NOT NULL", *owner, *state, f"create_time {f} NOT NULL", "revision INT64 NOT NULL"]
        event = [*scope, f"session_id {s} NOT NULL", "seq INT64 NOT NULL", f"id {s} NOT NULL", f"invocation_id {s}"]
        event += [f"author {s}", f"timestamp {f} NOT NULL", f"event_data {s} NOT NULL"]
        event += ["commit_time TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = TRUE)"]
        session_fk = (
            f"CONSTRAINT {self.index_name(a.events_table, 'session_fk')} FOREIGN KEY (app_name, user_id, session_id) "
            f"REFERENCES {self.session_table} (app_name, user_id, id) ON DELETE CASCADE"
        )
        return [
            self._table(self.session_table, session, "app_name, user_id, id"),
            self._index(self.session_table, a.session_table, "list_idx", "app_name, user_id, update_time, id"),
            self._table(self.events_table, event, "app_name, user_id, session_id, seq", session_fk),
            self._index(self.events_table, a.events_table, "id_uq", "app_name, user_id, session_id, id", unique=True),
            self._table(self.app_state_table, [scope[0], *state], "app_name"),
            self._table(self.user_state_table, [*scope, *state], "app_name, user_id"),
        ]

    def memory_ddl(self) -> list[str]:
        name, s = self.adk.memory_table, self.text_type
        columns = [f"id {s} NOT NULL", f"app_name {s} NOT NULL", f"user_id {s} NOT NULL", f"session_id {s}"]
        columns += [f"event_id {s} NOT NULL", f"author {s}", f"timestamp {self.float_type} NOT NULL"]
        columns += [self.owner.ddl] if self.owner else []
        columns += [f"content_json {s}", f"custom_metadata {s}", f"search_text {s} NOT NULL"]
        statements = [
            self._table(self.memory_table, columns, "id"),
            self._index(self.memory_table, name, "event_uq", "app_name, user_id, event_id", unique=True),
            self._index(self.memory_table, name, "scope_idx", "app_name, user_id, timestamp"),
        ]
        return statements + (self.memory_fts_ddl() if self.memory_fts else [])

    @cached_property
    def memory_search_index(self) -> str:
        return self.index_name(self.adk.memory_table, "search_idx")

    def memory_fts_ddl(self) -> list[str]:
        return [
            f"ALTER TABLE {self.memory_table} ADD COLUMN IF NOT EXISTS search_tokens TOKENLIST "
            "AS (TOKENIZE_FULLTEXT(search_text)) HIDDEN",
            f"CREATE SEARCH INDEX {self.memory_search_index} ON {self.memory_table} (search_tokens)",
        ]

    def artifact_ddl(self) -> list[str]:
        s, i = self.text_type, self.int_type
        columns = [f"{column} {s} NOT NULL" for column in ("app_name", "user_id", "scope", "filename")]
        columns += [f"version {i} NOT NULL", f"kind {s} NOT NULL", f"mime_type {s}", f"display_name {s}"]
        columns += [f"canonical_uri {s} NOT NULL", f"custom_metadata {s} NOT NULL"]
        columns += [f"create_time {self.float_type} NOT NULL", f"size_bytes {i} NOT NULL", f"checksum {s} NOT NULL"]
        return [self._table(self.artifact_table, columns, "app_name, user_id, scope, filename, version")]

    def drop_tables(self) -> Op[None]:
        """Indexes first (Spanner refuses to drop an indexed table), then children before parents."""
        a = self.adk
        yield Stmt(f"DROP SEARCH INDEX IF EXISTS {self.memory_search_index}")
        for table, suffix in ((a.events_table, "id_uq"), (a.session_table, "list_idx")):
            yield Stmt(f"DROP INDEX IF EXISTS {self.index_name(table, suffix)}")
        for suffix in ("event_uq", "scope_idx"):
            yield Stmt(f"DROP INDEX IF EXISTS {self.index_name(a.memory_table, suffix)}")
        yield from super().drop_tables()

    def is_tolerated_ddl_error(self, sql: str, message: str) -> bool:
        """Whether a schema-API error on ``sql`` means the object is already there."""
        return sql.startswith("CREATE SEARCH INDEX") and "Duplicate name" in message

    # ------------------------------------------------------------ statements
    def insert_if_absent_sql(
        self, table: str, columns: Sequence[str], keys: Sequence[str], constants: Mapping[str, str] | None = None
    ) -> str:
        """Insert one row given as ``?`` per column unless its key exists (0 rows changed then)."""
        constants = dict(constants or {})
        source = ", ".join(f"? AS {column}" for column in columns)
        exists = " AND ".join(f"t.{key} = n.{key}" for key in keys)
        names = ", ".join([*columns, *constants])
        values = ", ".join([*(f"n.{column}" for column in columns), *constants.values()])
        return (
            f"INSERT INTO {table} ({names}) SELECT {values} FROM (SELECT {source}) AS n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {exists})"
        )

    @cached_property
    def insert_session_sql(self) -> str:
        owner = [self.owner.name] if self.owner else []
        columns = ["app_name", "user_id", "id", *owner, "state", "create_time", "update_time"]
        return self.insert_if_absent_sql(self.session_table, columns, ("app_name", "user_id", "id"), {"revision": "0"})

    @cached_property
    def insert_event_sql(self) -> str:
        return (
            f"INSERT INTO {self.events_table} (app_name, user_id, session_id, seq, id, invocation_id, author, "
            "timestamp, event_data, commit_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, PENDING_COMMIT_TIMESTAMP())"
        )

    def scoped_state_sql(self, scope: str) -> tuple[str, str, str]:
        """(SELECT, UPDATE, INSERT) of the app or user state row."""
        table, columns = self.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        names = ", ".join(columns)
        return (
            f"SELECT state FROM {table} WHERE {where}",
            f"UPDATE {table} SET state = ?, update_time = ? WHERE {where}",
            f"INSERT INTO {table} ({names}, state, update_time) VALUES ({', '.join('?' for _ in columns)}, ?, ?)",
        )

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Read, merge (dict.update) and write back; the read's lock makes concurrent writers serialize."""
        select, update, insert = self.scoped_state_sql(scope)
        row = yield Stmt(select, keys, Fetch.ONE)
        state = decode_state(row[0]) if row else {}
        state.update(delta)
        if row:
            yield Stmt(update, (encode_state(state), now, *keys))
        else:
            yield Stmt(insert, (*keys, encode_state(state), now))
        return state

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        app_filter = " AND app_name = ?" if app_name is not None else ""
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        yield Stmt(
            f"DELETE FROM {self.events_table} AS e WHERE EXISTS (SELECT 1 FROM {self.session_table} AS s "
            "WHERE s.app_name = e.app_name AND s.user_id = e.user_id AND s.id = e.session_id "
            f"AND s.update_time < ?{app_filter.replace('app_name', 's.app_name')})",
            params,
        )
        count: int = yield Stmt(
            f"DELETE FROM {self.session_table} WHERE update_time < ?{app_filter}", params, Fetch.ROWCOUNT
        )
        return count

    def replay_mismatch_error(self, stmt: Stmt) -> Exception | None:
        """The error to raise when a retried transaction reads something else at ``stmt`` (None: the abort itself).

        A changed session row means a concurrent append won: that is ADK's stale session.
        """
        if stmt.sql.startswith(f"SELECT revision, update_time, state FROM {self.session_table} "):
            return StaleSessionError(STALE_MESSAGE)
        return None

    # ---------------------------------------------------------------- memory
    def memory_token_pattern(self, token: str) -> str:
        # GoogleSQL LIKE has no ESCAPE clause; backslash escapes. Tokens hold neither % nor _ anyway.
        escaped = "".join("\\" + char if char in "%_\\" else char for char in token)
        return f"% {escaped} %"

    def memory_token_match_sql(self) -> str:
        return "search_text LIKE ?"

    @cached_property
    def memory_update_sql(self) -> str:
        sets = ", ".join(f"{column} = ?" for column in _UPDATED)
        return f"UPDATE {self.memory_table} SET {sets} WHERE app_name = ? AND user_id = ? AND event_id = ?"

    @cached_property
    def _memory_upsert_cache(self) -> dict[bool, str]:
        owner = [self.owner.name] if self.owner else []
        columns = ["id", "app_name", "user_id", "session_id", "event_id", "author", "timestamp", *owner]
        columns += ["content_json", "custom_metadata", "search_text"]
        insert = self.insert_if_absent_sql(self.memory_table, columns, ("id",))
        return {False: insert, True: insert}

    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Skip-if-present inserts; with ``replace`` the present rows are updated first."""
        if replace and writes:
            rows = [
                (w.session_id, w.author, w.timestamp, w.content_json, w.custom_metadata_json, w.search_text, *keys)
                for w in writes
                for keys in [(w.app_name, w.user_id, w.event_id)]
            ]
            yield Stmt(self.memory_update_sql, rows, many=True)
        yield from super().add_memory_entries(writes, replace=False)

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        query = " OR ".join(f'"{token}"' for token in tokens)
        sql = (
            f"SELECT {', '.join(MEMORY_COLUMNS)} FROM {self.memory_table} WHERE SEARCH(search_tokens, ?) "
            "AND app_name = ? AND user_id = ? AND content_json IS NOT NULL "
            "ORDER BY SCORE(search_tokens, ?) DESC, timestamp DESC, id LIMIT ?"
        )
        return Stmt(sql, (query, app_name, user_id, query, limit), Fetch.ALL)

    # ------------------------------------------------------------- artifacts
    @cached_property
    def artifact_insert_sql(self) -> str:
        columns = [column.strip() for column in ARTIFACT_COLUMNS.split(",")]
        return self.insert_if_absent_sql(self.artifact_table, columns, columns[:5])
