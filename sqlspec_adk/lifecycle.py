"""What every async store and every sync store does around its operations, written once for the three stores.

An operation runs after the schema check (:mod:`sqlspec_adk.migrations.guard`,
once per config and component), through the config's engine. ``close()``
releases the config's pool and works as ``async with`` (async stores) or
``with`` (sync stores); a closed store opens a new pool on its next use.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlspec_adk.capabilities import Capabilities, config_profile
from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.migrations.guard import ensure_schema, ensure_schema_sync
from sqlspec_adk.protocol import Operation

__all__ = ["AsyncLifecycle", "SyncLifecycle"]

T = TypeVar("T")
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig[Any])
C = TypeVar("C", bound=DatabaseConfig)


class AsyncLifecycle(Generic[AC]):
    """Runs a store's operations from async code, and closes it."""

    config: AC
    #: The schema component whose tables the store uses.
    component: ClassVar[str]

    @property
    def capabilities(self) -> Capabilities:
        """What this store's backend supports (:mod:`sqlspec_adk.capabilities`); no I/O."""
        return config_profile(self.config)

    async def _arun(self, operation: Operation[T]) -> T:
        await ensure_schema(self.config, self.component, write=operation.write)
        return await self.config.arun(operation)

    async def close(self) -> None:
        """Close the config's pool (idempotent; the store can be used again afterwards)."""
        await self.config.close_pool()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()


class SyncLifecycle(Generic[SC]):
    """Runs a store's operations on the calling thread, and closes it."""

    config: SC
    component: ClassVar[str]

    @property
    def capabilities(self) -> Capabilities:
        """What this store's backend supports (:mod:`sqlspec_adk.capabilities`); no I/O."""
        return config_profile(self.config)

    def _run(self, operation: Operation[T]) -> T:
        ensure_schema_sync(self.config, self.component, write=operation.write)
        return self.config.run(operation)

    async def _arun(self, operation: Operation[T]) -> T:
        """From async code: the schema check (on a worker thread while it still has to read the database),
        then the config's ``arun`` (a write with group commit on batches on the event loop)."""
        if self.component in self.config.schema_checks:
            ensure_schema_sync(self.config, self.component, write=operation.write)  # decided: no I/O
        else:
            await asyncio.to_thread(ensure_schema_sync, self.config, self.component, write=operation.write)
        return await self.config.arun(operation)

    def close(self) -> None:
        """Close the config's pool (idempotent; the store can be used again afterwards)."""
        self.config.close_pool()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
