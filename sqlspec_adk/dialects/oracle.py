"""Oracle family (19c and later): shared by the ``oracledb`` async and sync adapters (thin mode).

- Identifiers follow Oracle's rules: names are rendered upper case and quoted
  (``"ADK_SESSION"``), the same object an unquoted ``adk_session`` names, and
  constraints and indexes get explicit names within Oracle's 128-byte limit.
- State columns (session, app, user state, artifact and memory metadata) are
  native ``JSON`` on 21c and later, and ``CLOB ... CHECK (col IS JSON)`` on
  19c (see migrations v1): the adapter reports the server version of each
  connection it hands out (:meth:`OracleDialect.observe_server_version`).
  Event and memory content stay ``IS JSON`` checked CLOBs everywhere: they are
  read back whole as the text that was written, so bytes (base64), big
  integers and floats survive exactly. A native JSON value comes back decoded,
  its numbers as ``Decimal``; :class:`OracleJsonCodec` turns them into int or
  float.
- Timestamps are ``BINARY_DOUBLE``: IEEE doubles, so the float ADK hands us
  comes back bit for bit (a ``TIMESTAMP`` keeps microseconds only).
- Row limits are ``FETCH FIRST ? ROWS ONLY``; a SELECT without a table reads
  ``FROM dual``.
- Oracle has no ``ON CONFLICT``: inserts that must skip an existing key are
  ``MERGE ... WHEN NOT MATCHED`` (0 rows when the key exists), upserts are
  ``MERGE`` with both branches. A MERGE that loses an insert race to a
  concurrent transaction raises ORA-00001 for that row; Oracle rolls back only
  the statement, so the engine counts it as 0 rows (``duplicate_is_zero``),
  and a batch counts it per row.
- There is no ``CREATE ... IF NOT EXISTS`` before 23ai: DDL is plain, and the
  migration runner marks it ``exists_ok`` (the adapter classifies "name
  already used" on CREATE and "does not exist" on DROP). DDL commits
  implicitly in Oracle, so ``create_tables`` is not one transaction.
- Writes run in Oracle's implicit READ COMMITTED transaction, reads in ``SET
  TRANSACTION READ ONLY`` (one consistent snapshot). App/user state merges
  lock the row (``SELECT ... FOR UPDATE``) after making sure it exists, so
  concurrent writers lose nothing.
- Memory search is an Oracle Text ``CONTEXT`` index over ``search_text``,
  synchronized on commit, with an empty stoplist; queries are ``CONTAINS`` with
  every token in braces (Oracle Text's escape) joined by ``ACCUM`` and ranked by
  ``SCORE``. Tokens hold letters, digits and marks only, so none can close a brace.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.common import DialectCore, JsonCodec
from sqlspec_adk.dialects.memory import UPDATED_COLUMNS, MemorySQL
from sqlspec_adk.dialects.sessions import SessionSQL
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.settings import ADKConfig
from sqlspec_adk.vectors import vector_text

__all__ = ["READ_ONLY", "OracleDialect", "OracleJsonCodec", "plain_json"]

READ_ONLY = "SET TRANSACTION READ ONLY"


def plain_json(value: Any) -> Any:
    """A native JSON value with Oracle NUMBERs (``Decimal``) turned back into int or float."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
    return value


class OracleJsonCodec(JsonCodec):
    """JSON is bound as text; a CLOB comes back as that text, a native JSON column decoded (numbers fixed)."""

    def read(self, value: Any) -> Any:
        return plain_json(value) if isinstance(value, (dict, list)) else value


class OracleCore(DialectCore):
    sqlglot_name: ClassVar[str] = "oracle"
    upper_identifiers: ClassVar[bool] = True
    max_identifier: ClassVar[int] = 128
    json_codec_class: ClassVar[type[JsonCodec]] = OracleJsonCodec
    limit_sql: ClassVar[str] = "FETCH FIRST ? ROWS ONLY"
    no_table: ClassVar[str] = " FROM dual"
    insert_skip_raises: ClassVar[bool] = True

    def merge_sql(
        self, table: str, columns: Sequence[str], values: Sequence[str], keys: Sequence[str], update: Sequence[str] = ()
    ) -> str:
        """MERGE one row (``values[i]`` is the expression for ``columns[i]``): insert it, or update ``update``."""
        source = ", ".join(f"{value} AS {column}" for column, value in zip(columns, values, strict=True))
        on = " AND ".join(f"t.{key} = n.{key}" for key in keys)
        sql = f"MERGE INTO {table} t USING (SELECT {source}{self.no_table}) n ON ({on})"
        if update:
            sql += " WHEN MATCHED THEN UPDATE SET " + ", ".join(f"t.{column} = n.{column}" for column in update)
        names = ", ".join(columns)
        return f"{sql} WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({', '.join(f'n.{c}' for c in columns)})"

    def insert_skip_sql(self, table: str, columns: Sequence[str], values: Sequence[str], keys: Sequence[str]) -> str:
        """``MERGE ... WHEN NOT MATCHED``: 0 rows when the key exists; a lost race raises ORA-00001."""
        return self.merge_sql(table, columns, values, keys)


class OracleSessionSQL(OracleCore, SessionSQL):
    """Session SQL with row-locked app/user state merges."""

    def scoped_state_sql(self, scope: str) -> tuple[str, str, str]:
        """(create-if-absent MERGE, locking SELECT, UPDATE) for the app or user state row."""
        table, columns = self.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        names = [*columns, "state", "update_time"]
        values = ["?" for _ in columns] + [self.json.param, "?"]
        return (
            self.merge_sql(table, names, values, columns),
            f"SELECT state FROM {table} WHERE {where} FOR UPDATE",
            f"UPDATE {table} SET state = {self.json.param}, update_time = ? WHERE {where}",
        )

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Create the row if absent, lock it, merge ``delta`` (dict.update) and write it back."""
        ensure, lock, update = self.scoped_state_sql(scope)
        yield Stmt(ensure, (*keys, self.json.state({}), now), Fetch.ROWCOUNT, duplicate_is_zero=True)
        row = yield Stmt(lock, keys, Fetch.ONE)
        state = self.json.read_state(row[0]) if row else {}
        state.update(delta)
        yield Stmt(update, (self.json.state(state), now, *keys))
        return state

    def statements(self) -> list[str]:
        return [*super().statements(), *self.scoped_state_sql("app"), *self.scoped_state_sql("user")]


class OracleMemorySQL(OracleCore, MemorySQL):
    """MERGE upserts and Oracle Text search.

    Vectors: before 23ai a float32 ``BLOB`` (``embedding``) ranked by the store;
    on 23ai (``native_vector``, set from the server version like native JSON)
    a ``VECTOR(*, FLOAT32)`` column (``embedding_vector``, schema version 5),
    bound as array text through ``TO_VECTOR`` and ranked in SQL with
    ``VECTOR_DISTANCE(..., COSINE)``. The 23ai path has never run against a
    server here: it is checked by sqlglot and recorded statements only.
    """

    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig) -> None:
        super().__init__(adk)
        self._native_vector = False

    @property
    def native_vector(self) -> bool:
        """Oracle 23ai or later: the VECTOR column and VECTOR_DISTANCE (see the class docstring)."""
        return self._native_vector

    @native_vector.setter
    def native_vector(self, native: bool) -> None:
        self._native_vector = native
        self.vector_column = "embedding_vector" if native else "embedding"
        self.vector_placeholder = "TO_VECTOR(?, *, FLOAT32)" if native else "?"

    def vector_param(self, vector: Sequence[float] | None) -> Any:
        if vector is None or not self.native_vector:
            return super().vector_param(vector)
        return vector_text(vector, "[]")

    # Properties, not cached: they follow native_vector, which the first connection sets.
    @property
    def vector_write_columns(self) -> list[str]:
        return [self.vector_column, "vrev"]

    @property
    def vector_write_values(self) -> list[str]:
        return [self.vector_placeholder, "?"]

    @property
    def updated_columns(self) -> list[str]:
        return [*UPDATED_COLUMNS, *self.vector_write_columns]

    @property
    def set_vector_sql(self) -> str:
        return self.set_vector_text()

    def vector_ranking_op(self) -> Op[str]:
        yield from ()
        return "sql" if self.native_vector else "cache"

    def vector_search_stmt(
        self, app_name: str, user_id: str, vector: Sequence[float], limit: int, owner: Any = None
    ) -> Stmt:
        """23ai: exact nearest neighbours by ``VECTOR_DISTANCE`` (cosine) over the (app, user)'s entries."""
        distance = "VECTOR_DISTANCE(embedding_vector, TO_VECTOR(?, *, FLOAT32), COSINE)"
        sql = (
            f"SELECT {self.select_columns}, 1 - {distance} AS score FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL AND embedding_vector IS NOT NULL "
            f"ORDER BY {distance} {self.limit_sql}"
        )
        text = vector_text(vector, "[]")
        return Stmt(sql, (text, *self.scope_params(app_name, user_id, owner), text, limit), Fetch.ALL)

    def vector_statements(self) -> list[str]:
        texts = super().vector_statements()
        return [*texts, self.vector_search_stmt("a", "u", [1.0, 0.0], 1).sql]

    @property
    def upsert_columns(self) -> tuple[list[str], list[str]]:
        """(columns, value expressions) of one memory entry, in :meth:`upsert_params` order."""
        columns = [*self.insert_columns, "content_json", "custom_metadata", "search_text", *self.vector_write_columns]
        values = ["?" for _ in self.insert_columns] + [self.json.param, self.json.param, "?", *self.vector_write_values]
        return columns, values

    def upsert_sql(self, replace: bool) -> str:
        columns, values = self.upsert_columns
        keys = ("app_name", "user_id", "event_id")
        return self.merge_sql(self.memory_table, columns, values, keys, self.updated_columns if replace else ())

    # No RETURNING into a fetch here: a revision bump is create-if-absent, update (its row lock), read.
    returning_upsert: ClassVar[bool] = False

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        # Braces make Oracle Text read everything inside as one literal term; ACCUM ranks an entry
        # higher the more distinct tokens it matches.
        query = " ACCUM ".join("{" + token + "}" for token in tokens)
        sql = (
            f"SELECT {self.select_columns} FROM {self.memory_table} WHERE CONTAINS(search_text, ?, 1) > 0 "
            f"AND {self.scope_sql(owner)} AND content_json IS NOT NULL "
            f"ORDER BY SCORE(1) DESC, timestamp DESC, id {self.limit_sql}"
        )
        return Stmt(sql, (query, *self.scope_params(app_name, user_id, owner), limit), Fetch.ALL)


class OracleArtifactSQL(OracleCore, ArtifactSQL):
    """The portable artifact SQL with a MERGE skip-if-present insert."""


class OracleDialect(OracleCore, Dialect):
    """Oracle: implicit write transactions, read-only snapshots for reads."""

    family: ClassVar[str] = "oracle"
    db_system: ClassVar[str] = "oracle.db"
    rules: ClassVar[TransactionRules] = TransactionRules(begin_write=(), begin_read=(READ_ONLY,))
    # Every id column is VARCHAR2(256 CHAR) (migrations v1): a longer id is refused before any statement,
    # not by ORA-12899 inside the transaction.
    key_chars: ClassVar[int | None] = 256
    key_family: ClassVar[str] = "Oracle"
    sessions_class = OracleSessionSQL
    memory_class = OracleMemorySQL
    memory: OracleMemorySQL
    artifacts_class = OracleArtifactSQL

    def __init__(self, adk: ADKConfig) -> None:
        super().__init__(adk)
        #: Native JSON columns (21c and later); the adapter sets it from the server version.
        self.native_json = True

    def observe_server_version(self, version: str) -> None:
        """Record the server version (``connection.version``, e.g. ``"19.23.0.0.0"``) before its DDL renders."""
        self.native_json = int(version.split(".", 1)[0]) >= 21
        self.memory.native_vector = int(version.split(".", 1)[0]) >= 23
