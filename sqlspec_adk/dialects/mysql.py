"""MySQL 8 / MariaDB 10.11 family: shared by ``aiomysql``, ``asyncmy``, ``pymysql`` and ``mysql-connector``.

- Tables are InnoDB, ``utf8mb4`` throughout, ``ROW_FORMAT=DYNAMIC`` (3072-byte
  index keys); indexes are declared inside ``CREATE TABLE IF NOT EXISTS``
  (MySQL 8 has no ``CREATE INDEX IF NOT EXISTS``), so the DDL is idempotent.
- Key columns compare byte for byte, without trailing-space padding: MariaDB
  gets ``utf8mb4_nopad_bin`` and MySQL 8.0.17+ ``utf8mb4_0900_bin`` through
  version comments (``/*M!...*/`` runs on MariaDB only, ``/*!80017 ...*/`` on
  MySQL only); any other server falls back to the table's ``utf8mb4_bin``.
  ``'a'``, ``'A'``, ``'á'`` and ``'a '`` are four different ids.
- State columns are ``JSON`` with a ``JSON_VALID`` check (on MariaDB ``JSON``
  is ``LONGTEXT``); event and memory content are ``LONGTEXT`` with the same
  check, so their text comes back byte for byte (MySQL's binary JSON would
  reorder keys and reprint numbers).
- Timestamps are ``DOUBLE``: the float ADK hands us comes back bit for bit, so
  no time-zone or precision mismatch can make a fresh session look stale.
- Writes run at READ COMMITTED (no gap locks), reads in a consistent
  REPEATABLE READ snapshot; see :mod:`sqlspec_adk.adapters._mysql`. Rows a
  write changes are locked in one order (session, app state, user state), and
  app/user state is merged under ``SELECT ... FOR UPDATE`` after the row is
  created if missing, so concurrent writers lose nothing. Write operations are
  :class:`Replayable`: on a deadlock or lock wait timeout the adapter rolls
  back and runs a fresh copy of the operation (bounded).
- A duplicate key on an ``INSERT`` run for its row count counts as zero rows
  (the ``ON CONFLICT DO NOTHING`` contract of the other families); every other
  duplicate key is the driver's own integrity error.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar, ParamSpec, TypeVar

from sqlspec_adk.config import ADKConfig
from sqlspec_adk.converters import decode_state, encode_state
from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactSQL
from sqlspec_adk.dialects.base import BaseDialect, EventWrite
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS, MemorySQL, MemoryWrite
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord

__all__ = ["KEY_LENGTHS", "MysqlDialect", "Replayable"]

T = TypeVar("T")
P = ParamSpec("P")

#: Characters each key column holds. Every index stays within InnoDB's
#: 3072-byte key limit at 4 bytes per utf8mb4 character.
KEY_LENGTHS: dict[str, int] = {
    "app_name": 128,
    "user_id": 255,
    "session_id": 128,
    "event_id": 128,
    "memory_id": 64,
    "filename": 1024,
}
#: Exact (binary, no-pad) collation on MariaDB and MySQL 8.0.17+; see the module docstring.
KEY_COLLATION = "/*M!100202 COLLATE utf8mb4_nopad_bin */ /*!80017 COLLATE utf8mb4_0900_bin */"
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC"


class Replayable(Generator[Stmt, Any, T]):
    """An operation that can be run again from the start (see :meth:`replay`).

    A generator runs once; this wraps the function that builds it, so an adapter
    whose transaction was rolled back by a deadlock can run a fresh copy.
    """

    __slots__ = ("_factory", "_op")

    def __init__(self, factory: Callable[[], Op[T]]) -> None:
        self._factory = factory
        self._op = factory()

    def send(self, value: Any) -> Stmt:
        return self._op.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Stmt:
        if val is None and tb is None:
            return self._op.throw(typ)
        return self._op.throw(typ, val, tb)

    def close(self) -> None:
        self._op.close()

    def replay(self) -> Replayable[T]:
        """A fresh copy of this operation, to run in a new transaction."""
        return Replayable(self._factory)


def replayable(method: Callable[P, Op[T]], check: Callable[..., None] | None = None) -> Callable[P, Op[T]]:
    """Make a dialect operation :class:`Replayable`; ``check`` sees the arguments first (fail before any SQL)."""

    @functools.wraps(method)
    def build(*args: P.args, **kwargs: P.kwargs) -> Op[T]:
        if check is not None:
            check(*args, **kwargs)
        return Replayable(lambda: method(*args, **kwargs))

    return build


def check_key_lengths(**values: str) -> None:
    """Refuse, before any write, an id longer than its column (strict mode would refuse it mid-transaction)."""
    for name, value in values.items():
        if len(value) > KEY_LENGTHS[name]:
            raise ValueError(
                f"{name} is {len(value)} characters long; the MySQL/MariaDB schema stores at most "
                f"{KEY_LENGTHS[name]} (got {value[:40]!r}...)"
            )


def _session_keys(_dialect: Any, *, app_name: str, user_id: str, session_id: str, **_: Any) -> None:
    check_key_lengths(app_name=app_name, user_id=user_id, session_id=session_id)


def _event_key(_dialect: Any, *, event: EventWrite, **_: Any) -> None:
    check_key_lengths(event_id=event.id)


def _memory_keys(_dialect: Any, writes: Sequence[MemoryWrite], **_: Any) -> None:
    for write in writes:
        check_key_lengths(app_name=write.app_name, user_id=write.user_id, event_id=write.event_id)
        if write.session_id is not None:
            check_key_lengths(session_id=write.session_id)


def _artifact_key(_dialect: Any, key: ArtifactKey, *_: Any) -> None:
    check_key_lengths(app_name=key.app_name, user_id=key.user_id, session_id=key.scope, filename=key.filename)


class MysqlDialect(BaseDialect):
    """MySQL / MariaDB DDL, statements and row-locking state merges."""

    sqlglot_name: ClassVar[str] = "mysql"
    key_type: ClassVar[str] = f"VARCHAR(255) {KEY_COLLATION}"
    text_type: ClassVar[str] = "LONGTEXT"
    json_type: ClassVar[str] = "JSON"
    float_type: ClassVar[str] = "DOUBLE"
    int_type: ClassVar[str] = "INT"
    bigint_type: ClassVar[str] = "BIGINT"
    has_fts: ClassVar[bool] = True

    def __init__(self, adk: ADKConfig) -> None:
        super().__init__(adk)
        #: The server's (innodb_ft_min_token_size, innodb_ft_max_token_size), read at the first search.
        self.ft_token_sizes: tuple[int, int] | None = None

    # -------------------------------------------------------------------- DDL
    @staticmethod
    def key(name: str, kind: str | None = None, *, null: bool = False) -> str:
        """Column definition of a key column sized by :data:`KEY_LENGTHS` (``kind`` defaults to ``name``)."""
        return f"{name} VARCHAR({KEY_LENGTHS[kind or name]}) {KEY_COLLATION}{'' if null else ' NOT NULL'}"

    @staticmethod
    def json_column(name: str, *, exact: bool = False, null: bool = False) -> str:
        """A JSON column with a ``JSON_VALID`` check; ``exact`` keeps the text byte for byte (``LONGTEXT``)."""
        kind = "LONGTEXT" if exact else "JSON"
        return f"{name} {kind}{'' if null else ' NOT NULL'} CHECK (JSON_VALID({name}))"

    def create_table(self, table: str, body: list[str]) -> str:
        """``CREATE TABLE IF NOT EXISTS`` with this family's table options."""
        columns = ",\n  ".join(body)
        return f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) {TABLE_OPTIONS}"

    def owner_body(self) -> list[str]:
        return [self.owner.ddl] if self.owner else []

    def metadata_ddl(self) -> list[str]:
        return [
            self.create_table(
                self.metadata_table, ["meta_key VARCHAR(128) NOT NULL PRIMARY KEY", "meta_value TEXT NOT NULL"]
            )
        ]

    def session_ddl(self) -> list[str]:
        a = self.adk
        return [
            self.create_table(
                self.session_table,
                [
                    self.key("app_name"),
                    self.key("user_id"),
                    self.key("id", "session_id"),
                    *self.owner_body(),
                    self.json_column("state"),
                    "create_time DOUBLE NOT NULL",
                    "update_time DOUBLE NOT NULL",
                    "revision BIGINT NOT NULL DEFAULT 0",
                    "PRIMARY KEY (app_name, user_id, id)",
                    f"KEY {self.index_name(a.session_table, 'list_idx')} (app_name, user_id, update_time, id)",
                    f"KEY {self.index_name(a.session_table, 'update_idx')} (update_time)",
                ],
            ),
            self.create_table(
                self.events_table,
                [
                    self.key("app_name"),
                    self.key("user_id"),
                    self.key("session_id"),
                    "seq BIGINT NOT NULL",
                    self.key("id", "event_id"),
                    "invocation_id TEXT",
                    "author TEXT",
                    "timestamp DOUBLE NOT NULL",
                    self.json_column("event_data", exact=True),
                    "PRIMARY KEY (app_name, user_id, session_id, seq)",
                    f"UNIQUE KEY {self.index_name(a.events_table, 'id_uq')} (app_name, user_id, session_id, id)",
                    f"KEY {self.index_name(a.events_table, 'time_idx')} (timestamp)",
                    f"FOREIGN KEY (app_name, user_id, session_id) REFERENCES {self.session_table} "
                    "(app_name, user_id, id) ON DELETE CASCADE",
                ],
            ),
            self.create_table(
                self.app_state_table,
                [
                    self.key("app_name"),
                    self.json_column("state"),
                    "update_time DOUBLE NOT NULL",
                    "PRIMARY KEY (app_name)",
                ],
            ),
            self.create_table(
                self.user_state_table,
                [
                    self.key("app_name"),
                    self.key("user_id"),
                    self.json_column("state"),
                    "update_time DOUBLE NOT NULL",
                    "PRIMARY KEY (app_name, user_id)",
                ],
            ),
        ]

    # ------------------------------------------------------------ statements
    @cached_property
    def insert_session_sql(self) -> str:
        """A plain INSERT run for its row count: a duplicate key counts as 0 rows (AlreadyExistsError)."""
        return super().insert_session_sql.removesuffix(" ON CONFLICT DO NOTHING")

    def scoped_state_sql(self, scope: str) -> tuple[str, str, str]:
        """(locking select, insert, update) of the app or user state row."""
        return self._scoped_state_cache[scope]

    @cached_property
    def _scoped_state_cache(self) -> dict[str, tuple[str, str, str]]:
        cache = {}
        for scope in ("app", "user"):
            table, columns = self.scoped_state_target(scope)
            where = " AND ".join(f"{column} = ?" for column in columns)
            marks = ", ".join("?" for _ in columns)
            cache[scope] = (
                f"SELECT state FROM {table} WHERE {where} FOR UPDATE",
                f"INSERT INTO {table} ({', '.join(columns)}, state, update_time) VALUES ({marks}, ?, ?)",
                f"UPDATE {table} SET state = ?, update_time = ? WHERE {where}",
            )
        return cache

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Merge ``delta`` into the app or user state row under a row lock; return the new state.

        ``SELECT ... FOR UPDATE`` locks an existing row (at READ COMMITTED a
        missing row locks nothing, so two first writers never deadlock on a
        gap). A missing row is inserted; if a concurrent writer inserted it
        first, the INSERT reports 0 rows once that writer commits, and the row
        is locked and merged like any other. Keys whose value is None are kept.
        """
        select, insert, update = self.scoped_state_sql(scope)
        row = yield Stmt(select, keys, Fetch.ONE)
        if row is None:
            state = dict(delta)
            inserted = yield Stmt(insert, (*keys, encode_state(state), now), Fetch.ROWCOUNT)
            if inserted:
                return state
            row = yield Stmt(select, keys, Fetch.ONE)
        state = decode_state(row[0])
        state.update(delta)
        yield Stmt(update, (encode_state(state), now, *keys))
        return state

    # ------------------------------------------------------------- operations
    create_session = replayable(BaseDialect.create_session, _session_keys)
    append_event = replayable(BaseDialect.append_event, _event_key)
    delete_session = replayable(BaseDialect.delete_session)
    delete_events_before = replayable(BaseDialect.delete_events_before)
    delete_idle_sessions = replayable(BaseDialect.delete_idle_sessions)

    # ----------------------------------------------------------------- memory
    def memory_id_ddl(self) -> str:
        return f"{self.key('id', 'memory_id')} PRIMARY KEY"

    def memory_ddl(self) -> list[str]:
        """The memory table with its indexes inline, plus the FULLTEXT index when FTS is on.

        The FULLTEXT index is added by a conditional ``ALTER TABLE`` (MySQL 8 has
        no ``ADD INDEX IF NOT EXISTS``), so turning ``memory_use_fts`` on later
        indexes the rows already stored. It is built with stopwords off
        (``innodb_ft_enable_stopword`` is read when an index is created and kept
        with it), so ``the`` or ``about`` are findable like any other word.
        """
        name = self.adk.memory_table
        table = self.create_table(
            self.memory_table,
            [
                self.memory_id_ddl(),
                self.key("app_name"),
                self.key("user_id"),
                self.key("session_id", null=True),
                self.key("event_id"),
                "author TEXT",
                "timestamp DOUBLE NOT NULL",
                *self.owner_body(),
                self.json_column("content_json", exact=True, null=True),
                self.json_column("custom_metadata", null=True),
                "search_text MEDIUMTEXT NOT NULL",
                f"UNIQUE KEY {self.index_name(name, 'event_uq')} (app_name, user_id, event_id)",
                f"KEY {self.index_name(name, 'scope_idx')} (app_name, user_id, timestamp)",
            ],
        )
        if not self.memory_fts:
            return [table]
        index = f"{name}_fts_idx"[:63]
        schema = f"'{self.adk.schema}'" if self.adk.schema else "DATABASE()"
        add = f"ALTER TABLE {self.memory_table} ADD FULLTEXT KEY {self.index_name(name, 'fts_idx')} (search_text)"
        # Identifiers are validated plain names ([A-Za-z0-9_]), safe inside these string literals.
        return [
            table,
            "SET SESSION innodb_ft_enable_stopword = OFF",
            "SET @sqlspec_adk_ddl = IF(EXISTS(SELECT 1 FROM information_schema.statistics "
            f"WHERE table_schema = {schema} AND table_name = '{name}' AND index_name = '{index}'), "
            f"'DO 0', '{add}')",
            "PREPARE sqlspec_adk_ddl FROM @sqlspec_adk_ddl",
            "EXECUTE sqlspec_adk_ddl",
            "DROP PREPARE sqlspec_adk_ddl",
            "SET SESSION innodb_ft_enable_stopword = DEFAULT",
        ]

    @cached_property
    def _memory_upsert_cache(self) -> dict[bool, str]:
        insert = super()._memory_upsert_cache[False].split(" ON CONFLICT ")[0]
        # REPLACE rather than ON DUPLICATE KEY UPDATE c = VALUES(c), which MySQL 8.0.20+ deprecates.
        return {False: f"{insert} ON DUPLICATE KEY UPDATE id = id", True: "REPLACE" + insert.removeprefix("INSERT")}

    def fts_token(self, token: str) -> bool:
        """Whether InnoDB's full-text parser indexes ``token`` as one word (else the LIKE path finds it).

        Only letters and decimal digits of the Basic Multilingual Plane, within
        the server's ``innodb_ft_min_token_size`` .. ``innodb_ft_max_token_size``.
        """
        low, high = self.ft_token_sizes or (3, 84)
        return low <= len(token) <= high and all(
            ord(char) < 0x10000 and unicodedata.category(char) in _WORD_CATEGORIES for char in token
        )

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """``MATCH ... AGAINST`` in BOOLEAN MODE over the quoted tokens the FULLTEXT index holds, by relevance.

        Tokens the index cannot hold (shorter than ``innodb_ft_min_token_size``,
        3 by default: "my", "is", "i"; or not plain words to InnoDB's parser) are
        left out: they are nearly always everyday words, and keeping them meant
        ranking every entry of the user by ``LIKE``, which is what bounded this
        search (on the W5 set, 20,000 entries: about 8x slower, for recall@5
        0.905 instead of 0.881; ranking the FULLTEXT matches by ``LIKE`` hits
        did not win that back). Only when no token is indexable does the search rank by
        whole-token ``LIKE`` hits (the portable fallback), so a query such as
        "AI" or "東" still finds its entries.
        """
        words = [token for token in tokens if self.fts_token(token)]
        if not words:
            return self.memory_fallback_search_stmt(app_name, user_id, tokens, limit)
        # Each word is a double-quoted phrase; it holds letters and digits only, so nothing in it is syntax.
        against = " ".join(f'"{word}"' for word in words)
        columns = ", ".join(MEMORY_COLUMNS)
        relevance = "MATCH (search_text) AGAINST (? IN BOOLEAN MODE)"
        sql = (
            f"SELECT {columns} FROM (SELECT {columns}, {relevance} AS score FROM {self.memory_table} "
            f"WHERE app_name = ? AND user_id = ? AND content_json IS NOT NULL AND {relevance}) ranked "
            "ORDER BY score DESC, timestamp DESC, id LIMIT ?"
        )
        return Stmt(sql, (against, app_name, user_id, against, limit), Fetch.ALL)

    def search_memory_entries(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int
    ) -> Op[list[MemoryRecord]]:
        """Reads the server's full-text token sizes once per config, then searches.

        If the indexable tokens find nothing but the query also had tokens the
        index cannot hold, those are searched too, by whole-token ``LIKE``.
        """
        if self.memory_fts and self.ft_token_sizes is None:
            row = yield Stmt("SELECT @@innodb_ft_min_token_size, @@innodb_ft_max_token_size", (), Fetch.ONE)
            self.ft_token_sizes = (int(row[0]), int(row[1]))
        records: list[MemoryRecord] = yield from super().search_memory_entries(
            app_name=app_name, user_id=user_id, tokens=tokens, limit=limit
        )
        if records or not self.memory_fts or all(self.fts_token(token) for token in tokens):
            return records
        if not any(self.fts_token(token) for token in tokens):
            return records  # the first search already was the LIKE ranking
        rows = yield self.memory_fallback_search_stmt(app_name, user_id, tokens, limit)
        return [self.memory_record(row, app_name, user_id) for row in rows]

    add_memory_entries = replayable(MemorySQL.add_memory_entries, _memory_keys)
    forget_memory_entry = replayable(MemorySQL.forget_memory_entry)
    delete_memory_entries = replayable(MemorySQL.delete_memory_entries)
    delete_memory_before = replayable(MemorySQL.delete_memory_before)

    # -------------------------------------------------------------- artifacts
    def artifact_ddl(self) -> list[str]:
        """Versions keyed by a SHA-256 of the filename, so any filename up to 1024 characters fits the index.

        The digest is a stored generated column; MariaDB allows no generated
        column in a primary key, so the key is a UNIQUE index and the rows get
        a surrogate ``row_id``.
        """
        name = self.adk.artifact_table
        return [
            self.create_table(
                self.artifact_table,
                [
                    "row_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                    self.key("app_name"),
                    self.key("user_id"),
                    self.key("scope", "session_id"),
                    self.key("filename"),
                    "filename_key BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(filename, 256))) STORED",
                    "version BIGINT NOT NULL",
                    "kind VARCHAR(16) NOT NULL",
                    "mime_type TEXT",
                    "display_name TEXT",
                    "canonical_uri TEXT NOT NULL",
                    self.json_column("custom_metadata"),
                    "create_time DOUBLE NOT NULL",
                    "size_bytes BIGINT NOT NULL",
                    "checksum VARCHAR(128) NOT NULL",
                    f"UNIQUE KEY {self.index_name(name, 'version_uq')} "
                    "(app_name, user_id, scope, filename_key, version)",
                    f"KEY {self.index_name(name, 'time_idx')} (create_time)",
                ],
            )
        ]

    @cached_property
    def artifact_insert_sql(self) -> str:
        """A plain INSERT run for its row count: a version taken concurrently counts as 0 rows."""
        return super().artifact_insert_sql.removesuffix(" ON CONFLICT DO NOTHING")

    save_artifact_version = replayable(ArtifactSQL.save_artifact_version, _artifact_key)
    delete_artifact = replayable(ArtifactSQL.delete_artifact)
    delete_artifacts_before = replayable(ArtifactSQL.delete_artifacts_before)

    def statements(self) -> Iterator[str]:
        yield from super().statements()
        for scope in ("app", "user"):
            yield from self.scoped_state_sql(scope)
