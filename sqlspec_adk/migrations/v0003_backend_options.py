"""Schema version 3: the per-backend options of issue 18 and Spanner's row deletion policies. Frozen once released.

With every option at its default this version has no statement, and records
nothing new (:func:`schema_options` adds only options that are set), so a
database on the defaults upgrades through it unchanged. Each option it knows
is part of the components' recorded schema options, so turning one on, off or
to another value re-applies the versions on the next upgrade
(:mod:`sqlspec_adk.migrations.runner`), and :func:`statements_since` renders
exactly the change from the options recorded before to the configured ones:

- SQLite, memory: ``sqlite_fts_tokenizer`` / ``sqlite_fts_detail`` rebuild the
  FTS5 index (drop the index, its ``fts5vocab`` table and its triggers, create
  them with the new ``tokenize`` / ``detail``, then ``'rebuild'`` it from the
  memory rows), in the upgrade's one transaction.
- Oracle: ``oracle_inmemory`` (``ALTER TABLE ... INMEMORY`` / ``NO INMEMORY``),
  ``oracle_compression`` (``ROW STORE COMPRESS BASIC|ADVANCED`` / ``NOCOMPRESS``:
  blocks written from then on; existing rows stay as stored until the table is
  moved) and ``oracle_partitioning`` (``ALTER TABLE ... MODIFY PARTITION BY
  HASH (app_name, user_id)`` or ``RANGE`` on a virtual day column with
  ``INTERVAL``, ``ONLINE``; the memory table's Oracle Text index is dropped
  first and built again after) on the session, event and memory tables.
  Partitioning cannot be turned off again (Oracle converts a table to
  partitioned, not back): that is refused with a ``MigrationError``.
  ``oracle_json_storage`` applies when the tables are created (version 1 reads
  it); here a check fails with a message naming the column when tables made
  before have the other storage. No Oracle server here: these statements are
  checked by sqlglot where it parses them and by recorded text.
- Spanner: ``spanner_shard_count`` adds a stored generated ``shard_id`` column
  (``ABS(MOD(FARM_FINGERPRINT(key), n))``) and an index ``(shard_id, <time
  column>)`` to the session, event, memory and artifact tables (changing ``n``
  drops and adds them again); the ``retention_events_days``,
  ``retention_memory_days`` and ``retention_artifacts_days`` settings become
  row deletion policies on a stored generated ``retention_ts`` TIMESTAMP (the
  event/entry timestamp, the artifact's creation time: what ``prune`` compares;
  a policy deletes artifact rows only, their content is left to ``artifacts gc``).
  Sessions get none: Spanner refuses a row deletion policy on a table a foreign
  key references (the events' key references sessions), so idle sessions stay
  with ``prune``. ``spanner_table_options`` / ``spanner_index_options`` are set
  with ``ALTER TABLE|INDEX ... SET OPTIONS`` (an option removed is set to NULL).

Every statement tolerates a rerun (``IF NOT EXISTS``, or an error the engine
absorbs as "already done": on Spanner a second ``ADD ROW DELETION POLICY``, and
a ``DROP`` of a policy or column already gone), so an upgrade killed half way
completes on the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.errors import MigrationError

__all__ = [
    "NAME",
    "SHARD_COLUMN",
    "SPANNER_TTL_COLUMN",
    "VERSION",
    "schema_options",
    "statements",
    "statements_since",
]

VERSION = 3
NAME = "backend_options"

#: The generated column a Spanner row deletion policy reads.
SPANNER_TTL_COLUMN = "retention_ts"
#: The generated hash-shard column of ``spanner_shard_count``.
SHARD_COLUMN = "shard_id"
_SQLITE_TOKENIZE = {"unicode61": "unicode61 remove_diacritics 2", "porter": "porter unicode61 remove_diacritics 2"}


def schema_options(dialect: Dialect, component: str) -> dict[str, Any]:
    """The options this version's DDL follows for one component, only those not at their default."""
    adk, family = dialect.adk, dialect.family
    found: dict[str, Any] = {}
    if family == "sqlite" and component == "memory" and dialect.memory.memory_fts:
        sqlite = adk.backend.sqlite
        if sqlite.fts_tokenizer != "unicode61":
            found["sqlite_fts_tokenizer"] = sqlite.fts_tokenizer
        if sqlite.fts_detail != "full":
            found["sqlite_fts_detail"] = sqlite.fts_detail
    elif family == "oracle":
        oracle = adk.backend.oracle
        if oracle.json_storage != "auto":
            found["oracle_json_storage"] = oracle.json_storage
        if component in ("sessions", "memory"):
            if oracle.inmemory:
                found["oracle_inmemory"] = True
            if oracle.compression != "none":
                found["oracle_compression"] = oracle.compression
            if oracle.partitioning == "hash":
                found["oracle_partitioning"] = f"hash:{oracle.hash_partitions}"
            elif oracle.partitioning == "range":
                found["oracle_partitioning"] = f"range:{oracle.range_interval_days}"
    elif family == "spanner":
        spanner = adk.backend.spanner
        if spanner.shard_count:
            found["spanner_shard_count"] = spanner.shard_count
        days = _spanner_ttl_days(dialect, component)
        if days:
            found["spanner_ttl_days"] = days
        if spanner.table_options:
            found["spanner_table_options"] = dict(spanner.table_options)
        if spanner.index_options:
            found["spanner_index_options"] = dict(spanner.index_options)
    return found


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 3's statements for a database that has none of its options yet (a new one)."""
    return statements_since(dialect, component, {})


def statements_since(dialect: Dialect, component: str, recorded: Mapping[str, Any]) -> list[str]:
    """The statements taking one component from the options in ``recorded`` (the component's recorded
    schema options; ``{}``: none) to the configured ones."""
    before = {key: value for key, value in recorded.items() if key.startswith(("sqlite_", "oracle_", "spanner_"))}
    now = schema_options(dialect, component)
    renderer = _RENDERERS.get(dialect.family)
    if renderer is None:
        return []
    return list(renderer(dialect, component, before, now).render())


def _spanner_ttl_days(dialect: Dialect, component: str) -> dict[str, int]:
    """Per table (unquoted name), the row deletion policy's age in days, from the ``retention_*`` settings."""
    adk, retention = dialect.adk, dialect.adk.backend.retention
    wanted = {
        "sessions": (adk.events_table, retention.events_days),
        "memory": (adk.memory_table, retention.memory_days),
        "artifacts": (adk.artifact_table, retention.artifacts_days),
    }
    table, days = wanted.get(component, ("", None))
    return {table: days} if days else {}


class _Change:
    """One component's options before and now; :meth:`render` gives the statements between them."""

    def __init__(self, dialect: Dialect, component: str, before: Mapping[str, Any], now: Mapping[str, Any]):
        self.d, self.a, self.component = dialect, dialect.adk, component
        self.before, self.now = before, now

    def changed(self, key: str) -> bool:
        return self.before.get(key) != self.now.get(key)

    def render(self) -> Sequence[str]:
        return []


class _Sqlite(_Change):
    def render(self) -> Sequence[str]:
        if self.component != "memory" or not self.d.memory.memory_fts:
            return []
        if not (self.changed("sqlite_fts_tokenizer") or self.changed("sqlite_fts_detail")):
            return []
        name, table = self.a.memory_table, self.d.memory_table
        fts, vocab = self.d.table(f"{name}_fts"), self.d.table(f"{name}_fts_vocab")
        tokenize = _SQLITE_TOKENIZE[self.a.backend.sqlite.fts_tokenizer]
        detail = self.a.backend.sqlite.fts_detail

        def trigger(suffix: str) -> str:
            return self.d.quote(f"{name}_fts_{suffix}")

        remove_old = f"INSERT INTO {fts} ({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        add_new = f"INSERT INTO {fts} (rowid, search_text) VALUES (new.id, new.search_text);"
        # Table names are validated plain names ([A-Za-z0-9_]), safe inside these string literals; the
        # tokenizer and detail are from a fixed list.
        return [
            *(f"DROP TRIGGER IF EXISTS {trigger(suffix)}" for suffix in ("ai", "ad", "au")),
            f"DROP TABLE IF EXISTS {vocab}",
            f"DROP TABLE IF EXISTS {fts}",
            f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{name}', content_rowid='id', "
            f"tokenize='{tokenize}', detail={detail})",
            f"CREATE VIRTUAL TABLE {vocab} USING fts5vocab('{name}_fts', 'row')",
            f"CREATE TRIGGER {trigger('ai')} AFTER INSERT ON {table} BEGIN {add_new} END",
            f"CREATE TRIGGER {trigger('ad')} AFTER DELETE ON {table} BEGIN {remove_old} END",
            f"CREATE TRIGGER {trigger('au')} AFTER UPDATE OF search_text ON {table} BEGIN {remove_old} {add_new} END",
            f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
        ]


#: Per Oracle component, (table key, partition-by time column) of the tables the options apply to.
_ORACLE_TABLES = {
    "sessions": (("session_table", "create_time"), ("events_table", "timestamp")),
    "memory": (("memory_table", "timestamp"),),
}
#: Per Oracle component, the (table key, column) pairs version 1 made JSON-or-CLOB.
_ORACLE_JSON_COLUMNS = {
    "sessions": (("session_table", "state"), ("app_state_table", "state"), ("user_state_table", "state")),
    "memory": (("memory_table", "custom_metadata"),),
    "artifacts": (("artifact_table", "custom_metadata"),),
}


class _Oracle(_Change):
    def tables(self) -> list[tuple[str, str, str]]:
        """(raw name, quoted name, time column) of the tables this component's options apply to."""
        found = []
        for key, column in _ORACLE_TABLES.get(self.component, ()):
            raw = getattr(self.a, key)
            found.append((raw, self.d.table(raw), column))
        return found

    def render(self) -> Sequence[str]:
        found = list(self.json_check())
        tables = self.tables()
        if self.changed("oracle_inmemory"):
            clause = "INMEMORY" if self.now.get("oracle_inmemory") else "NO INMEMORY"
            found += [f"ALTER TABLE {table} {clause}" for _, table, _ in tables]
        if self.changed("oracle_compression"):
            method = self.now.get("oracle_compression")
            clause = f"ROW STORE COMPRESS {str(method).upper()}" if method else "NOCOMPRESS"
            found += [f"ALTER TABLE {table} {clause}" for _, table, _ in tables]
        if self.changed("oracle_partitioning"):
            found += self.partitioning(tables)
        return found

    def json_check(self) -> Sequence[str]:
        """A block failing (naming the column) when a state column was made with the other JSON storage."""
        storage = self.now.get("oracle_json_storage")
        if storage is None:
            return []
        expected = "JSON" if storage == "json" else "CLOB"
        schema = f"'{self.a.schema.upper()}'" if self.a.schema else "SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')"
        pairs = " OR ".join(
            f"(table_name = '{getattr(self.a, key).upper()}' AND column_name = '{column.upper()}')"
            for key, column in _ORACLE_JSON_COLUMNS[self.component]
        )
        # Identifiers are validated plain names ([A-Za-z0-9_]), safe inside these string literals.
        return [
            "DECLARE found VARCHAR2(300); BEGIN "
            "SELECT MIN(table_name || '.' || column_name || ' is ' || data_type) INTO found FROM all_tab_columns "
            f"WHERE owner = {schema} AND ({pairs}) AND data_type <> '{expected}'; "
            "IF found IS NOT NULL THEN RAISE_APPLICATION_ERROR(-20180, 'sqlspec-adk: oracle_json_storage="
            f"{storage} applies when the tables are created, and ' || found || "
            "': keep the storage the tables were made with (oracle_json_storage=auto)'); END IF; END;"
        ]

    def partitioning(self, tables: list[tuple[str, str, str]]) -> list[str]:
        wanted = self.now.get("oracle_partitioning")
        if wanted is None:
            raise MigrationError(
                "extension_config['adk']['oracle_partitioning'] was set when this database's tables were "
                f"partitioned ({self.before.get('oracle_partitioning')}); Oracle does not turn a partitioned "
                "table back into a plain one: keep oracle_partitioning, or redefine the tables yourself "
                "(DBMS_REDEFINITION) and then remove the key"
            )
        method, _, amount = str(wanted).partition(":")
        found: list[str] = []
        for raw, table, column in tables:
            if method == "hash":
                scheme = f"PARTITION BY HASH (app_name, user_id) PARTITIONS {int(amount)}"
            else:
                day = self.d.quote("partition_day")
                found.append(
                    f"ALTER TABLE {table} ADD ({day} NUMBER(10) GENERATED ALWAYS AS "
                    f"(CAST(FLOOR({column} / 86400) AS NUMBER(10))) VIRTUAL)"
                )
                found.append(f"ALTER TABLE {table} ENABLE ROW MOVEMENT")
                scheme = f"PARTITION BY RANGE ({day}) INTERVAL ({int(amount)}) (PARTITION p0 VALUES LESS THAN (0))"
            text_index = raw == self.a.memory_table and self.d.memory.memory_fts
            if text_index:
                found.append(self.drop_text_index())
            found.append(f"ALTER TABLE {table} MODIFY {scheme} ONLINE UPDATE INDEXES")
            if text_index:
                found.append(self.text_index())
        return found

    def drop_text_index(self) -> str:
        """Drop the Oracle Text index (absent is fine: ORA-01418), so the table can be repartitioned. Unqualified,
        as version 1 and :meth:`text_index` name it: Oracle makes an index in the current schema, whatever
        schema its table is in (``schema`` names the table's)."""
        name = self.d.index_name(self.a.memory_table, "fts_idx")
        return (
            f"BEGIN EXECUTE IMMEDIATE 'DROP INDEX {name}'; "
            "EXCEPTION WHEN OTHERS THEN IF SQLCODE <> -1418 THEN RAISE; END IF; END;"
        )

    def text_index(self) -> str:
        """Version 1's Oracle Text index, made again over the partitioned table (global, not LOCAL)."""
        return (
            f"CREATE INDEX {self.d.index_name(self.a.memory_table, 'fts_idx')} ON {self.d.memory_table} "
            "(search_text) INDEXTYPE IS CTXSYS.CONTEXT PARAMETERS ('STOPLIST CTXSYS.EMPTY_STOPLIST SYNC (ON COMMIT)')"
        )


#: Per Spanner component: (table key, shard key expression, time column) of its sharded tables.
_SPANNER_SHARDED = {
    "sessions": (("session_table", "id", "update_time"), ("events_table", "id", "timestamp")),
    "memory": (("memory_table", "id", "timestamp"),),
    "artifacts": (("artifact_table", "CONCAT(user_id, '/', scope, '/', filename)", "create_time"),),
}
#: The generated TIMESTAMP a policy reads, per table key: the time column ``prune`` compares.
_SPANNER_TTL_SOURCE = {"events_table": "timestamp", "memory_table": "timestamp", "artifact_table": "create_time"}
_SPANNER_TABLES = {
    "sessions": ("session_table", "events_table", "app_state_table", "user_state_table"),
    "memory": ("memory_table",),
    "artifacts": ("artifact_table",),
}
#: Per component, (table key, index suffix) of the secondary indexes of versions 1 and 2 (owner ones with an owner).
_SPANNER_INDEXES = {
    "sessions": (("session_table", "list_idx"), ("events_table", "id_uq"), ("events_table", "compaction_idx")),
    "memory": (("memory_table", "event_uq"), ("memory_table", "scope_idx"), ("memory_table", "session_idx")),
    "artifacts": (),
}
_SPANNER_OWNER_INDEXES = {"sessions": "session_table", "memory": "memory_table", "artifacts": "artifact_table"}


def spanner_shard_index(dialect: Dialect, table_key: str) -> str:
    """The quoted name of a table's ``(shard_id, <time>)`` index (``table_key``: e.g. ``"events_table"``)."""
    return dialect.index_name(getattr(dialect.adk, table_key), "shard_idx")


class _Spanner(_Change):
    def render(self) -> Sequence[str]:
        found = [*self.shards(), *self.ttl()]
        found += self.options(
            "spanner_table_options",
            "TABLE",
            [self.d.table(getattr(self.a, key)) for key in _SPANNER_TABLES[self.component]],
        )
        found += self.options("spanner_index_options", "INDEX", self.indexes(), fresh=self.new_shard_indexes())
        return found

    def sharded(self) -> list[tuple[str, str, str, str]]:
        """(table key, quoted table, shard key expression, time column) of the component's sharded tables."""
        return [
            (key, self.d.table(getattr(self.a, key)), expr, time)
            for key, expr, time in _SPANNER_SHARDED[self.component]
        ]

    def shards(self) -> list[str]:
        if not self.changed("spanner_shard_count"):
            return []
        found: list[str] = []
        count = self.now.get("spanner_shard_count")
        for key, table, expression, time in self.sharded():
            index = spanner_shard_index(self.d, key)
            if self.before.get("spanner_shard_count"):
                # A stored generated column's expression cannot change: drop it (its index first), add it anew.
                found += [f"DROP INDEX IF EXISTS {index}", f"ALTER TABLE {table} DROP COLUMN {SHARD_COLUMN}"]
            if count:
                found.append(
                    f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {SHARD_COLUMN} INT64 AS "
                    f"(ABS(MOD(FARM_FINGERPRINT({expression}), {int(count)}))) STORED"
                )
                found.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({SHARD_COLUMN}, {time})")
        return found

    def new_shard_indexes(self) -> list[str]:
        if not self.changed("spanner_shard_count") or not self.now.get("spanner_shard_count"):
            return []
        return [spanner_shard_index(self.d, key) for key, *_ in self.sharded()]

    def ttl(self) -> list[str]:
        if not self.changed("spanner_ttl_days"):
            return []
        before: Mapping[str, int] = self.before.get("spanner_ttl_days") or {}
        now: Mapping[str, int] = self.now.get("spanner_ttl_days") or {}
        found: list[str] = []
        for key, source in _SPANNER_TTL_SOURCE.items():
            raw = getattr(self.a, key)
            if before.get(raw) == now.get(raw):
                continue
            table = self.d.table(raw)
            policy = f"ROW DELETION POLICY (OLDER_THAN({SPANNER_TTL_COLUMN}, INTERVAL {int(now.get(raw, 0))} DAY))"
            if now.get(raw):
                # TIMESTAMP_MICROS of the float seconds: the very instant prune compares against.
                found.append(
                    f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {SPANNER_TTL_COLUMN} TIMESTAMP AS "
                    f"(TIMESTAMP_MICROS(CAST({source} * 1000000 AS INT64))) STORED"
                )
                # ADD even when a policy was recorded before: it is "already done" when the policy is there (an
                # age change, a rerun), and REPLACE, which fails where there is none, then always finds one.
                found.append(f"ALTER TABLE {table} ADD {policy}")
                found.append(f"ALTER TABLE {table} REPLACE {policy}")
            else:
                found.append(f"ALTER TABLE {table} DROP ROW DELETION POLICY")
                found.append(f"ALTER TABLE {table} DROP COLUMN {SPANNER_TTL_COLUMN}")
        return found

    def indexes(self) -> list[str]:
        """The quoted names of the component's secondary indexes (versions 1 and 2, and the shard indexes)."""
        pairs = list(_SPANNER_INDEXES[self.component])
        if self.a.owner_id_column is not None:
            pairs.append((_SPANNER_OWNER_INDEXES[self.component], "owner_idx"))
        names = [self.d.index_name(getattr(self.a, key), suffix) for key, suffix in pairs]
        if self.now.get("spanner_shard_count"):
            names += [spanner_shard_index(self.d, key) for key, *_ in self.sharded()]
        return names

    def options(self, key: str, kind: str, targets: list[str], fresh: Sequence[str] = ()) -> list[str]:
        """``ALTER <kind> ... SET OPTIONS`` for the options that changed (removed ones set to NULL); the
        ``fresh`` targets (made by this run) get every configured option."""
        before: Mapping[str, str] = self.before.get(key) or {}
        now: Mapping[str, str] = self.now.get(key) or {}
        changed = {name: now.get(name, "NULL") for name in sorted({*before, *now}) if before.get(name) != now.get(name)}
        found = []
        for target in targets:
            settings = dict(now) if target in fresh else changed
            if settings:
                assignments = ", ".join(f"{name} = {value}" for name, value in sorted(settings.items()))
                found.append(f"ALTER {kind} {target} SET OPTIONS ({assignments})")
        return found


_RENDERERS: dict[str, type[_Change]] = {"sqlite": _Sqlite, "oracle": _Oracle, "spanner": _Spanner}
