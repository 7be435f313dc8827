"""The database config every adapter builds on: settings, dialect, pool lifecycle, running operations.

An adapter's config is its driver glue: it implements the questions of
:mod:`sqlspec_adk.engine.driver` (as abstract methods here, so a missing one
fails at construction and mypy checks each signature) and inherits ``run`` /
``arun``, which hand an :class:`~sqlspec_adk.protocol.Operation` to the one
engine. ``arun`` works on every config: a sync driver's operation runs on a
worker thread, so the event loop never blocks.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.loop import run_async, run_sync
from sqlspec_adk.engine.tracing import traced
from sqlspec_adk.engine.transaction import transaction
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Operation, Stmt
from sqlspec_adk.settings import ADKConfig

__all__ = [
    "AsyncDatabaseConfig",
    "AsyncDriverConfig",
    "DatabaseConfig",
    "SyncDatabaseConfig",
]

T = TypeVar("T")
C = TypeVar("C")


class DatabaseConfig(abc.ABC):
    """Shared shape of every adapter config.

    ``connection_config`` holds the driver's own connect keywords,
    ``pool_config`` pool sizing where the driver pools, and
    ``extension_config["adk"]`` the validated :class:`ADKConfig`. An adapter
    does its own construction-time work in :meth:`configure` rather than
    restating this constructor.
    """

    #: The dialect class of the SQL family; set by each adapter.
    dialect_class: ClassVar[type[Dialect]]
    is_async: ClassVar[bool]

    def __init__(
        self,
        *,
        connection_config: Mapping[str, Any] | None = None,
        pool_config: Mapping[str, Any] | None = None,
        extension_config: Mapping[str, Any] | None = None,
    ) -> None:
        if extension_config is not None and not isinstance(extension_config, Mapping):
            raise ConfigError("extension_config must be a mapping such as {'adk': {...}}")
        extension = dict(extension_config or {})
        adk_raw = extension.get("adk", {})
        if not isinstance(adk_raw, Mapping):
            raise ConfigError("extension_config['adk'] must be a mapping")
        self.connection_config: dict[str, Any] = dict(connection_config or {})
        self.pool_config: dict[str, Any] = dict(pool_config or {})
        self.extension_config: dict[str, Any] = extension
        self.adk: ADKConfig = ADKConfig.from_mapping(adk_raw)
        #: Per component, what the stores' schema check found (see :mod:`sqlspec_adk.migrations.guard`).
        self.schema_checks: dict[str, str] = {}
        _ = self.dialect  # dialect-specific checks fail here, at construction
        self.configure()

    def configure(self) -> None:  # noqa: B027 - optional hook, most adapters need it
        """Driver-specific setup at construction, after the settings above are validated.

        Reads ``connection_config``/``pool_config``/``adk``, validates what the
        driver needs and sets up the (empty) pool; raises ``ConfigError``. No I/O.
        """

    def database_missing(self) -> bool:
        """Whether the database does not exist yet (a file family's file), so a read-only check creates nothing."""
        return False

    @cached_property
    def dialect(self) -> Dialect:
        """The dialect bound to this config's table names and options."""
        return self.dialect_class(self.adk)

    @abc.abstractmethod
    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction, from async code."""

    @abc.abstractmethod
    def classify(self, error: BaseException) -> ErrorKind | None:
        """The kind of a driver exception (see :class:`~sqlspec_adk.engine.driver.ErrorKind`), None to raise it."""


class SyncDatabaseConfig(DatabaseConfig, Generic[C]):
    """A config whose driver is synchronous (``C`` is its connection type)."""

    is_async: ClassVar[bool] = False

    def run(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction on the calling thread."""
        with traced(operation, self.dialect.db_system) as on_retry:
            return run_sync(self, transaction(operation, self.dialect.rules, self, on_retry))

    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction on a worker thread."""
        return await asyncio.to_thread(self.run, operation)

    @abc.abstractmethod
    def close_pool(self) -> None:
        """Close every pooled connection; the config can be used again afterwards."""

    # ------------------------------------------------------------ driver glue
    @abc.abstractmethod
    def acquire(self, write: bool) -> C: ...

    @abc.abstractmethod
    def release(self, connection: C, discard: bool) -> None: ...

    def refresh(self) -> None:
        """Drop idle connections after one was found dead (default: nothing to drop)."""

    @abc.abstractmethod
    def execute(self, connection: C, stmt: Stmt) -> Any: ...

    @abc.abstractmethod
    def command(self, connection: C, sql: str) -> None: ...

    @abc.abstractmethod
    def in_transaction(self, connection: C) -> bool: ...


class AsyncDatabaseConfig(DatabaseConfig):
    """A config whose callers await it: its pool closes with ``await close_pool()``."""

    is_async: ClassVar[bool] = True

    @abc.abstractmethod
    async def close_pool(self) -> None:
        """Close every pooled connection; the config can be used again afterwards."""


class AsyncDriverConfig(AsyncDatabaseConfig, Generic[C]):
    """An async config over an asynchronous driver (``C`` is its connection type)."""

    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction."""
        with traced(operation, self.dialect.db_system) as on_retry:
            return await run_async(self, transaction(operation, self.dialect.rules, self, on_retry))

    # ------------------------------------------------------------ driver glue
    @abc.abstractmethod
    async def acquire(self, write: bool) -> C: ...

    @abc.abstractmethod
    async def release(self, connection: C, discard: bool) -> None: ...

    async def refresh(self) -> None:
        """Drop idle connections after one was found dead (default: nothing to drop)."""

    @abc.abstractmethod
    async def execute(self, connection: C, stmt: Stmt) -> Any: ...

    @abc.abstractmethod
    async def command(self, connection: C, sql: str) -> None: ...

    @abc.abstractmethod
    def in_transaction(self, connection: C) -> bool: ...
