"""Per-backend and retention keys of ``extension_config["adk"]``: validated at config construction, one
family each (a key given to another backend is a ConfigError naming the key and the backend), URI forms."""

from __future__ import annotations

from typing import Any

import pytest

from sqlspec_adk.backend_options import FAMILY_KEYS, FAMILY_NAMES, Retention
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.registry import config_from_uri, load_adapter
from sqlspec_adk.settings import ADKConfig

#: A valid value of every per-backend key.
VALID: dict[str, Any] = {
    "sqlite_fts_tokenizer": "porter",
    "sqlite_fts_detail": "none",
    "sqlite_cache_size": -64000,
    "sqlite_mmap_size": 1 << 28,
    "sqlite_journal_size_limit": 1 << 24,
    "sqlite_wal_autocheckpoint": 2_000,
    "oracle_json_storage": "json",
    "oracle_inmemory": True,
    "oracle_compression": "advanced",
    "oracle_partitioning": "hash",
    "oracle_hash_partitions": 32,
    "spanner_shard_count": 8,
    "spanner_table_options": {"locality_group": "hot"},
    "spanner_index_options": {"locality_group": "hot"},
}
#: An adapter config of each family, with a connection config that needs no server at construction.
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "sqlite": ("sqlite", {"database": ":memory:"}),
    "duckdb": ("duckdb", {"database": ":memory:"}),
    "postgresql": ("asyncpg", {"dsn": "postgresql://nobody@127.0.0.1:1/none"}),
    "cockroachdb": ("cockroach_asyncpg", {"dsn": "postgresql://nobody@127.0.0.1:1/none"}),
    "mysql": ("pymysql", {"host": "127.0.0.1", "database": "none"}),
    "oracle": ("oracledb", {"user": "u", "password": "p", "dsn": "127.0.0.1:1/none"}),
    "spanner": ("spanner", {"project": "p", "instance_id": "i", "database_id": "d"}),
}


def build(family: str, adk: dict[str, Any]) -> Any:
    adapter, connection = CONFIGS[family]
    return load_adapter(adapter)[0](connection_config=connection, extension_config={"adk": adk})


@pytest.mark.parametrize("family", list(CONFIGS))
def test_each_key_is_accepted_by_its_family_only(family: str) -> None:
    for owner, keys in FAMILY_KEYS.items():
        for key in keys:
            adk = {key: VALID.get(key, 7)}
            if key == "oracle_range_interval_days":
                adk = {"oracle_partitioning": "range", key: 7}
            if key == "oracle_hash_partitions":
                adk = {"oracle_partitioning": "hash", key: 8}
            if owner == family:
                build(family, adk)  # accepted
                continue
            with pytest.raises(ConfigError) as refused:
                build(family, adk)
            message = str(refused.value)
            assert repr(next(iter(adk))) in message or repr(key) in message
            assert FAMILY_NAMES[family] in message and FAMILY_NAMES[owner] in message


def test_every_per_backend_key_has_a_valid_example() -> None:
    assert {key for keys in FAMILY_KEYS.values() for key in keys} == set(VALID) | {"oracle_range_interval_days"}
    ADKConfig.from_mapping({key: value for key, value in VALID.items() if key.startswith("sqlite_")})


@pytest.mark.parametrize(
    ("adk", "words"),
    [
        ({"sqlite_fts_tokenizer": "snowball"}, "'sqlite_fts_tokenizer'] must be one of unicode61, porter"),
        ({"sqlite_fts_detail": "some"}, "full, column, none"),
        ({"sqlite_cache_size": "big"}, "'sqlite_cache_size'] must be an integer"),
        ({"sqlite_cache_size": True}, "must be an integer"),
        ({"sqlite_mmap_size": -1}, "'sqlite_mmap_size'] must be an integer in 0.."),
        ({"sqlite_wal_autocheckpoint": -1}, "'sqlite_wal_autocheckpoint'] must be an integer in 0.."),
        ({"sqlite_journal_size_limit": -2}, "in -1.."),
        ({"oracle_json_storage": "blob"}, "auto, json, clob"),
        ({"oracle_inmemory": "yes"}, "'oracle_inmemory'] must be true or false"),
        ({"oracle_compression": "hcc"}, "none, basic, advanced"),
        ({"oracle_partitioning": "list"}, "none, hash, range"),
        ({"oracle_hash_partitions": 8}, "needs oracle_partitioning='hash'"),
        ({"oracle_partitioning": "hash", "oracle_hash_partitions": 1}, "in 2..1024"),
        ({"oracle_range_interval_days": 7}, "needs oracle_partitioning='range'"),
        ({"spanner_shard_count": 1}, "'spanner_shard_count'] must be an integer in 2..1024"),
        ({"spanner_table_options": ["x"]}, "must be a mapping"),
        ({"spanner_table_options": {"bad name": 1}}, "must be a plain identifier"),
        ({"spanner_index_options": {"locality_group": "x'); DROP TABLE t; --"}}, "a plain word"),
        ({"spanner_index_options": {"n": 1.5}}, "a plain word"),
        ({"retention_events_days": 0}, "'retention_events_days'] must be an integer in 1..36500"),
        ({"retention_memory_days": "30"}, "'retention_memory_days'] must be an integer"),
    ],
)
def test_bad_values_are_refused_naming_the_key(adk: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=None) as refused:
        ADKConfig.from_mapping(adk)
    assert words in str(refused.value)


def test_defaults_and_parsed_values() -> None:
    adk = ADKConfig.from_mapping({})
    assert adk.backend.sqlite.pragmas() == ["PRAGMA wal_autocheckpoint = 10000"]
    assert adk.backend.given == frozenset() and adk.backend.retention == Retention()
    tuned = ADKConfig.from_mapping(
        {"sqlite_cache_size": -2000, "sqlite_mmap_size": 0, "spanner_table_options": {"b": True, "a": 3, "c": "x.y"}}
    )
    assert tuned.backend.sqlite.pragmas() == [
        "PRAGMA cache_size = -2000",
        "PRAGMA mmap_size = 0",
        "PRAGMA wal_autocheckpoint = 10000",
    ]
    assert tuned.backend.spanner.table_options == (("a", "3"), ("b", "TRUE"), ("c", "'x.y'"))
    ages = ADKConfig.from_mapping({"retention_events_days": 30, "retention_idle_sessions_days": 90}).backend.retention
    assert ages.cutoffs(100 * 86400.0) == {
        "idle_sessions": 10 * 86400.0,
        "events": 70 * 86400.0,
        "memory": None,
        "artifacts": None,
    }


def test_uri_parameters_take_the_settings_types() -> None:
    _, config = config_from_uri(
        "sqlspec+sqlite:///:memory:?sqlite_fts_tokenizer=porter&sqlite_cache_size=-4000&retention_events_days=7"
    )
    assert config.adk.backend.sqlite.fts_tokenizer == "porter" and config.adk.backend.sqlite.cache_size == -4000
    assert config.adk.backend.retention.events_days == 7
    _, spanner = config_from_uri(
        "sqlspec+spanner:///projects/p/instances/i/databases/d?spanner_shard_count=4"
        '&spanner_table_options={"locality_group":"hot"}'
    )
    assert spanner.adk.backend.spanner.shard_count == 4
    with pytest.raises(ConfigError, match="sqlite_mmap_size='lots' must be an integer"):
        config_from_uri("sqlspec+sqlite:///:memory:?sqlite_mmap_size=lots")
    with pytest.raises(ConfigError, match="is for SQLite only; this config's backend is DuckDB"):
        config_from_uri("sqlspec+duckdb:///:memory:?sqlite_cache_size=10")
