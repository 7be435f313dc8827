"""URI parsing, scheme registration and the URI-built services (in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.adk.cli.service_registry import ServiceRegistry

from sqlspec_adk.adk_integration import URIArtifactService, URIMemoryService, URISessionService, register_schemes
from sqlspec_adk.cli import _expand_sqlspec_uri
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.operations.database import close_config
from sqlspec_adk.registry import ADAPTERS, config_from_uri, parse_uri, scheme_for


def test_every_adapter_has_a_parseable_scheme() -> None:
    from urllib.parse import urlparse

    for driver in ADAPTERS:
        scheme = scheme_for(driver)
        assert urlparse(f"{scheme}://host/db").scheme == scheme


def test_query_parameters_split_into_adk_pool_and_driver() -> None:
    parsed = parse_uri(
        "sqlspec+asyncpg://me:secret@db.local:5433/app?session_table=s&memory_use_fts=false"
        "&memory_max_results=5&pool_max_size=7&sslmode=require&create_tables=false"
    )
    assert parsed.driver == "asyncpg"
    assert parsed.adk == {
        "session_table": "s",
        "memory_use_fts": False,
        "memory_max_results": 5,
        "create_tables": False,
    }
    assert parsed.pool == {"max_size": 7}
    assert parsed.connection == {"dsn": "postgresql://me:secret@db.local:5433/app?sslmode=require"}


def test_numeric_keys_take_their_types_from_the_uri(tmp_path: Path) -> None:
    """Every number-valued key of extension_config['adk'] is converted, so a URI can set what a mapping can."""
    query = "group_commit_max=8&memory_vector_cache_mb=16&busy_timeout=2.5&memory_max_results=3"
    parsed = parse_uri(f"sqlspec+sqlite:///{tmp_path / 'n.db'}?{query}")
    assert parsed.adk == {
        "group_commit_max": 8,
        "memory_vector_cache_mb": 16,
        "busy_timeout": 2.5,
        "memory_max_results": 3,
    }
    _, config = config_from_uri(f"sqlspec+sqlite:///{tmp_path / 'n.db'}?{query}")
    assert (config.adk.group_commit_max, config.adk.memory_vector_cache_mb) == (8, 16)
    with pytest.raises(ConfigError, match="group_commit_max='many' must be an integer"):
        parse_uri(f"sqlspec+sqlite:///{tmp_path / 'n.db'}?group_commit_max=many")


def test_hyphen_and_underscore_driver_names_are_the_same() -> None:
    assert parse_uri("sqlspec+cockroach-asyncpg://h/db").driver == "cockroach_asyncpg"
    assert parse_uri("sqlspec+cockroach_asyncpg://h/db").driver == "cockroach_asyncpg"
    # The connection too: urlsplit reads no scheme holding "_", so the "_" spelling once gave the whole URI.
    for spelling in ("adbc_duckdb", "adbc-duckdb"):
        parsed = parse_uri(f"sqlspec+{spelling}:////tmp/x.duckdb?memory_max_results=3")
        assert parsed.connection["uri"] == "/tmp/x.duckdb" and parsed.adk == {"memory_max_results": 3}
    for spelling in ("psycopg_sync", "psycopg-sync"):
        assert parse_uri(f"sqlspec+{spelling}://u@h:5/db").connection == {"conninfo": "postgresql://u@h:5/db"}


def test_file_databases_and_mysql_parameters() -> None:
    assert parse_uri("sqlspec+sqlite:///rel/adk.db").connection == {"database": "rel/adk.db"}
    assert parse_uri("sqlspec+aiosqlite:////abs/adk.db").connection == {"database": "/abs/adk.db"}
    assert parse_uri("sqlspec+sqlite://").connection == {"database": ":memory:"}
    mysql = parse_uri("sqlspec+asyncmy://root:p%40ss@127.0.0.1:3307/app").connection
    assert mysql == {"host": "127.0.0.1", "port": 3307, "user": "root", "password": "p@ss", "database": "app"}


def test_bad_uris_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="unknown URI parameter"):
        parse_uri("sqlspec+sqlite:///x.db?sesion_table=typo")
    with pytest.raises(ConfigError, match="unknown adapter"):
        parse_uri("sqlspec+nosuch:///x")
    with pytest.raises(ConfigError, match="sqlspec\\+aiosqlite"):
        parse_uri("postgresql://h/db")
    with pytest.raises(ConfigError, match="memory_use_fts"):
        parse_uri("sqlspec+sqlite:///x.db?memory_use_fts=maybe")
    with pytest.raises(ConfigError, match="session_table"):
        config_from_uri("sqlspec+sqlite:///x.db?session_table=bad name")


def test_register_schemes_on_a_registry(tmp_path: Path) -> None:
    registry = ServiceRegistry()
    schemes = register_schemes(registry)
    assert "sqlspec+aiosqlite" in schemes and "sqlspec+cockroach-asyncpg" in schemes
    uri = f"sqlspec+sqlite:///{tmp_path / 'r.db'}"
    service = registry.create_session_service(uri, agents_dir=str(tmp_path))
    assert isinstance(service, URISessionService)
    assert isinstance(registry.create_memory_service(uri, agents_dir=str(tmp_path)), URIMemoryService)
    artifacts = registry.create_artifact_service(uri, agents_dir=str(tmp_path))
    assert isinstance(artifacts, URIArtifactService)
    assert artifacts.storage.root_uri == (tmp_path / "r.artifacts").as_uri()


async def test_tables_exist_when_the_service_is_built(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "eager.db"
    service = URISessionService(f"sqlspec+aiosqlite:///{database}?session_table=eager_sessions")
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")}
    assert "eager_sessions" in tables
    created = await service.create_session(app_name="a", user_id="u", session_id="s")
    assert created.id == "s"
    await close_config(service.config)


def test_create_tables_false_requires_migrate(tmp_path: Path) -> None:
    uri = f"sqlspec+sqlite:///{tmp_path / 'lazy.db'}?create_tables=false"
    with pytest.raises(ConfigError, match="migrate upgrade"):
        URISessionService(uri)
    URISessionService(uri.replace("create_tables=false", "create_tables=true"))
    URISessionService(uri)  # now the schema is there


def test_artifact_service_on_a_server_needs_a_location() -> None:
    # Refused before any connection is tried (port 1 would fail otherwise).
    with pytest.raises(ConfigError, match="artifact_storage_uri"):
        URIArtifactService("sqlspec+asyncpg://127.0.0.1:1/db")


def test_sqlspec_uri_expands_to_the_three_services() -> None:
    assert _expand_sqlspec_uri(["web", "--sqlspec_uri", "U", "agents"]) == [
        "web",
        "--session_service_uri=U",
        "--memory_service_uri=U",
        "--artifact_service_uri=U",
        "agents",
    ]
    kept = _expand_sqlspec_uri(["run", "--sqlspec_uri=U", "--artifact_service_uri=memory://", "a"])
    assert "--artifact_service_uri=U" not in kept and "--artifact_service_uri=memory://" in kept
