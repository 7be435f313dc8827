"""ADK CLI integration: ``sqlspec+<driver>://`` service URIs for ``adk web``, ``api_server`` and ``run``.

Three ways to make ADK's CLI understand the schemes, all equivalent:

- a ``services.py`` in the agents folder (``adk run``: the agent's folder)
  holding ``import sqlspec_adk.adk_register``;
- a ``services.yaml`` naming :class:`URISessionService`,
  :class:`URIMemoryService` and :class:`URIArtifactService`;
- ``sqlspec-adk web|api_server|run ...``, which calls :func:`register_schemes`
  and hands the command line to ADK's own CLI.

Each service is built from its URI when ADK builds its services, before the
server accepts a request: the tables are created (``migrate upgrade``
semantics, idempotent) right then, so the first request never waits on DDL.
With ``create_tables=false`` the service instead checks that ``sqlspec-adk
migrate upgrade`` was run and refuses to start, naming the command, if not.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION
from sqlspec_adk.modes import call
from sqlspec_adk.operations.database import close_config, run_op
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.registry import ADAPTERS, load_adapter, parse_bool, parse_uri, redact_uri, scheme_for
from sqlspec_adk.service import SQLSpecSessionService

if TYPE_CHECKING:
    from google.adk.cli.service_registry import ServiceRegistry

__all__ = [
    "URIArtifactService",
    "URIMemoryService",
    "URISessionService",
    "artifact_service_from_uri",
    "default_artifact_location",
    "memory_service_from_uri",
    "register_schemes",
    "session_service_from_uri",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Keyword arguments ADK's CLI passes to every service factory; not errors.
_ADK_KWARGS = frozenset({"agents_dir", "per_agent"})


def _block_on(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop (``adk run``).

    It runs on its own thread and event loop, so nothing it opens is tied to
    the caller's loop; callers close what they opened before returning.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(factory())  # type: ignore[arg-type]
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=target, name="sqlspec-adk-startup")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["value"]
    return result


def _schema_version(config: DatabaseConfig) -> Op[int]:
    """Recorded schema version, read only (a missing metadata table raises the driver's error)."""
    row = yield Stmt(
        f"SELECT meta_value FROM {config.dialect.metadata_table} WHERE meta_key = ?", ("schema_version",), Fetch.ONE
    )
    return int(row[0]) if row else 0


def _prepare(config: DatabaseConfig, store: Any, uri: str, create: bool) -> None:
    """Create the tables now, or check that they exist; either way the pool is closed afterwards."""

    async def work() -> None:
        try:
            if create:
                await call(store.create_tables)
                return
            try:
                version = await run_op(config, partial(_schema_version, config), write=False)
            except Exception as error:  # the driver's own "no such table" error
                raise ConfigError(
                    f"the sqlspec-adk tables are missing ({type(error).__name__}: {error}); "
                    f"run: sqlspec-adk migrate upgrade '{uri}' (or drop create_tables=false from the URI)"
                ) from error
            if version < LATEST_VERSION:
                raise ConfigError(
                    f"the sqlspec-adk schema is at version {version}, this library needs {LATEST_VERSION}; "
                    f"run: sqlspec-adk migrate upgrade '{uri}'"
                )
        finally:
            await close_config(config)

    uri = redact_uri(uri)
    _block_on(work)


def _build(uri: str, index: int, kwargs: dict[str, Any]) -> tuple[DatabaseConfig, Any, bool]:
    """(config, store, create_tables) of the URI; ``index`` picks the store class (1 session, 2 memory, 3 artifact).

    Nothing is connected yet: :func:`_prepare` does that.
    """
    unexpected = sorted(set(kwargs) - _ADK_KWARGS)
    if unexpected:
        logger.warning("sqlspec-adk: ignoring service keyword arguments %s", unexpected)
    parsed = parse_uri(uri)
    classes = load_adapter(parsed.driver)
    config: DatabaseConfig = classes[0](
        connection_config=parsed.connection, pool_config=parsed.pool or None, extension_config={"adk": parsed.adk}
    )
    store = classes[index](config)
    create = parse_bool(parsed.integration.get("create_tables", "true"), "create_tables")
    return config, store, create


def default_artifact_location(config: DatabaseConfig) -> str | None:
    """``<database file>.artifacts`` next to a file database; None for server databases."""
    database = config.connection_config.get("database")
    if not isinstance(database, str) or not database or database == ":memory:" or database.startswith("file:"):
        return None
    if "host" in config.connection_config:
        return None
    return Path(database).resolve().with_suffix(".artifacts").as_uri()


class URISessionService(SQLSpecSessionService):
    """``SQLSpecSessionService`` built from a ``sqlspec+<driver>://`` URI (tables ready on return)."""

    def __init__(self, uri: str, *, owner_id: Any = None, **kwargs: Any) -> None:
        self.config, store, create = _build(uri, 1, kwargs)
        _prepare(self.config, store, uri, create)
        super().__init__(store, owner_id=owner_id)


class URIMemoryService(SQLSpecMemoryService):
    """``SQLSpecMemoryService`` built from a ``sqlspec+<driver>://`` URI (tables ready on return)."""

    def __init__(self, uri: str, *, owner_id: Any = None, **kwargs: Any) -> None:
        self.config, store, create = _build(uri, 2, kwargs)
        _prepare(self.config, store, uri, create)
        super().__init__(store, owner_id=owner_id)


class URIArtifactService(SQLSpecArtifactService):
    """``SQLSpecArtifactService`` built from a ``sqlspec+<driver>://`` URI (tables ready on return).

    Content goes to the URI's ``artifact_storage_uri``; for a file database
    without one, to a ``<database>.artifacts`` folder beside it. A server
    database without one is a ``ConfigError``.
    """

    def __init__(self, uri: str, **kwargs: Any) -> None:
        config, store, create = _build(uri, 3, kwargs)
        self.config = config
        location = config.adk.artifact_storage_uri or default_artifact_location(config)
        if location is None:
            raise ConfigError(
                f"add artifact_storage_uri to {redact_uri(uri).split('?', 1)[0]!r} "
                "(e.g. ?artifact_storage_uri=file:///var/lib/adk or s3://bucket/prefix): "
                "artifact content is not stored in the database"
            )
        super().__init__(store, artifact_storage_uri=location)
        _prepare(config, store, uri, create)


def session_service_from_uri(uri: str, **kwargs: Any) -> URISessionService:
    """ADK service factory for ``--session_service_uri``."""
    return URISessionService(uri, **kwargs)


def memory_service_from_uri(uri: str, **kwargs: Any) -> URIMemoryService:
    """ADK service factory for ``--memory_service_uri``."""
    return URIMemoryService(uri, **kwargs)


def artifact_service_from_uri(uri: str, **kwargs: Any) -> URIArtifactService:
    """ADK service factory for ``--artifact_service_uri``."""
    return URIArtifactService(uri, **kwargs)


def register_schemes(registry: ServiceRegistry | None = None) -> list[str]:
    """Register ``sqlspec+<driver>`` for sessions, memory and artifacts with ADK's registry (idempotent).

    Returns the registered schemes. Drivers whose names contain ``_`` are
    registered with ``-`` (``sqlspec+cockroach-asyncpg``): URL parsers reject
    ``_`` in a scheme.
    """
    if registry is None:
        from google.adk.cli.service_registry import get_service_registry

        registry = get_service_registry()
    schemes = []
    for driver in ADAPTERS:
        scheme = scheme_for(driver)
        registry.register_session_service(scheme, session_service_from_uri)
        registry.register_memory_service(scheme, memory_service_from_uri)
        registry.register_artifact_service(scheme, artifact_service_from_uri)
        schemes.append(scheme)
    return schemes
