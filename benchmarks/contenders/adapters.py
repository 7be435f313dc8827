"""This library's adapters as the benchmark builds them: module, class prefix, family, connect keywords.

An adapter whose module is not in this checkout (or whose driver is not
installed) is simply absent from :func:`available_adapters`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.contenders.base import Endpoint, Family

__all__ = ["SERVER_POOL", "Adapter", "available_adapters", "close_config", "make_config"]


def _mysql(database_key: str) -> Callable[[Endpoint], dict[str, Any]]:
    def build(endpoint: Endpoint) -> dict[str, Any]:
        return {
            "host": endpoint.host,
            "port": endpoint.port,
            "user": endpoint.user,
            "password": endpoint.password,
            database_key: endpoint.namespace,
        }

    return build


@dataclass(frozen=True)
class Adapter:
    """One adapter of this library (``name`` is also the raw floor's driver name)."""

    name: str
    module: str
    prefix: str
    family: Family
    connection: Callable[[Endpoint], dict[str, Any]]
    pool_config: dict[str, Any] = field(default_factory=dict)
    sync: bool = False
    #: Added to the contender's label in every report row (the emulator's figures say so).
    label_note: str = ""

    def classes(self) -> tuple[Any, Any, Any, Any]:
        module = importlib.import_module(self.module)
        config, store, memory, artifact = (
            getattr(module, f"{self.prefix}{suffix}")
            for suffix in ("Config", "ADKStore", "ADKMemoryStore", "ADKArtifactStore")
        )
        return config, store, memory, artifact


#: Connections per pool on a server, for this library and the floor alike. ADK's DatabaseSessionService keeps
#: SQLAlchemy's default (5, plus 10 overflow). Ten contenders of one family share one server's connection limit.
SERVER_POOL = 5
_POOL = {"max_size": SERVER_POOL}

ADAPTERS: tuple[Adapter, ...] = (
    Adapter(
        "sqlite",
        "sqlspec_adk.adapters.sqlite",
        "Sqlite",
        "sqlite",
        lambda e: {"database": str(e.sqlite_file)},
        sync=True,
    ),
    Adapter(
        "aiosqlite", "sqlspec_adk.adapters.aiosqlite", "Aiosqlite", "sqlite", lambda e: {"database": str(e.sqlite_file)}
    ),
    Adapter("asyncpg", "sqlspec_adk.adapters.asyncpg", "Asyncpg", "postgres", lambda e: {"dsn": e.pg_dsn}, _POOL),
    Adapter(
        "psycopg", "sqlspec_adk.adapters.psycopg", "PsycopgAsync", "postgres", lambda e: {"conninfo": e.pg_dsn}, _POOL
    ),
    Adapter(
        "psycopg_sync",
        "sqlspec_adk.adapters.psycopg",
        "PsycopgSync",
        "postgres",
        lambda e: {"conninfo": e.pg_dsn},
        _POOL,
        sync=True,
    ),
    Adapter("psqlpy", "sqlspec_adk.adapters.psqlpy", "Psqlpy", "postgres", lambda e: {"dsn": e.pg_dsn}, _POOL),
    Adapter("aiomysql", "sqlspec_adk.adapters.aiomysql", "Aiomysql", "mysql", _mysql("db"), _POOL),
    Adapter("asyncmy", "sqlspec_adk.adapters.asyncmy", "Asyncmy", "mysql", _mysql("database"), _POOL),
    Adapter("pymysql", "sqlspec_adk.adapters.pymysql", "Pymysql", "mysql", _mysql("database"), _POOL, sync=True),
    Adapter(
        "mysqlconnector",
        "sqlspec_adk.adapters.mysqlconnector",
        "Mysqlconnector",
        "mysql",
        _mysql("database"),
        _POOL,
        sync=True,
    ),
    Adapter(
        "duckdb",
        "sqlspec_adk.adapters.duckdb",
        "Duckdb",
        "duckdb",
        lambda e: {"database": str(e.path / "bench.duckdb")},
        sync=True,
    ),
    Adapter(
        "spanner",
        "sqlspec_adk.adapters.spanner",
        "Spanner",
        "spanner",
        lambda e: _spanner_connection(e),
        label_note=" (emulator)",
    ),
)


def _spanner_connection(endpoint: Endpoint) -> dict[str, Any]:
    from benchmarks.emulator import connection

    return connection(endpoint)


def available_adapters() -> list[Adapter]:
    """Adapters importable in this checkout with their drivers installed."""
    found = []
    for adapter in ADAPTERS:
        try:
            if importlib.util.find_spec(adapter.module) is None:
                continue
            adapter.classes()
        except (ImportError, AttributeError):
            continue
        found.append(adapter)
    return found


def make_config(adapter: Adapter, endpoint: Endpoint, **adk: Any) -> Any:
    """A config of ``adapter`` whose tables are private to ``endpoint`` (unique names, own schema)."""
    config_class = adapter.classes()[0]
    prefix = endpoint.prefix
    settings: dict[str, Any] = {
        "session_table": f"{prefix}_session",
        "events_table": f"{prefix}_event",
        "app_state_table": f"{prefix}_app_state",
        "user_state_table": f"{prefix}_user_state",
        "metadata_table": f"{prefix}_meta",
        "memory_table": f"{prefix}_memory",
        "artifact_table": f"{prefix}_artifact",
        **adk,
    }
    if endpoint.family == "postgres":
        settings["schema"] = endpoint.namespace
    return config_class(
        connection_config=adapter.connection(endpoint),
        pool_config=dict(adapter.pool_config),
        extension_config={"adk": settings},
    )


async def close_config(config: Any) -> None:
    """``close_pool`` of a sync or async config."""
    result = config.close_pool()
    if inspect.isawaitable(result):
        await result
