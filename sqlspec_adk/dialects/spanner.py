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
  ``SEARCH`` cannot run in a read-write transaction; searches are reads, and
  reads run in a read-only snapshot (``BEGIN READ ONLY`` in :attr:`SpannerDialect.rules`).
- DDL is not transactional in Spanner; the adapter applies it through the
  schema API. Tables and indexes use ``IF NOT EXISTS``; the search index does
  not support it, so the migration runner marks it ``exists_ok`` and the
  adapter reports "duplicate name" as already there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import UPDATED_COLUMNS, MemorySQL
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import MemoryWrite

__all__ = ["READ_ONLY", "SpannerDialect"]

#: The command that opens a read-only snapshot (the adapter's; Spanner has no BEGIN statement).
READ_ONLY = "BEGIN READ ONLY"


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
        return (
            f"INSERT INTO {self.events_table} (app_name, user_id, session_id, seq, id, invocation_id, author, "
            "timestamp, event_data, commit_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, PENDING_COMMIT_TIMESTAMP())"
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

    def token_pattern(self, token: str) -> str:
        # GoogleSQL LIKE has no ESCAPE clause; backslash escapes. Tokens hold neither % nor _ anyway.
        escaped = "".join("\\" + char if char in "%_\\" else char for char in token)
        return f"% {escaped} %"

    def token_match_sql(self) -> str:
        return "search_text LIKE ?"

    def upsert_sql(self, replace: bool) -> str:
        """Insert one entry unless its row id (a digest of its unique key) exists; replacing goes through
        :attr:`memory_update_sql` first (see :meth:`add_memory_entries`)."""
        columns = [*self.insert_columns, "content_json", "custom_metadata", "search_text"]
        values = ["?" for _ in columns]
        return self.insert_skip_sql(self.memory_table, columns, values, ("id",))

    @cached_property
    def memory_update_sql(self) -> str:
        sets = ", ".join(f"{column} = ?" for column in UPDATED_COLUMNS)
        return f"UPDATE {self.memory_table} SET {sets} WHERE app_name = ? AND user_id = ? AND event_id = ?"

    def add_memory_entries(self, writes: Sequence[MemoryWrite], *, replace: bool) -> Op[None]:
        """Skip-if-present inserts; with ``replace`` the present rows are updated first."""
        if not writes:
            return
        if replace:
            rows = [
                (w.session_id, w.author, w.timestamp, w.content_json, w.custom_metadata_json, w.search_text, *keys)
                for w in writes
                for keys in [(w.app_name, w.user_id, w.event_id)]
            ]
            yield Stmt(self.memory_update_sql, rows, many=True)
        yield Stmt(self.upsert_sql(False), [self.upsert_params(w) for w in writes], many=True)

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        query = " OR ".join(f'"{token}"' for token in tokens)
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
    # An aborted transaction is Spanner's normal answer to contention (the emulator aborts every
    # concurrent read-write transaction but one), so it gets more runs than the default.
    rules: ClassVar[TransactionRules] = TransactionRules(
        begin_write=("BEGIN",), begin_read=(READ_ONLY,), retry_attempts=12, savepoints=False
    )
    sessions_class = SpannerSessionSQL
    memory_class = SpannerMemorySQL
    artifacts_class = SpannerArtifactSQL
