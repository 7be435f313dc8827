"""Oracle family (19c and later): shared by the ``oracledb`` async and sync adapters (thin mode).

- Identifiers follow Oracle's rules: names are rendered upper case and quoted
  (``"ADK_SESSION"``), the same object an unquoted ``adk_session`` names, and
  constraints and indexes get explicit names within Oracle's 128-byte limit.
- State columns (session, app, user state, artifact and memory metadata) are
  native ``JSON`` on 21c and later, and ``CLOB ... CHECK (col IS JSON)`` on
  19c; the adapter tells the dialect the server version on its first
  connection, before any DDL is rendered. Event and memory content stay
  ``IS JSON`` checked CLOBs everywhere: they are read back whole as the text
  that was written, so bytes (base64), big integers and floats survive exactly.
- Timestamps are ``BINARY_DOUBLE``: IEEE doubles, so the float ADK hands us
  comes back bit for bit (a ``TIMESTAMP`` keeps microseconds only).
- Oracle has no ``ON CONFLICT``: inserts that must skip an existing key are
  ``MERGE ... WHEN NOT MATCHED`` (0 rows when the key exists), upserts are
  ``MERGE`` with both branches. A MERGE that loses an insert race to a
  concurrent transaction raises ORA-00001, which the adapter reports as 0 rows
  changed (:meth:`OracleDialect.conflict_is_no_change`).
- There is no ``CREATE ... IF NOT EXISTS`` before 23ai: DDL is plain, and the
  adapter treats "name already used" on CREATE and "does not exist" on DROP as
  done (:meth:`OracleDialect.ignorable_error`). DDL commits implicitly in
  Oracle, so ``create_tables`` is not one transaction.
- App/user state merges lock the row (``SELECT ... FOR UPDATE``) after making
  sure it exists, so concurrent writers under READ COMMITTED lose nothing.
- Memory search is an Oracle Text ``CONTEXT`` index over ``search_text``,
  synchronized on commit, with an empty stoplist; queries are ``CONTAINS`` with
  every token in braces (Oracle Text's escape) joined by ``ACCUM`` and ranked by
  ``SCORE``. Tokens hold letters, digits and marks only, so none can close a brace.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from sqlspec_adk.config import ADKConfig
from sqlspec_adk.converters import decode_state, encode_state
from sqlspec_adk.dialects.artifact_sql import _COLUMNS as ARTIFACT_COLUMNS
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS
from sqlspec_adk.identifiers import quote_identifier
from sqlspec_adk.protocol import Fetch, Op, Stmt, _split_outside_quotes

__all__ = ["OracleDialect", "clob_positions", "plain_json", "to_colon_params"]

_LIMIT = " FETCH FIRST ? ROWS ONLY"
#: ORA- codes meaning a CREATE found its object already there, or a DROP found nothing.
_EXISTS_CODES = frozenset({955, 1408, 2260, 2261, 2275})
_MISSING_CODES = frozenset({942, 1418})
#: Bind strings longer than this many characters as CLOB (VARCHAR2 binds stop at 32767 bytes).
CLOB_BIND_CHARS = 8000
READ_ONLY = "SET TRANSACTION READ ONLY"


@lru_cache(maxsize=1024)
def to_colon_params(sql: str) -> str:
    """Rewrite ``?`` placeholders as Oracle's positional ``:1, :2, ...``."""
    pieces = _split_outside_quotes(sql)
    return "".join(piece + (f":{index}" if index < len(pieces) else "") for index, piece in enumerate(pieces, start=1))


def clob_positions(rows: Sequence[Sequence[Any]]) -> list[int]:
    """Positions of parameters holding long text in any row: they are bound as CLOB."""
    return sorted({i for row in rows for i, v in enumerate(row) if isinstance(v, str) and len(v) > CLOB_BIND_CHARS})


def plain_json(value: Any) -> Any:
    """A native JSON value with Oracle NUMBERs (``Decimal``) turned back into int or float."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
    return value


class OracleDialect(BaseDialect):
    """Oracle DDL, MERGE upserts, locked state merges and Oracle Text search."""

    sqlglot_name: ClassVar[str] = "oracle"
    key_type: ClassVar[str] = "VARCHAR2(256 CHAR)"
    text_type: ClassVar[str] = "VARCHAR2(4000)"
    json_type: ClassVar[str] = "JSON"
    float_type: ClassVar[str] = "BINARY_DOUBLE"
    int_type: ClassVar[str] = "NUMBER(10)"
    bigint_type: ClassVar[str] = "NUMBER(19)"
    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig) -> None:
        super().__init__(adk)
        #: Native JSON columns (21c and later); the adapter sets it from the server version.
        self.native_json = True

    def observe_server_version(self, version: str) -> None:
        """Record the server version (``connection.version``, e.g. ``"19.23.0.0.0"``) before any DDL runs."""
        self.native_json = int(version.split(".", 1)[0]) >= 21

    # ----------------------------------------------------------------- names
    def table(self, name: str) -> str:
        quoted = quote_identifier(name.upper(), self.sqlglot_name)
        return f"{quote_identifier(self.adk.schema.upper(), self.sqlglot_name)}.{quoted}" if self.adk.schema else quoted

    def index_name(self, table: str, suffix: str) -> str:
        return quote_identifier(f"{table}_{suffix}".upper()[:128], self.sqlglot_name)

    # ------------------------------------------------------------------- DDL
    def state_column(self, name: str, *, nullable: bool = False) -> str:
        kind = "JSON" if self.native_json else f"CLOB CHECK ({name} IS JSON)"
        return f"{name} {kind}{'' if nullable else ' NOT NULL'}"

    def _table_ddl(self, table: str, name: str, columns: Sequence[str], key: str, *extra: str) -> str:
        constraints = [f"CONSTRAINT {self.index_name(name, 'pk')} PRIMARY KEY ({key})", *extra]
        return f"CREATE TABLE {table} (\n  " + ",\n  ".join([*columns, *constraints]) + "\n)"

    def _index_ddl(self, table: str, name: str, suffix: str, columns: str) -> str:
        return f"CREATE INDEX {self.index_name(name, suffix)} ON {table} ({columns})"

    def metadata_ddl(self) -> list[str]:
        columns = [f"meta_key {self.key_type} NOT NULL", f"meta_value {self.text_type} NOT NULL"]
        return [self._table_ddl(self.metadata_table, self.adk.metadata_table, columns, "meta_key")]

    def session_ddl(self) -> list[str]:
        a, k, f, b = self.adk, self.key_type, self.float_type, self.bigint_type
        owner = [self.owner.ddl] if self.owner else []
        scope = [f"app_name {k} NOT NULL", f"user_id {k} NOT NULL"]
        state = [self.state_column("state"), f"update_time {f} NOT NULL"]
        session = [
            *scope,
            f"id {k} NOT NULL",
            *owner,
            *state,
            f"create_time {f} NOT NULL",
            f"revision {b} DEFAULT 0 NOT NULL",
        ]
        event = [*scope, f"session_id {k} NOT NULL", f"seq {b} NOT NULL", f"id {k} NOT NULL"]
        event += [f"invocation_id {self.text_type}", f"author {self.text_type}", f"timestamp {f} NOT NULL"]
        event += ["event_data CLOB CHECK (event_data IS JSON) NOT NULL"]
        session_fk = (
            f"CONSTRAINT {self.index_name(a.events_table, 'session_fk')} FOREIGN KEY (app_name, user_id, session_id) "
            f"REFERENCES {self.session_table} (app_name, user_id, id) ON DELETE CASCADE"
        )
        event_uq = f"CONSTRAINT {self.index_name(a.events_table, 'id_uq')} UNIQUE (app_name, user_id, session_id, id)"
        return [
            self._table_ddl(self.session_table, a.session_table, session, "app_name, user_id, id"),
            self._index_ddl(self.session_table, a.session_table, "list_idx", "app_name, user_id, update_time, id"),
            self._index_ddl(self.session_table, a.session_table, "update_idx", "update_time"),
            self._table_ddl(
                self.events_table, a.events_table, event, "app_name, user_id, session_id, seq", event_uq, session_fk
            ),
            self._index_ddl(self.events_table, a.events_table, "time_idx", "timestamp"),
            self._table_ddl(self.app_state_table, a.app_state_table, [scope[0], *state], "app_name"),
            self._table_ddl(self.user_state_table, a.user_state_table, [*scope, *state], "app_name, user_id"),
        ]

    def memory_ddl(self) -> list[str]:
        name, k, t = self.adk.memory_table, self.key_type, self.text_type
        columns = [f"id {k} NOT NULL", f"app_name {k} NOT NULL", f"user_id {k} NOT NULL", f"session_id {k}"]
        columns += [f"event_id {k} NOT NULL", f"author {t}", f"timestamp {self.float_type} NOT NULL"]
        columns += [self.owner.ddl] if self.owner else []
        columns += [
            "content_json CLOB CHECK (content_json IS JSON)",
            self.state_column("custom_metadata", nullable=True),
        ]
        columns += ["search_text CLOB NOT NULL"]
        unique = f"CONSTRAINT {self.index_name(name, 'event_uq')} UNIQUE (app_name, user_id, event_id)"
        statements = [
            self._table_ddl(self.memory_table, name, columns, "id", unique),
            self._index_ddl(self.memory_table, name, "scope_idx", "app_name, user_id, timestamp"),
        ]
        return statements + (self.memory_fts_ddl() if self.memory_fts else [])

    def memory_fts_ddl(self) -> list[str]:
        return [
            f"CREATE INDEX {self.index_name(self.adk.memory_table, 'fts_idx')} ON {self.memory_table} (search_text) "
            "INDEXTYPE IS CTXSYS.CONTEXT PARAMETERS ('STOPLIST CTXSYS.EMPTY_STOPLIST SYNC (ON COMMIT)')"
        ]

    def artifact_ddl(self) -> list[str]:
        name, k, t, b = self.adk.artifact_table, self.key_type, self.text_type, self.bigint_type
        columns = [f"{column} {k} NOT NULL" for column in ("app_name", "user_id", "scope", "filename")]
        columns += [f"version {b} NOT NULL", f"kind {t} NOT NULL", f"mime_type {t}", f"display_name {t}"]
        columns += [f"canonical_uri {t} NOT NULL", self.state_column("custom_metadata")]
        columns += [f"create_time {self.float_type} NOT NULL", f"size_bytes {b} NOT NULL", f"checksum {t} NOT NULL"]
        return [
            self._table_ddl(self.artifact_table, name, columns, "app_name, user_id, scope, filename, version"),
            self._index_ddl(self.artifact_table, name, "time_idx", "create_time"),
        ]

    def drop_table_sql(self, table: str) -> str:
        return f"DROP TABLE {table} CASCADE CONSTRAINTS PURGE"

    def ignorable_error(self, sql: str, code: int) -> bool:
        """Whether ORA-``code`` from ``sql`` means the DDL's work is already done."""
        verb = sql.lstrip()[:6].upper()
        return (verb == "CREATE" and code in _EXISTS_CODES) or (verb == "DROP T" and code in _MISSING_CODES)

    def conflict_is_no_change(self, sql: str) -> bool:
        """Whether a unique-key violation (ORA-00001) of ``sql`` means "nothing inserted" (a skip-if-present MERGE)."""
        return sql.startswith("MERGE") and "WHEN MATCHED" not in sql

    # ------------------------------------------------------------ statements
    def merge_sql(
        self,
        table: str,
        columns: Sequence[str],
        keys: Sequence[str],
        *,
        update: Sequence[str] = (),
        constants: Mapping[str, str] | None = None,
    ) -> str:
        """MERGE one row given as ``?`` per column (in ``columns`` order): insert it, or update ``update`` columns."""
        source = ", ".join(f"? AS {column}" for column in columns)
        on = " AND ".join(f"t.{key} = n.{key}" for key in keys)
        sql = f"MERGE INTO {table} t USING (SELECT {source} FROM dual) n ON ({on})"
        if update:
            sql += " WHEN MATCHED THEN UPDATE SET " + ", ".join(f"t.{column} = n.{column}" for column in update)
        constants = dict(constants or {})
        names = ", ".join([*columns, *constants])
        values = ", ".join([*(f"n.{column}" for column in columns), *constants.values()])
        return f"{sql} WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"

    @cached_property
    def insert_session_sql(self) -> str:
        owner = [self.owner.name] if self.owner else []
        columns = ["app_name", "user_id", "id", *owner, "state", "create_time", "update_time"]
        return self.merge_sql(self.session_table, columns, ("app_name", "user_id", "id"), constants={"revision": "0"})

    @cached_property
    def select_scoped_state_sql(self) -> str:
        return super().select_scoped_state_sql + " FROM dual"

    @cached_property
    def _events_sql_cache(self) -> dict[tuple[bool, bool], str]:
        return {key: sql.replace(" LIMIT ?", _LIMIT) for key, sql in super()._events_sql_cache.items()}

    def list_sessions_sql(self, *, by_user: bool, after: bool, limit: bool) -> str:
        return super().list_sessions_sql(by_user=by_user, after=after, limit=limit).replace(" LIMIT ?", _LIMIT)

    def scoped_state_sql(self, scope: str) -> tuple[str, str, str]:
        """(create-if-absent MERGE, locking SELECT, UPDATE) for the app or user state row."""
        table, columns = self.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        return (
            self.merge_sql(table, [*columns, "state", "update_time"], columns),
            f"SELECT state FROM {table} WHERE {where} FOR UPDATE",
            f"UPDATE {table} SET state = ?, update_time = ? WHERE {where}",
        )

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Create the row if absent, lock it, merge ``delta`` (dict.update) and write it back."""
        ensure, lock, update = self.scoped_state_sql(scope)
        yield Stmt(ensure, (*keys, "{}", now), Fetch.ROWCOUNT)
        row = yield Stmt(lock, keys, Fetch.ONE)
        state = decode_state(row[0]) if row else {}
        state.update(delta)
        yield Stmt(update, (encode_state(state), now, *keys))
        return state

    # ---------------------------------------------------------------- memory
    def memory_limit_sql(self) -> str:
        return _LIMIT.strip()

    @cached_property
    def _memory_upsert_cache(self) -> dict[bool, str]:
        owner = [self.owner.name] if self.owner else []
        columns = ["id", "app_name", "user_id", "session_id", "event_id", "author", "timestamp", *owner]
        columns += ["content_json", "custom_metadata", "search_text"]
        keys = ("app_name", "user_id", "event_id")
        updated = ("session_id", "author", "timestamp", "content_json", "custom_metadata", "search_text")
        return {
            False: self.merge_sql(self.memory_table, columns, keys),
            True: self.merge_sql(self.memory_table, columns, keys, update=updated),
        }

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        # Braces make Oracle Text read everything inside as one literal term; ACCUM ranks an entry
        # higher the more distinct tokens it matches.
        query = " ACCUM ".join("{" + token + "}" for token in tokens)
        sql = (
            f"SELECT {', '.join(MEMORY_COLUMNS)} FROM {self.memory_table} WHERE CONTAINS(search_text, ?, 1) > 0 "
            "AND app_name = ? AND user_id = ? AND content_json IS NOT NULL "
            f"ORDER BY SCORE(1) DESC, timestamp DESC, id{_LIMIT}"
        )
        return Stmt(sql, (query, app_name, user_id, limit), Fetch.ALL)

    # ------------------------------------------------------------- artifacts
    @cached_property
    def artifact_insert_sql(self) -> str:
        columns = [column.strip() for column in ARTIFACT_COLUMNS.split(",")]
        return self.merge_sql(self.artifact_table, columns, columns[:5])

    def statements(self) -> Iterator[str]:
        yield from super().statements()
        for scope in ("app", "user"):
            yield from self.scoped_state_sql(scope)
