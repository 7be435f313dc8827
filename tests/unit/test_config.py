"""extension_config['adk'] validation: clear errors at construction, naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from sqlspec_adk.adapters.aiosqlite import AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import LATEST_VERSION
from sqlspec_adk.protocol import operation
from sqlspec_adk.settings import ADKConfig


def test_defaults() -> None:
    config = SqliteConfig()
    assert config.adk.session_table == "adk_session"
    assert config.adk.events_table == "adk_event"
    assert config.adk.metadata_table == "adk_internal_metadata"
    assert config.adk.memory_table == "adk_memory"
    assert config.adk.artifact_table == "adk_artifact"
    assert config.adk.memory_use_fts is None
    assert config.dialect.session_table == '"adk_session"'


@pytest.mark.parametrize(
    ("adk", "key"),
    [
        ({"session_tabel": "x"}, "session_tabel"),
        ({"session_table": "drop table x; --"}, "session_table"),
        ({"events_table": "1abc"}, "events_table"),
        ({"memory_table": ""}, "memory_table"),
        ({"artifact_table": "a" * 64}, "artifact_table"),
        ({"user_state_table": 'q"uote'}, "user_state_table"),
        ({"memory_use_fts": "yes"}, "memory_use_fts"),
        ({"memory_max_results": 0}, "memory_max_results"),
        ({"memory_max_results": True}, "memory_max_results"),
        ({"owner_id_column": "tenant_id"}, "owner_id_column"),
        ({"owner_id_column": "tenant_id INTEGER; DROP TABLE x"}, "owner_id_column"),
        ({"owner_id_column": "a INTEGER, b INTEGER"}, "owner_id_column"),
        ({"owner_id_column": "1bad INTEGER"}, "owner_id_column"),
        ({"enable_sessions": 1}, "enable_sessions"),
        ({"busy_timeout": -1}, "busy_timeout"),
        ({"artifact_storage_uri": ""}, "artifact_storage_uri"),
        ({"schema": "app"}, "schema"),
    ],
)
def test_bad_values_fail_at_construction_naming_the_key(adk: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        SqliteConfig(extension_config={"adk": adk})
    with pytest.raises(ConfigError, match=key):
        AiosqliteConfig(extension_config={"adk": adk})


def test_same_table_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="same table"):
        ADKConfig.from_mapping({"session_table": "t", "events_table": "t"})


def test_owner_column_is_parsed() -> None:
    config = ADKConfig.from_mapping({"owner_id_column": "tenant_id INTEGER NOT NULL REFERENCES tenants(id)"})
    assert config.owner_id_column is not None
    assert config.owner_id_column.name == "tenant_id"


def test_extension_config_shape_is_checked() -> None:
    with pytest.raises(ConfigError):
        SqliteConfig(extension_config={"adk": ["not", "a", "mapping"]})


def test_disabled_sessions_refuse_a_session_store() -> None:
    with pytest.raises(ConfigError, match="enable_sessions"):
        SqliteADKStore(SqliteConfig(extension_config={"adk": {"enable_sessions": False}}))


def test_custom_table_names_are_used(tmp_path: Any) -> None:
    config = SqliteConfig(
        connection_config={"database": str(tmp_path / "x.db")},
        extension_config={"adk": {"session_table": "my_sessions"}},
    )
    store = SqliteADKStore(config)
    store.create_tables()
    assert store.create_tables() == LATEST_VERSION  # idempotent
    tables = {row[0] for row in config.run(operation("t", _names, write=False))}
    assert "my_sessions" in tables and "adk_session" not in tables
    config.close_pool()


def _names() -> Any:
    from sqlspec_adk.protocol import Fetch, Stmt

    rows = yield Stmt("SELECT name FROM sqlite_master WHERE type = 'table'", (), Fetch.ALL)
    return rows


@pytest.mark.parametrize("adapter", ["sqlite", "aiosqlite", "duckdb", "adbc_sqlite"])
def test_a_database_given_in_pool_config_is_refused_not_opened_in_memory(adapter: str, tmp_path: Any) -> None:
    """``pool_config={'database': ...}`` used to be ignored, so the config ran on an in-memory database."""
    from tests.reliability.support import spec_named

    spec = spec_named(adapter)
    build = spec.classes()[0]
    connection = spec.connection(tmp_path)
    location = "uri" if adapter.startswith("adbc") else "database"
    rest = {key: value for key, value in connection.items() if key != location}
    with pytest.raises(ConfigError, match=f"not {location}; '{location}' goes in connection_config"):
        build(connection_config=rest, pool_config={location: connection[location]})
    with pytest.raises(ConfigError, match="takes 'max_size', not min_size"):
        build(connection_config=connection, pool_config={"min_size": 1})
    build(connection_config=connection, pool_config={"max_size": 2})  # opens nothing yet
