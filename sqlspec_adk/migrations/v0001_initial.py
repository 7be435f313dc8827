"""Schema version 1: the tables of sqlspec-adk 0.1.0, exactly as it created them. Frozen.

Every statement here is rendered from the config's table names, schema,
``owner_id_column`` and full-text options, per SQL family, and is idempotent
(``IF NOT EXISTS``, a catalog check, or an "already exists" the engine
absorbs), so running it again creates what a feature enabled later needs.
``tests/migrations`` compares the output with the statements 0.1.0 rendered
(commit f889721) for every family and option set: this module never changes.
Later schema changes are later versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlspec_adk.dialects.base import Dialect

__all__ = ["NAME", "VERSION", "statements"]

VERSION = 1
NAME = "initial"

#: The components a version's statements are grouped by (metadata first).
COMPONENTS = ("metadata", "sessions", "memory", "artifacts")


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 1's DDL for one component of ``dialect``'s config, in order."""
    renderer = _RENDERERS[dialect.family](dialect)
    return list(getattr(renderer, component)())


class _Portable:
    """The DDL most families share, with the family's column types."""

    key, text, json, float, bigint = "TEXT", "TEXT", "TEXT", "DOUBLE PRECISION", "BIGINT"
    memory_id = "id {key} NOT NULL PRIMARY KEY"
    events_foreign_key = True

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.a = dialect.adk

    def owner(self) -> str:
        return f"{self.a.owner_id_column.ddl},\n  " if self.a.owner_id_column else ""

    def metadata(self) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.d.metadata_table} (\n"
            f"  meta_key {self.key} NOT NULL PRIMARY KEY,\n  meta_value {self.text} NOT NULL\n)"
        ]

    def sessions(self) -> Sequence[str]:
        d, a, k = self.d, self.a, self.key
        foreign_key = (
            f",\n  FOREIGN KEY (app_name, user_id, session_id) REFERENCES {d.session_table} (app_name, user_id, id)"
            " ON DELETE CASCADE"
            if self.events_foreign_key
            else ""
        )
        return [
            f"CREATE TABLE IF NOT EXISTS {d.session_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n"
            f"  id {k} NOT NULL,\n"
            f"  {self.owner()}state {self.json} NOT NULL,\n"
            f"  create_time {self.float} NOT NULL,\n  update_time {self.float} NOT NULL,\n"
            f"  revision {self.bigint} NOT NULL DEFAULT 0,\n"
            "  PRIMARY KEY (app_name, user_id, id)\n)",
            f"CREATE INDEX IF NOT EXISTS {d.index_name(a.session_table, 'list_idx')} "
            f"ON {d.session_table} (app_name, user_id, update_time, id)",
            f"CREATE INDEX IF NOT EXISTS {d.index_name(a.session_table, 'update_idx')} "
            f"ON {d.session_table} (update_time)",
            f"CREATE TABLE IF NOT EXISTS {d.events_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n"
            f"  session_id {k} NOT NULL,\n  seq {self.bigint} NOT NULL,\n"
            f"  id {k} NOT NULL,\n"
            f"  invocation_id {self.text},\n  author {self.text},\n"
            f"  timestamp {self.float} NOT NULL,\n  event_data {self.json} NOT NULL,\n"
            "  PRIMARY KEY (app_name, user_id, session_id, seq),\n"
            f"  UNIQUE (app_name, user_id, session_id, id){foreign_key}\n)",
            f"CREATE INDEX IF NOT EXISTS {d.index_name(a.events_table, 'time_idx')} ON {d.events_table} (timestamp)",
            f"CREATE TABLE IF NOT EXISTS {d.app_state_table} (\n"
            f"  app_name {k} NOT NULL PRIMARY KEY,\n  state {self.json} NOT NULL,\n"
            f"  update_time {self.float} NOT NULL\n)",
            f"CREATE TABLE IF NOT EXISTS {d.user_state_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n"
            f"  state {self.json} NOT NULL,\n  update_time {self.float} NOT NULL,\n"
            "  PRIMARY KEY (app_name, user_id)\n)",
        ]

    def memory(self) -> Sequence[str]:
        d, k, t = self.d, self.key, self.text
        return [
            f"CREATE TABLE IF NOT EXISTS {d.memory_table} (\n"
            f"  {self.memory_id.format(key=k)},\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n"
            f"  session_id {k},\n  event_id {k} NOT NULL,\n  author {t},\n"
            f"  timestamp {self.float} NOT NULL,\n  {self.owner()}content_json {self.json},\n"
            f"  custom_metadata {self.json},\n  search_text {t} NOT NULL,\n"
            "  UNIQUE (app_name, user_id, event_id)\n)",
            f"CREATE INDEX IF NOT EXISTS {d.index_name(self.a.memory_table, 'scope_idx')} "
            f"ON {d.memory_table} (app_name, user_id, timestamp)",
            *(self.memory_fts() if d.memory.memory_fts else []),
        ]

    def memory_fts(self) -> Sequence[str]:
        return []

    def artifacts(self) -> Sequence[str]:
        d, k, t, b = self.d, self.key, self.text, self.bigint
        return [
            f"CREATE TABLE IF NOT EXISTS {d.artifact_table} (\n"
            f"  app_name {k} NOT NULL,\n  user_id {k} NOT NULL,\n"
            f"  scope {k} NOT NULL,\n  filename {k} NOT NULL,\n"
            f"  version {b} NOT NULL,\n  kind {t} NOT NULL,\n"
            f"  mime_type {t},\n  display_name {t},\n"
            f"  canonical_uri {t} NOT NULL,\n  custom_metadata {self.json} NOT NULL,\n"
            f"  create_time {self.float} NOT NULL,\n  size_bytes {b} NOT NULL,\n"
            f"  checksum {t} NOT NULL,\n"
            "  PRIMARY KEY (app_name, user_id, scope, filename, version)\n)",
            f"CREATE INDEX IF NOT EXISTS {d.index_name(self.a.artifact_table, 'time_idx')} "
            f"ON {d.artifact_table} (create_time)",
        ]


class _Sqlite(_Portable):
    float, bigint = "REAL", "INTEGER"
    memory_id = "id INTEGER PRIMARY KEY"

    def memory_fts(self) -> Sequence[str]:
        name, table = self.a.memory_table, self.d.memory_table
        fts, vocab, docsize = (self.d.table(f"{name}_fts{suffix}") for suffix in ("", "_vocab", "_docsize"))

        def trigger(suffix: str) -> str:
            return self.d.quote(f"{name}_fts_{suffix}")

        remove_old = f"INSERT INTO {fts} ({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        add_new = f"INSERT INTO {fts} (rowid, search_text) VALUES (new.id, new.search_text);"
        # Table names are validated plain names ([A-Za-z0-9_]), safe inside these string literals.
        return [
            # search_text is already folded by sqlspec_adk.tokens; unicode61 only splits it at the spaces.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, content='{name}', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
            # One row per token with the number of entries holding it, read by the search.
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocab} USING fts5vocab('{name}_fts', 'row')",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('ai')} AFTER INSERT ON {table} BEGIN {add_new} END",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('ad')} AFTER DELETE ON {table} BEGIN {remove_old} END",
            f"CREATE TRIGGER IF NOT EXISTS {trigger('au')} AFTER UPDATE OF search_text ON {table} "
            f"BEGIN {remove_old} {add_new} END",
            # Index rows written while FTS was off (memory_use_fts=false earlier): rebuild when the counts differ.
            f"INSERT INTO {fts} ({fts}) SELECT 'rebuild' "
            f"WHERE (SELECT COUNT(*) FROM {docsize}) <> (SELECT COUNT(*) FROM {table})",
        ]


class _Duckdb(_Portable):
    key, text, json, float = "VARCHAR", "VARCHAR", "JSON", "DOUBLE"
    # DuckDB runs an UPDATE as delete + insert, which a referencing event row would fail.
    events_foreign_key = False


class _Postgres(_Portable):
    json = "JSONB"
    fts_index_options = " WITH (fastupdate = off)"

    def metadata(self) -> Sequence[str]:
        schema = [f"CREATE SCHEMA IF NOT EXISTS {self.d.quote(self.a.schema)}"] if self.a.schema else []
        return [*schema, *super().metadata()]

    def sessions(self) -> Sequence[str]:
        return [
            *super().sessions(),
            f"CREATE INDEX IF NOT EXISTS {self.d.index_name(self.a.session_table, 'app_list_idx')} "
            f"ON {self.d.session_table} (app_name, update_time, user_id, id)",
        ]

    def memory_fts(self) -> Sequence[str]:
        config = self.a.fts_config.lower()
        column = self.d.quote(f"search_vector_{config}"[:63])
        return [
            f"ALTER TABLE {self.d.memory_table} ADD COLUMN IF NOT EXISTS {column} tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('{config}', search_text)) STORED",
            f"CREATE INDEX IF NOT EXISTS {self.d.index_name(self.a.memory_table, f'fts_{config}_idx')} "
            f"ON {self.d.memory_table} USING GIN ({column}){self.fts_index_options}",
        ]


class _Cockroach(_Postgres):
    fts_index_options = ""  # an inverted index has no pending list


_MYSQL_KEY_LENGTHS = {"app_name": 128, "user_id": 255, "session_id": 128, "event_id": 128, "memory_id": 64}
_MYSQL_COLLATION = "/*M!100202 COLLATE utf8mb4_nopad_bin */ /*!80017 COLLATE utf8mb4_0900_bin */"
_MYSQL_TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC"


class _Mysql(_Portable):
    def key_column(self, name: str, kind: str | None = None, *, null: bool = False, length: int = 0) -> str:
        size = length or _MYSQL_KEY_LENGTHS[kind or name]
        return f"{name} VARCHAR({size}) {_MYSQL_COLLATION}{'' if null else ' NOT NULL'}"

    @staticmethod
    def json_column(name: str, *, exact: bool = False, null: bool = False) -> str:
        kind = "LONGTEXT" if exact else "JSON"
        return f"{name} {kind}{'' if null else ' NOT NULL'} CHECK (JSON_VALID({name}))"

    def create(self, table: str, body: Sequence[str]) -> str:
        columns = ",\n  ".join(body)
        return f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) {_MYSQL_TABLE_OPTIONS}"

    def owner_body(self) -> list[str]:
        return [self.a.owner_id_column.ddl] if self.a.owner_id_column else []

    def metadata(self) -> Sequence[str]:
        body = ["meta_key VARCHAR(128) NOT NULL PRIMARY KEY", "meta_value TEXT NOT NULL"]
        return [self.create(self.d.metadata_table, body)]

    def sessions(self) -> Sequence[str]:
        d, a, key = self.d, self.a, self.key_column
        session = [key("app_name"), key("user_id"), key("id", "session_id"), *self.owner_body()]
        session += [self.json_column("state"), "create_time DOUBLE NOT NULL", "update_time DOUBLE NOT NULL"]
        session += ["revision BIGINT NOT NULL DEFAULT 0", "PRIMARY KEY (app_name, user_id, id)"]
        session += [f"KEY {d.index_name(a.session_table, 'list_idx')} (app_name, user_id, update_time, id)"]
        session += [f"KEY {d.index_name(a.session_table, 'update_idx')} (update_time)"]
        event = [key("app_name"), key("user_id"), key("session_id"), "seq BIGINT NOT NULL", key("id", "event_id")]
        event += ["invocation_id TEXT", "author TEXT", "timestamp DOUBLE NOT NULL"]
        event += [self.json_column("event_data", exact=True), "PRIMARY KEY (app_name, user_id, session_id, seq)"]
        event += [f"UNIQUE KEY {d.index_name(a.events_table, 'id_uq')} (app_name, user_id, session_id, id)"]
        event += [f"KEY {d.index_name(a.events_table, 'time_idx')} (timestamp)"]
        event += [
            f"FOREIGN KEY (app_name, user_id, session_id) REFERENCES {d.session_table} "
            "(app_name, user_id, id) ON DELETE CASCADE"
        ]
        state = [self.json_column("state"), "update_time DOUBLE NOT NULL"]
        return [
            self.create(d.session_table, session),
            self.create(d.events_table, event),
            self.create(d.app_state_table, [key("app_name"), *state, "PRIMARY KEY (app_name)"]),
            self.create(
                d.user_state_table, [key("app_name"), key("user_id"), *state, "PRIMARY KEY (app_name, user_id)"]
            ),
        ]

    def memory(self) -> Sequence[str]:
        d, name, key = self.d, self.a.memory_table, self.key_column
        body = [f"{key('id', 'memory_id')} PRIMARY KEY", key("app_name"), key("user_id")]
        body += [key("session_id", null=True), key("event_id"), "author TEXT", "timestamp DOUBLE NOT NULL"]
        body += [*self.owner_body(), self.json_column("content_json", exact=True, null=True)]
        body += [self.json_column("custom_metadata", null=True), "search_text MEDIUMTEXT NOT NULL"]
        body += [f"UNIQUE KEY {d.index_name(name, 'event_uq')} (app_name, user_id, event_id)"]
        body += [f"KEY {d.index_name(name, 'scope_idx')} (app_name, user_id, timestamp)"]
        table = self.create(d.memory_table, body)
        if not d.memory.memory_fts:
            return [table]
        index = f"{name}_fts_idx"[:63]
        schema = f"'{self.a.schema}'" if self.a.schema else "DATABASE()"
        add = f"ALTER TABLE {d.memory_table} ADD FULLTEXT KEY {d.index_name(name, 'fts_idx')} (search_text)"
        # MySQL 8 has no ADD INDEX IF NOT EXISTS: add the FULLTEXT index only when the catalog lacks it,
        # built with stopwords off (the setting is read when the index is created and kept with it).
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

    def artifacts(self) -> Sequence[str]:
        d, name, key = self.d, self.a.artifact_table, self.key_column
        body = ["row_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY", key("app_name"), key("user_id")]
        body += [key("scope", "session_id"), key("filename", length=1024)]
        body += ["filename_key BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(filename, 256))) STORED"]
        body += ["version BIGINT NOT NULL", "kind VARCHAR(16) NOT NULL", "mime_type TEXT", "display_name TEXT"]
        body += ["canonical_uri TEXT NOT NULL", self.json_column("custom_metadata"), "create_time DOUBLE NOT NULL"]
        body += ["size_bytes BIGINT NOT NULL", "checksum VARCHAR(128) NOT NULL"]
        body += [f"UNIQUE KEY {d.index_name(name, 'version_uq')} (app_name, user_id, scope, filename_key, version)"]
        body += [f"KEY {d.index_name(name, 'time_idx')} (create_time)"]
        return [self.create(d.artifact_table, body)]


class _Oracle(_Portable):
    key, text, float, bigint = "VARCHAR2(256 CHAR)", "VARCHAR2(4000)", "BINARY_DOUBLE", "NUMBER(19)"

    def state_column(self, name: str, *, nullable: bool = False) -> str:
        kind = "JSON" if getattr(self.d, "native_json", True) else f"CLOB CHECK ({name} IS JSON)"
        return f"{name} {kind}{'' if nullable else ' NOT NULL'}"

    def create(self, table: str, name: str, columns: Sequence[str], key: str, *extra: str) -> str:
        constraints = [f"CONSTRAINT {self.d.index_name(name, 'pk')} PRIMARY KEY ({key})", *extra]
        return f"CREATE TABLE {table} (\n  " + ",\n  ".join([*columns, *constraints]) + "\n)"

    def index(self, table: str, name: str, suffix: str, columns: str) -> str:
        return f"CREATE INDEX {self.d.index_name(name, suffix)} ON {table} ({columns})"

    def owner_list(self) -> list[str]:
        return [self.a.owner_id_column.ddl] if self.a.owner_id_column else []

    def metadata(self) -> Sequence[str]:
        columns = [f"meta_key {self.key} NOT NULL", f"meta_value {self.text} NOT NULL"]
        return [self.create(self.d.metadata_table, self.a.metadata_table, columns, "meta_key")]

    def sessions(self) -> Sequence[str]:
        d, a, k, f, b = self.d, self.a, self.key, self.float, self.bigint
        scope = [f"app_name {k} NOT NULL", f"user_id {k} NOT NULL"]
        state = [self.state_column("state"), f"update_time {f} NOT NULL"]
        session = [*scope, f"id {k} NOT NULL", *self.owner_list(), *state, f"create_time {f} NOT NULL"]
        session += [f"revision {b} DEFAULT 0 NOT NULL"]
        event = [*scope, f"session_id {k} NOT NULL", f"seq {b} NOT NULL", f"id {k} NOT NULL"]
        event += [f"invocation_id {self.text}", f"author {self.text}", f"timestamp {f} NOT NULL"]
        event += ["event_data CLOB CHECK (event_data IS JSON) NOT NULL"]
        session_fk = (
            f"CONSTRAINT {d.index_name(a.events_table, 'session_fk')} FOREIGN KEY (app_name, user_id, session_id) "
            f"REFERENCES {d.session_table} (app_name, user_id, id) ON DELETE CASCADE"
        )
        event_uq = f"CONSTRAINT {d.index_name(a.events_table, 'id_uq')} UNIQUE (app_name, user_id, session_id, id)"
        return [
            self.create(d.session_table, a.session_table, session, "app_name, user_id, id"),
            self.index(d.session_table, a.session_table, "list_idx", "app_name, user_id, update_time, id"),
            self.index(d.session_table, a.session_table, "update_idx", "update_time"),
            self.create(
                d.events_table, a.events_table, event, "app_name, user_id, session_id, seq", event_uq, session_fk
            ),
            self.index(d.events_table, a.events_table, "time_idx", "timestamp"),
            self.create(d.app_state_table, a.app_state_table, [scope[0], *state], "app_name"),
            self.create(d.user_state_table, a.user_state_table, [*scope, *state], "app_name, user_id"),
        ]

    def memory(self) -> Sequence[str]:
        d, name, k, t = self.d, self.a.memory_table, self.key, self.text
        columns = [f"id {k} NOT NULL", f"app_name {k} NOT NULL", f"user_id {k} NOT NULL", f"session_id {k}"]
        columns += [f"event_id {k} NOT NULL", f"author {t}", f"timestamp {self.float} NOT NULL", *self.owner_list()]
        columns += [
            "content_json CLOB CHECK (content_json IS JSON)",
            self.state_column("custom_metadata", nullable=True),
        ]
        columns += ["search_text CLOB NOT NULL"]
        unique = f"CONSTRAINT {d.index_name(name, 'event_uq')} UNIQUE (app_name, user_id, event_id)"
        fts = [
            f"CREATE INDEX {d.index_name(name, 'fts_idx')} ON {d.memory_table} (search_text) "
            "INDEXTYPE IS CTXSYS.CONTEXT PARAMETERS ('STOPLIST CTXSYS.EMPTY_STOPLIST SYNC (ON COMMIT)')"
        ]
        return [
            self.create(d.memory_table, name, columns, "id", unique),
            self.index(d.memory_table, name, "scope_idx", "app_name, user_id, timestamp"),
            *(fts if d.memory.memory_fts else []),
        ]

    def artifacts(self) -> Sequence[str]:
        d, name, k, t, b = self.d, self.a.artifact_table, self.key, self.text, self.bigint
        columns = [f"{column} {k} NOT NULL" for column in ("app_name", "user_id", "scope", "filename")]
        columns += [f"version {b} NOT NULL", f"kind {t} NOT NULL", f"mime_type {t}", f"display_name {t}"]
        columns += [f"canonical_uri {t} NOT NULL", self.state_column("custom_metadata")]
        columns += [f"create_time {self.float} NOT NULL", f"size_bytes {b} NOT NULL", f"checksum {t} NOT NULL"]
        return [
            self.create(d.artifact_table, name, columns, "app_name, user_id, scope, filename, version"),
            self.index(d.artifact_table, name, "time_idx", "create_time"),
        ]


class _Spanner(_Portable):
    text, float = "STRING(MAX)", "FLOAT64"

    def create(self, table: str, columns: Sequence[str], key: str, *constraints: str) -> str:
        body = ",\n  ".join([*columns, *constraints])
        return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) PRIMARY KEY ({key})"

    def index(self, table: str, name: str, suffix: str, columns: str, unique: bool = False) -> str:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        return f"CREATE {kind} IF NOT EXISTS {self.d.index_name(name, suffix)} ON {table} ({columns})"

    def metadata(self) -> Sequence[str]:
        columns = [f"meta_key {self.text} NOT NULL", f"meta_value {self.text} NOT NULL"]
        return [self.create(self.d.metadata_table, columns, "meta_key")]

    def sessions(self) -> Sequence[str]:
        d, a, s, f = self.d, self.a, self.text, self.float
        owner = [a.owner_id_column.ddl] if a.owner_id_column else []
        scope = [f"app_name {s} NOT NULL", f"user_id {s} NOT NULL"]
        state = [f"state {s} NOT NULL", f"update_time {f} NOT NULL"]
        session = [*scope, f"id {s} NOT NULL", *owner, *state, f"create_time {f} NOT NULL", "revision INT64 NOT NULL"]
        event = [*scope, f"session_id {s} NOT NULL", "seq INT64 NOT NULL", f"id {s} NOT NULL", f"invocation_id {s}"]
        event += [f"author {s}", f"timestamp {f} NOT NULL", f"event_data {s} NOT NULL"]
        event += ["commit_time TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = TRUE)"]
        session_fk = (
            f"CONSTRAINT {d.index_name(a.events_table, 'session_fk')} FOREIGN KEY (app_name, user_id, session_id) "
            f"REFERENCES {d.session_table} (app_name, user_id, id) ON DELETE CASCADE"
        )
        return [
            self.create(d.session_table, session, "app_name, user_id, id"),
            self.index(d.session_table, a.session_table, "list_idx", "app_name, user_id, update_time, id"),
            self.create(d.events_table, event, "app_name, user_id, session_id, seq", session_fk),
            self.index(d.events_table, a.events_table, "id_uq", "app_name, user_id, session_id, id", unique=True),
            self.create(d.app_state_table, [scope[0], *state], "app_name"),
            self.create(d.user_state_table, [*scope, *state], "app_name, user_id"),
        ]

    def memory(self) -> Sequence[str]:
        d, name, s = self.d, self.a.memory_table, self.text
        columns = [f"id {s} NOT NULL", f"app_name {s} NOT NULL", f"user_id {s} NOT NULL", f"session_id {s}"]
        columns += [f"event_id {s} NOT NULL", f"author {s}", f"timestamp {self.float} NOT NULL"]
        columns += [self.a.owner_id_column.ddl] if self.a.owner_id_column else []
        columns += [f"content_json {s}", f"custom_metadata {s}", f"search_text {s} NOT NULL"]
        fts = [
            f"ALTER TABLE {d.memory_table} ADD COLUMN IF NOT EXISTS search_tokens TOKENLIST "
            "AS (TOKENIZE_FULLTEXT(search_text)) HIDDEN",
            f"CREATE SEARCH INDEX {d.index_name(name, 'search_idx')} ON {d.memory_table} (search_tokens)",
        ]
        return [
            self.create(d.memory_table, columns, "id"),
            self.index(d.memory_table, name, "event_uq", "app_name, user_id, event_id", unique=True),
            self.index(d.memory_table, name, "scope_idx", "app_name, user_id, timestamp"),
            *(fts if d.memory.memory_fts else []),
        ]

    def artifacts(self) -> Sequence[str]:
        s, i = self.text, "INT64"
        columns = [f"{column} {s} NOT NULL" for column in ("app_name", "user_id", "scope", "filename")]
        columns += [f"version {i} NOT NULL", f"kind {s} NOT NULL", f"mime_type {s}", f"display_name {s}"]
        columns += [f"canonical_uri {s} NOT NULL", f"custom_metadata {s} NOT NULL"]
        columns += [f"create_time {self.float} NOT NULL", f"size_bytes {i} NOT NULL", f"checksum {s} NOT NULL"]
        return [self.create(self.d.artifact_table, columns, "app_name, user_id, scope, filename, version")]


_RENDERERS: dict[str, type[_Portable]] = {
    "sqlite": _Sqlite,
    "duckdb": _Duckdb,
    "postgresql": _Postgres,
    "cockroachdb": _Cockroach,
    "mysql": _Mysql,
    "oracle": _Oracle,
    "spanner": _Spanner,
}
