"""Per-backend and retention keys of ``extension_config["adk"]``: parsed with the other settings, as data.

Each backend option belongs to one SQL family (:data:`FAMILY_KEYS`); the key
names it (``sqlite_``, ``oracle_``, ``spanner_``). Giving one to a config of
another family is a ``ConfigError`` naming the key and both backends, raised
when the config is built (:func:`check_family`, called by the dialect). The
``retention_*`` keys mean the same on every backend: the age in whole days
past which ``sqlspec-adk prune`` deletes, by default, and (Spanner) the row
deletion policies of migration version 3 delete. No I/O, no driver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlspec_adk.errors import ConfigError

__all__ = [
    "FAMILY_KEYS",
    "BackendSettings",
    "FAMILY_NAMES",
    "OPTION_KEYS",
    "RETENTION_KEYS",
    "OracleOptions",
    "Retention",
    "SpannerOptions",
    "SqliteOptions",
    "check_family",
    "option_from_text",
    "parse",
]

FAMILY_NAMES = {
    "sqlite": "SQLite",
    "duckdb": "DuckDB",
    "postgresql": "PostgreSQL",
    "cockroachdb": "CockroachDB",
    "mysql": "MySQL/MariaDB",
    "oracle": "Oracle",
    "spanner": "Spanner",
}
FAMILY_KEYS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "sqlite_fts_tokenizer",
        "sqlite_fts_detail",
        "sqlite_cache_size",
        "sqlite_mmap_size",
        "sqlite_journal_size_limit",
        "sqlite_wal_autocheckpoint",
    ),
    "oracle": (
        "oracle_json_storage",
        "oracle_inmemory",
        "oracle_compression",
        "oracle_partitioning",
        "oracle_hash_partitions",
        "oracle_range_interval_days",
    ),
    "spanner": ("spanner_shard_count", "spanner_table_options", "spanner_index_options"),
}
#: Every per-backend key.
OPTION_KEYS = frozenset(key for keys in FAMILY_KEYS.values() for key in keys)
RETENTION_KEYS = (
    "retention_idle_sessions_days",
    "retention_events_days",
    "retention_memory_days",
    "retention_artifacts_days",
)
#: Longest retention: a hundred years.
MAX_RETENTION_DAYS = 36_500
_OPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_OPTION_TEXT = re.compile(r"[A-Za-z0-9_.:/-]{1,256}")


def _key(name: str) -> str:
    return f"extension_config['adk'][{name!r}]"


def _choice(raw: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = raw[name]
    if value not in choices:
        raise ConfigError(f"{_key(name)} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _integer(raw: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{_key(name)} must be an integer in {low}..{high}, got {value!r}")
    return value


def _flag(raw: Mapping[str, Any], name: str) -> bool:
    value = raw[name]
    if not isinstance(value, bool):
        raise ConfigError(f"{_key(name)} must be true or false, got {value!r}")
    return value


def _spanner_options(raw: Mapping[str, Any], name: str) -> tuple[tuple[str, str], ...]:
    """``{option: value}`` as (name, GoogleSQL literal) pairs: names are identifiers, values booleans,
    integers or plain words (letters, digits, ``_ . : / -``), so no value can end its literal."""
    value = raw[name]
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_key(name)} must be a mapping of option names to values, got {value!r}")
    pairs: list[tuple[str, str]] = []
    for option, setting in sorted(value.items()):
        if not isinstance(option, str) or not _OPTION_NAME.fullmatch(option):
            raise ConfigError(f"{_key(name)}: option name {option!r} must be a plain identifier")
        if isinstance(setting, bool):
            literal = "TRUE" if setting else "FALSE"
        elif isinstance(setting, int):
            literal = str(setting)
        elif isinstance(setting, str) and _OPTION_TEXT.fullmatch(setting):
            literal = f"'{setting}'"
        else:
            raise ConfigError(
                f"{_key(name)}[{option!r}] must be true/false, an integer or a plain word "
                f"(letters, digits, _ . : / -), got {setting!r}"
            )
        pairs.append((option, literal))
    return tuple(pairs)


#: Pages of WAL after which a commit checkpoints (``sqlite_wal_autocheckpoint``'s default; SQLite's is 1,000).
WAL_AUTOCHECKPOINT = 10_000


@dataclass(frozen=True, slots=True)
class SqliteOptions:
    """SQLite: the FTS5 memory index (``fts_tokenizer`` ``unicode61`` or ``porter``, ``fts_detail``
    ``full``/``column``/``none``) and PRAGMAs every connection runs (None: SQLite's default).

    ``wal_autocheckpoint`` (pages) is always set: SQLite's 1,000 copies the pages a write dirtied back
    into the database file after nearly every large commit, while 10,000 copies a page that later
    commits dirty again once (benchmark W7's live memory ingest at 1,000,000 entries: 64.8 against
    89.7 µs per entry).
    """

    fts_tokenizer: str = "unicode61"
    fts_detail: str = "full"
    cache_size: int | None = None
    mmap_size: int | None = None
    journal_size_limit: int | None = None
    wal_autocheckpoint: int = WAL_AUTOCHECKPOINT

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SqliteOptions:
        values: dict[str, Any] = {}
        if "sqlite_fts_tokenizer" in raw:
            values["fts_tokenizer"] = _choice(raw, "sqlite_fts_tokenizer", ("unicode61", "porter"))
        if "sqlite_fts_detail" in raw:
            values["fts_detail"] = _choice(raw, "sqlite_fts_detail", ("full", "column", "none"))
        if "sqlite_cache_size" in raw:
            # Negative: KiB; positive: pages (SQLite's own rule).
            values["cache_size"] = _integer(raw, "sqlite_cache_size", -(2**40), 2**31 - 1)
        if "sqlite_mmap_size" in raw:
            values["mmap_size"] = _integer(raw, "sqlite_mmap_size", 0, 2**62)
        if "sqlite_journal_size_limit" in raw:
            values["journal_size_limit"] = _integer(raw, "sqlite_journal_size_limit", -1, 2**62)
        if "sqlite_wal_autocheckpoint" in raw:
            # 0 turns automatic checkpoints off (SQLite's rule): the WAL then grows until someone checkpoints.
            values["wal_autocheckpoint"] = _integer(raw, "sqlite_wal_autocheckpoint", 0, 2**31 - 1)
        return cls(**values)

    def pragmas(self) -> list[str]:
        """The tuning PRAGMAs (those set, and ``wal_autocheckpoint``); every value is a validated integer."""
        settings = (
            ("cache_size", self.cache_size),
            ("mmap_size", self.mmap_size),
            ("journal_size_limit", self.journal_size_limit),
            ("wal_autocheckpoint", self.wal_autocheckpoint),
        )
        return [f"PRAGMA {name} = {int(value)}" for name, value in settings if value is not None]


@dataclass(frozen=True, slots=True)
class OracleOptions:
    """Oracle: JSON storage of the state columns, In-Memory column store, row compression, partitioning."""

    json_storage: str = "auto"
    inmemory: bool = False
    compression: str = "none"
    partitioning: str = "none"
    hash_partitions: int = 16
    range_interval_days: int = 30

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> OracleOptions:
        values: dict[str, Any] = {}
        if "oracle_json_storage" in raw:
            values["json_storage"] = _choice(raw, "oracle_json_storage", ("auto", "json", "clob"))
        if "oracle_inmemory" in raw:
            values["inmemory"] = _flag(raw, "oracle_inmemory")
        if "oracle_compression" in raw:
            values["compression"] = _choice(raw, "oracle_compression", ("none", "basic", "advanced"))
        if "oracle_partitioning" in raw:
            values["partitioning"] = _choice(raw, "oracle_partitioning", ("none", "hash", "range"))
        method = values.get("partitioning", "none")
        if "oracle_hash_partitions" in raw:
            if method != "hash":
                raise ConfigError(f"{_key('oracle_hash_partitions')} needs oracle_partitioning='hash'")
            values["hash_partitions"] = _integer(raw, "oracle_hash_partitions", 2, 1024)
        if "oracle_range_interval_days" in raw:
            if method != "range":
                raise ConfigError(f"{_key('oracle_range_interval_days')} needs oracle_partitioning='range'")
            values["range_interval_days"] = _integer(raw, "oracle_range_interval_days", 1, 3660)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class SpannerOptions:
    """Spanner: hash-sharded time indexes (``shard_count``) and ``OPTIONS (...)`` set on the library's
    tables and secondary indexes, as (name, literal) pairs."""

    shard_count: int | None = None
    table_options: tuple[tuple[str, str], ...] = ()
    index_options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SpannerOptions:
        values: dict[str, Any] = {}
        if raw.get("spanner_shard_count") is not None:
            values["shard_count"] = _integer(raw, "spanner_shard_count", 2, 1024)
        if raw.get("spanner_table_options") is not None:
            values["table_options"] = _spanner_options(raw, "spanner_table_options")
        if raw.get("spanner_index_options") is not None:
            values["index_options"] = _spanner_options(raw, "spanner_index_options")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Retention:
    """Ages in whole days (None: no default for that rule), one meaning on every backend:

    - ``idle_sessions_days``: sessions whose last update (``update_time``) is older, with their events;
    - ``events_days``: events whose ADK timestamp is older;
    - ``memory_days``: memory entries whose timestamp is older (deleted-entry markers too);
    - ``artifacts_days``: artifact versions created longer ago (rows and content).
    """

    idle_sessions_days: int | None = None
    events_days: int | None = None
    memory_days: int | None = None
    artifacts_days: int | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Retention:
        values = {
            key.removeprefix("retention_"): _integer(raw, key, 1, MAX_RETENTION_DAYS)
            for key in RETENTION_KEYS
            if raw.get(key) is not None
        }
        return cls(**values)

    def cutoffs(self, now: float) -> dict[str, float | None]:
        """Per rule, the epoch-seconds cut-off ``now`` minus its age (None when unset)."""
        return {
            name: None if days is None else now - days * 86_400.0
            for name, days in (
                ("idle_sessions", self.idle_sessions_days),
                ("events", self.events_days),
                ("memory", self.memory_days),
                ("artifacts", self.artifacts_days),
            )
        }


@dataclass(frozen=True, slots=True)
class BackendSettings:
    """What :func:`parse` returns: the options of each family, the retention ages and the backend keys given."""

    sqlite: SqliteOptions = field(default_factory=SqliteOptions)
    oracle: OracleOptions = field(default_factory=OracleOptions)
    spanner: SpannerOptions = field(default_factory=SpannerOptions)
    retention: Retention = field(default_factory=Retention)
    given: frozenset[str] = frozenset()


def parse(raw: Mapping[str, Any]) -> BackendSettings:
    """The per-backend and retention keys of an ``extension_config["adk"]`` mapping, validated."""
    return BackendSettings(
        sqlite=SqliteOptions.from_mapping(raw),
        oracle=OracleOptions.from_mapping(raw),
        spanner=SpannerOptions.from_mapping(raw),
        retention=Retention.from_mapping(raw),
        given=frozenset(key for key in OPTION_KEYS if raw.get(key) is not None),
    )


def check_family(given: frozenset[str], family: str) -> None:
    """Refuse a per-backend key given to a config of another family (names the key and both backends)."""
    for owner, keys in FAMILY_KEYS.items():
        if owner == family:
            continue
        wrong = sorted(given & set(keys))
        if wrong:
            here = FAMILY_NAMES.get(family, family or "this backend")
            raise ConfigError(
                f"{_key(wrong[0])} is for {FAMILY_NAMES[owner]} only; this config's backend is {here}, "
                "which does not have that option: remove the key"
            )


def _json_mapping(key: str, value: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise ConfigError(f"URI parameter {key} must be a JSON object, got {value!r}") from error
    return parsed


def _uri_integer(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as error:
        raise ConfigError(f"URI parameter {key}={value!r} must be an integer") from error


def _uri_bool(key: str, value: str) -> bool:
    words = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
    if value.lower() not in words:
        raise ConfigError(f"URI parameter {key}={value!r} must be true or false")
    return words[value.lower()]


_URI_CONVERTERS: dict[str, Callable[[str, str], Any]] = {
    **dict.fromkeys(
        (
            "sqlite_cache_size",
            "sqlite_mmap_size",
            "sqlite_journal_size_limit",
            "sqlite_wal_autocheckpoint",
            "oracle_hash_partitions",
            "oracle_range_interval_days",
            "spanner_shard_count",
            *RETENTION_KEYS,
        ),
        _uri_integer,
    ),
    "oracle_inmemory": _uri_bool,
    "spanner_table_options": _json_mapping,
    "spanner_index_options": _json_mapping,
}


def option_from_text(key: str, value: str) -> Any:
    """A per-backend or retention key's URI query value as the type its setting takes (others unchanged)."""
    convert = _URI_CONVERTERS.get(key)
    return value if convert is None else convert(key, value)
