"""Adapters by driver name, and configs from ``sqlspec+<driver>://...`` URIs.

The registry is how the CLI and the ADK service URI schemes find an adapter
without importing every driver: a module path and a class prefix.

URI rules (see ``docs/configuration.md``):

- ``sqlspec+<driver>://...``; a driver name with ``_`` may be written with
  ``-`` (``sqlspec+cockroach-asyncpg://``), which is the only form Python's URL
  parser (and so ADK's service registry) accepts as a scheme.
- Query parameters named like an ``extension_config["adk"]`` key go to the adk
  config (``create_tables`` among them: the ADK integration creates the
  tables at startup unless it is false); ``pool_<name>`` goes to
  ``pool_config[<name>]``; anything else stays with the driver (in the
  DSN for PostgreSQL drivers) or is a ``ConfigError`` where the driver has no
  place for it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from sqlspec_adk.backend_options import OPTION_KEYS, RETENTION_KEYS, option_from_text
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.settings import BOOL_KEYS, KNOWN_KEYS

__all__ = [
    "ADAPTERS",
    "INTEGRATION_KEYS",
    "AdapterEntry",
    "ParsedURI",
    "canonical_driver",
    "config_from_uri",
    "load_adapter",
    "parse_uri",
    "redact_uri",
    "scheme_for",
]

#: Query parameters the ADK integration reads itself (never passed to a config).
INTEGRATION_KEYS: frozenset[str] = frozenset()

_BOOLEAN_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


@dataclass(frozen=True, slots=True)
class ParsedURI:
    """A ``sqlspec+<driver>://`` URI split into what each part of a config takes."""

    driver: str
    connection: dict[str, Any]
    adk: dict[str, Any]
    pool: dict[str, Any]
    integration: dict[str, str] = field(default_factory=dict)


def _path_database(key: str = "database") -> Callable[[str, dict[str, str]], dict[str, Any]]:
    """File databases: ``///relative.db``, ``////absolute.db``, ``///:memory:``; no driver parameters."""

    def build(uri: str, extra: dict[str, str]) -> dict[str, Any]:
        _no_driver_params(uri, extra)
        path = unquote(urlsplit(uri).path)
        path = path[1:] if path.startswith("/") else path
        return {key: path or ":memory:"}

    return build


def _dsn(key: str, scheme: str) -> Callable[[str, dict[str, str]], dict[str, Any]]:
    """DSN drivers: the URI becomes ``postgresql://...``; unknown parameters stay in the DSN (sslmode, ...)."""

    def build(uri: str, extra: dict[str, str]) -> dict[str, Any]:
        rest = uri.split("://", 1)[1].split("?", 1)[0]
        dsn = f"{scheme}://{rest}"
        if extra:
            dsn += "?" + urlencode(extra)
        return {key: dsn}

    return build


def _mysql(database_key: str) -> Callable[[str, dict[str, str]], dict[str, Any]]:
    def build(uri: str, extra: dict[str, str]) -> dict[str, Any]:
        _no_driver_params(uri, extra)
        parts = urlsplit(uri)
        return {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            database_key: parts.path.lstrip("/") or "test",
        }

    return build


def _oracle(uri: str, extra: dict[str, str]) -> dict[str, Any]:
    _no_driver_params(uri, extra)
    parts = urlsplit(uri)
    service = parts.path.lstrip("/")
    return {
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dsn": f"{parts.hostname or '127.0.0.1'}:{parts.port or 1521}/{service}",
    }


def _spanner(uri: str, extra: dict[str, str]) -> dict[str, Any]:
    # sqlspec+spanner:///projects/P/instances/I/databases/D
    _no_driver_params(uri, extra)
    pieces = urlsplit(uri).path.strip("/").split("/")
    if len(pieces) != 6 or pieces[0::2] != ["projects", "instances", "databases"]:
        raise ConfigError(
            f"expected sqlspec+spanner:///projects/<project>/instances/<instance>/databases/<database>, got {uri!r}"
        )
    return {"project": pieces[1], "instance_id": pieces[3], "database_id": pieces[5]}


def _adbc(driver_name: str, remote: bool) -> Callable[[str, dict[str, str]], dict[str, Any]]:
    def build(uri: str, extra: dict[str, str]) -> dict[str, Any]:
        if remote:
            target = _dsn("uri", "postgresql")(uri, extra)["uri"]
        else:
            target = _path_database()(uri, extra)["database"]
        return {"driver_name": driver_name, "uri": target}

    return build


def _no_driver_params(uri: str, extra: dict[str, str]) -> None:
    if extra:
        known = ", ".join(sorted(KNOWN_KEYS | INTEGRATION_KEYS))
        raise ConfigError(
            f"unknown URI parameter(s) {', '.join(map(repr, sorted(extra)))} in {redact_uri(uri)}; "
            f"known: {known}, and pool_<name> for pool_config"
        )


@dataclass(frozen=True, slots=True)
class AdapterEntry:
    """Where an adapter lives and how a URI becomes its ``connection_config``.

    ``connection_from_uri(uri_without_query, driver_params)`` gets the query
    parameters that are neither adk keys nor pool keys.
    """

    module: str
    prefix: str
    connection_from_uri: Callable[[str, dict[str, str]], dict[str, Any]]


ADAPTERS: dict[str, AdapterEntry] = {
    "sqlite": AdapterEntry("sqlspec_adk.adapters.sqlite", "Sqlite", _path_database()),
    "aiosqlite": AdapterEntry("sqlspec_adk.adapters.aiosqlite", "Aiosqlite", _path_database()),
    "asyncpg": AdapterEntry("sqlspec_adk.adapters.asyncpg", "Asyncpg", _dsn("dsn", "postgresql")),
    "psycopg": AdapterEntry("sqlspec_adk.adapters.psycopg", "PsycopgAsync", _dsn("conninfo", "postgresql")),
    "psycopg_sync": AdapterEntry("sqlspec_adk.adapters.psycopg", "PsycopgSync", _dsn("conninfo", "postgresql")),
    "psqlpy": AdapterEntry("sqlspec_adk.adapters.psqlpy", "Psqlpy", _dsn("dsn", "postgresql")),
    "cockroach_asyncpg": AdapterEntry(
        "sqlspec_adk.adapters.cockroach_asyncpg", "CockroachAsyncpg", _dsn("dsn", "postgresql")
    ),
    "cockroach_psycopg": AdapterEntry(
        "sqlspec_adk.adapters.cockroach_psycopg", "CockroachPsycopgAsync", _dsn("conninfo", "postgresql")
    ),
    "cockroach_psycopg_sync": AdapterEntry(
        "sqlspec_adk.adapters.cockroach_psycopg", "CockroachPsycopgSync", _dsn("conninfo", "postgresql")
    ),
    "aiomysql": AdapterEntry("sqlspec_adk.adapters.aiomysql", "Aiomysql", _mysql("db")),
    "asyncmy": AdapterEntry("sqlspec_adk.adapters.asyncmy", "Asyncmy", _mysql("database")),
    "pymysql": AdapterEntry("sqlspec_adk.adapters.pymysql", "Pymysql", _mysql("database")),
    "mysqlconnector": AdapterEntry("sqlspec_adk.adapters.mysqlconnector", "Mysqlconnector", _mysql("database")),
    "duckdb": AdapterEntry("sqlspec_adk.adapters.duckdb", "Duckdb", _path_database()),
    "oracledb": AdapterEntry("sqlspec_adk.adapters.oracledb", "OracledbAsync", _oracle),
    "oracledb_sync": AdapterEntry("sqlspec_adk.adapters.oracledb", "OracledbSync", _oracle),
    "spanner": AdapterEntry("sqlspec_adk.adapters.spanner", "Spanner", _spanner),
    "adbc_sqlite": AdapterEntry("sqlspec_adk.adapters.adbc", "Adbc", _adbc("adbc_driver_sqlite", remote=False)),
    "adbc_duckdb": AdapterEntry("sqlspec_adk.adapters.adbc", "Adbc", _adbc("adbc_driver_duckdb", remote=False)),
    "adbc_postgresql": AdapterEntry("sqlspec_adk.adapters.adbc", "Adbc", _adbc("adbc_driver_postgresql", remote=True)),
}


def canonical_driver(name: str) -> str:
    """The registry name for a driver as written in a URI scheme (``-`` and ``_`` are the same)."""
    return name.strip().lower().replace("-", "_")


def scheme_for(driver: str) -> str:
    """The URI scheme of a driver in the form every URL parser accepts (``sqlspec+cockroach-asyncpg``)."""
    return "sqlspec+" + canonical_driver(driver).replace("_", "-")


def load_adapter(driver: str) -> tuple[Any, Any, Any, Any]:
    """(Config, ADKStore, ADKMemoryStore, ADKArtifactStore) classes of a driver."""
    driver = canonical_driver(driver)
    entry = ADAPTERS.get(driver)
    if entry is None:
        raise ConfigError(f"unknown adapter {driver!r}; known: {', '.join(sorted(ADAPTERS))}")
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as error:
        if error.name and entry.module.startswith(error.name):
            raise ConfigError(f"adapter {driver!r} is not part of this sqlspec-adk build ({entry.module})") from error
        raise ConfigError(
            f"adapter {driver!r} needs its driver: pip install 'sqlspec-adk[{driver.split('_')[0]}]' ({error})"
        ) from error
    except ImportError as error:
        raise ConfigError(
            f"adapter {driver!r} needs its driver: pip install 'sqlspec-adk[{driver.split('_')[0]}]' ({error})"
        ) from error
    config, store, memory_store, artifact_store = (
        getattr(module, f"{entry.prefix}{suffix}")
        for suffix in ("Config", "ADKStore", "ADKMemoryStore", "ADKArtifactStore")
    )
    return config, store, memory_store, artifact_store


def _adk_value(key: str, value: str) -> Any:
    if key in OPTION_KEYS or key in RETENTION_KEYS:
        return option_from_text(key, value)
    if key in BOOL_KEYS or key == "memory_use_fts":
        return parse_bool(value, key)
    if key in ("memory_max_results", "memory_vector_cache_mb", "group_commit_max"):
        try:
            return int(value)
        except ValueError as error:
            raise ConfigError(f"URI parameter {key}={value!r} must be an integer") from error
    if key == "busy_timeout":
        try:
            return float(value)
        except ValueError as error:
            raise ConfigError(f"URI parameter {key}={value!r} must be a number of seconds") from error
    if key == "artifact_storage_options":
        try:
            options = json.loads(value)
        except ValueError as error:
            raise ConfigError(f"URI parameter {key} must be a JSON object, got {value!r}") from error
        if not isinstance(options, dict):
            raise ConfigError(f"URI parameter {key} must be a JSON object, got {value!r}")
        return options
    return value


def _pool_value(value: str) -> Any:
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            continue
    return value


def parse_bool(value: str, key: str) -> bool:
    """``true/false/1/0/yes/no/on/off`` as a bool; anything else is a ConfigError naming ``key``."""
    if value.lower() not in _BOOLEAN_WORDS:
        raise ConfigError(f"URI parameter {key}={value!r} must be true or false")
    return _BOOLEAN_WORDS[value.lower()]


def redact_uri(uri: str) -> str:
    """``uri`` with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(uri)
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@", 1)
    return uri


def parse_uri(uri: str) -> ParsedURI:
    """Split ``sqlspec+<driver>://...`` into connection, adk, pool and integration settings (no import)."""
    if not isinstance(uri, str):
        raise ConfigError(f"expected a URI string like sqlspec+aiosqlite:///./adk.db, got {uri!r}")
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme.lower().startswith("sqlspec+"):
        raise ConfigError(f"expected a URI like sqlspec+aiosqlite:///./adk.db, got {redact_uri(uri)!r}")
    driver = canonical_driver(scheme[len("sqlspec+") :])
    entry = ADAPTERS.get(driver)
    if entry is None:
        raise ConfigError(f"unknown adapter {driver!r}; known: {', '.join(sorted(ADAPTERS))}")
    # urlsplit parses no scheme holding "_" (sqlspec+adbc_duckdb): read every URI in its "-" spelling.
    uri = f"{scheme_for(driver)}://{rest}"
    adk: dict[str, Any] = {}
    pool: dict[str, Any] = {}
    integration: dict[str, str] = {}
    driver_params: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(uri).query, keep_blank_values=True):
        if key in KNOWN_KEYS:
            adk[key] = _adk_value(key, value)
        elif key in INTEGRATION_KEYS:
            integration[key] = value
        elif key.startswith("pool_") and len(key) > len("pool_"):
            pool[key[len("pool_") :]] = _pool_value(value)
        else:
            driver_params[key] = value
    connection = entry.connection_from_uri(uri.split("?", 1)[0], driver_params)
    return ParsedURI(driver=driver, connection=connection, adk=adk, pool=pool, integration=integration)


def config_from_uri(uri: str, extra_adk: Mapping[str, Any] | None = None) -> tuple[str, DatabaseConfig]:
    """(driver, config) for ``sqlspec+<driver>://...``; query parameters are adk config keys.

    ``extra_adk`` overrides the URI's adk keys. Raises ``ConfigError`` for a
    bad URI, an unknown key or a driver that is not installed.
    """
    parsed = parse_uri(uri)
    config_cls = load_adapter(parsed.driver)[0]
    adk = {**parsed.adk, **(extra_adk or {})}
    config: DatabaseConfig = config_cls(
        connection_config=parsed.connection, pool_config=parsed.pool or None, extension_config={"adk": adk}
    )
    return parsed.driver, config
