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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION, current_version
from sqlspec_adk.modes import call
from sqlspec_adk.operations.database import close_config
from sqlspec_adk.registry import ADAPTERS, load_adapter, parse_uri, redact_uri, scheme_for
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


def _prepare(config: DatabaseConfig, store: Any, uri: str, create: bool) -> None:
    """Create the tables now, or check that they exist; either way the pool is closed afterwards."""

    async def work() -> None:
        try:
            if create:
                await call(store.create_tables)
                return
            version = await current_version(config)
            if version < LATEST_VERSION:
                missing = (
                    "the sqlspec-adk tables are missing" if version == 0 else f"the schema is at version {version}"
                )
                raise ConfigError(
                    f"{missing}, this library needs version {LATEST_VERSION}; run: sqlspec-adk migrate upgrade "
                    f"'{uri}' (or drop create_tables=false from the URI)"
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
    # A URI's services create (or upgrade) the tables at startup unless it says create_tables=false.
    adk = {"create_tables": True, **parsed.adk}
    config: DatabaseConfig = classes[0](
        connection_config=parsed.connection, pool_config=parsed.pool or None, extension_config={"adk": adk}
    )
    store = classes[index](config)
    return config, store, bool(config.adk.create_tables)


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
