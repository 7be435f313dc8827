"""The adapters the contract suite runs against, and how to reach their databases.

A new adapter adds one ``AdapterSpec`` to ``ADAPTERS``: the contract tests are
parametrized over this list and never copied. Server DSNs come from
environment variables with the local defaults; an unreachable server skips the
adapter's tests, except under ``CI=true`` where it fails them.
"""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests import spanner_emulator

PG_DSN = os.environ.get("SQLSPEC_ADK_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_DSN = os.environ.get("SQLSPEC_ADK_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SERVER_DSNS = {"postgres": PG_DSN, "mysql": MYSQL_DSN}


def _mysql_connection(dsn: str, database_key: str = "db") -> dict[str, Any]:
    parsed = urlparse(dsn)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        database_key: (parsed.path or "/test").lstrip("/") or "test",
    }


@dataclass(frozen=True)
class AdapterSpec:
    """How to build one adapter's config and stores in a test."""

    name: str
    module: str
    prefix: str
    connection: Callable[[Path], dict[str, Any]]
    server: str | None = None
    pool_config: dict[str, Any] = field(default_factory=dict)
    marks: tuple[str, ...] = ()

    def load(self) -> Any:
        return importlib.import_module(self.module)

    def classes(self) -> tuple[Any, Any, Any, Any]:
        module = self.load()
        return (
            getattr(module, f"{self.prefix}Config"),
            getattr(module, f"{self.prefix}ADKStore"),
            getattr(module, f"{self.prefix}ADKMemoryStore"),
            getattr(module, f"{self.prefix}ADKArtifactStore"),
        )


ADAPTERS: list[AdapterSpec] = [
    AdapterSpec("sqlite", "sqlspec_adk.adapters.sqlite", "Sqlite", lambda tmp: {"database": str(tmp / "adk.db")}),
    AdapterSpec(
        "aiosqlite", "sqlspec_adk.adapters.aiosqlite", "Aiosqlite", lambda tmp: {"database": str(tmp / "adk.db")}
    ),
]


def _optional_adapters() -> list[AdapterSpec]:
    """Adapters whose modules exist in this checkout (added by later work)."""
    candidates = [
        AdapterSpec(
            "asyncpg", "sqlspec_adk.adapters.asyncpg", "Asyncpg", lambda tmp: {"dsn": PG_DSN}, server="postgres"
        ),
        AdapterSpec(
            "psycopg_async",
            "sqlspec_adk.adapters.psycopg",
            "PsycopgAsync",
            lambda tmp: {"conninfo": PG_DSN},
            server="postgres",
        ),
        AdapterSpec(
            "psycopg_sync",
            "sqlspec_adk.adapters.psycopg",
            "PsycopgSync",
            lambda tmp: {"conninfo": PG_DSN},
            server="postgres",
        ),
        AdapterSpec("psqlpy", "sqlspec_adk.adapters.psqlpy", "Psqlpy", lambda tmp: {"dsn": PG_DSN}, server="postgres"),
        AdapterSpec(
            "cockroach_asyncpg",
            "sqlspec_adk.adapters.cockroach_asyncpg",
            "CockroachAsyncpg",
            lambda tmp: {"dsn": PG_DSN},
            server="postgres",
        ),
        AdapterSpec(
            "cockroach_psycopg",
            "sqlspec_adk.adapters.cockroach_psycopg",
            "CockroachPsycopgAsync",
            lambda tmp: {"conninfo": PG_DSN},
            server="postgres",
        ),
        AdapterSpec(
            "aiomysql",
            "sqlspec_adk.adapters.aiomysql",
            "Aiomysql",
            lambda tmp: _mysql_connection(MYSQL_DSN),
            server="mysql",
        ),
        AdapterSpec(
            "asyncmy",
            "sqlspec_adk.adapters.asyncmy",
            "Asyncmy",
            lambda tmp: _mysql_connection(MYSQL_DSN, "database"),
            server="mysql",
        ),
        AdapterSpec(
            "pymysql",
            "sqlspec_adk.adapters.pymysql",
            "Pymysql",
            lambda tmp: _mysql_connection(MYSQL_DSN, "database"),
            server="mysql",
        ),
        AdapterSpec(
            "mysqlconnector",
            "sqlspec_adk.adapters.mysqlconnector",
            "Mysqlconnector",
            lambda tmp: _mysql_connection(MYSQL_DSN, "database"),
            server="mysql",
        ),
        AdapterSpec(
            "duckdb", "sqlspec_adk.adapters.duckdb", "Duckdb", lambda tmp: {"database": str(tmp / "adk.duckdb")}
        ),
        AdapterSpec(
            "adbc_sqlite",
            "sqlspec_adk.adapters.adbc",
            "Adbc",
            lambda tmp: {"driver_name": "sqlite", "uri": str(tmp / "adk.db")},
        ),
        AdapterSpec(
            "adbc_postgresql",
            "sqlspec_adk.adapters.adbc",
            "Adbc",
            lambda tmp: {"driver_name": "postgresql", "uri": PG_DSN},
            server="postgres",
        ),
        AdapterSpec(
            "adbc_duckdb",
            "sqlspec_adk.adapters.adbc",
            "Adbc",
            lambda tmp: {"driver_name": "duckdb", "uri": str(tmp / "adk.duckdb")},
        ),
        # A private emulator, started on first use; a fresh database per test (tests/spanner_emulator.py).
        AdapterSpec(
            "spanner", "sqlspec_adk.adapters.spanner", "Spanner", spanner_emulator.connection, server="spanner"
        ),
    ]
    found = []
    for spec in candidates:
        try:
            importlib.util.find_spec(spec.module)
        except ModuleNotFoundError:
            continue
        if importlib.util.find_spec(spec.module) is not None:
            found.append(spec)
    return found


ADAPTERS.extend(_optional_adapters())

_reachable: dict[str, bool] = {}


def server_reachable(server: str) -> bool:
    """Whether the server's TCP port answers (cached per run); the Spanner emulator is started here."""
    if server == "spanner":
        return spanner_emulator.problem() is None
    if server not in _reachable:
        parsed = urlparse(SERVER_DSNS[server])
        port = parsed.port or (5432 if server == "postgres" else 3306)
        try:
            with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
                _reachable[server] = True
        except OSError:
            _reachable[server] = False
    return _reachable[server]


def require_server(spec: AdapterSpec) -> None:
    """Skip (or, in CI, fail) a test whose adapter's server is unreachable, or whose driver is missing."""
    try:
        spec.load()
    except ImportError as error:
        message = f"{spec.name}: driver not installed ({error})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if spec.server and not server_reachable(spec.server):
        if spec.server == "spanner":
            message = f"{spec.name}: {spanner_emulator.problem()}"
        else:
            message = f"{spec.name}: {spec.server} server at {SERVER_DSNS[spec.server]} is unreachable"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing server is a failure)")
        pytest.skip(message)


def unique_tables() -> dict[str, str]:
    """Per-test table names, so tests on a shared server never see each other's rows."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "session_table": f"t{suffix}_session",
        "events_table": f"t{suffix}_event",
        "app_state_table": f"t{suffix}_app_state",
        "user_state_table": f"t{suffix}_user_state",
        "metadata_table": f"t{suffix}_meta",
        "memory_table": f"t{suffix}_memory",
        "artifact_table": f"t{suffix}_artifact",
    }
