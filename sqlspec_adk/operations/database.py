"""Run maintenance operations on any config from async code, and open configs from URIs.

A sync config's operation runs on a worker thread, so the caller's event loop
never blocks; ``open_config`` builds a config from a URI and always closes its
pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.protocol import Op, operation

__all__ = ["close_config", "open_config", "run_op"]

T = TypeVar("T")


async def run_op(config: DatabaseConfig, build: Callable[[], Op[T]], *, write: bool, name: str = "maintenance") -> T:
    """Run the operation ``build`` makes in one transaction on ``config`` (retried like any store operation)."""
    return await config.arun(operation(name, build, write=write))


async def close_config(config: DatabaseConfig) -> None:
    """Close ``config``'s pool (it can be used again afterwards)."""
    if isinstance(config, AsyncDatabaseConfig):
        await config.close_pool()
    elif isinstance(config, SyncDatabaseConfig):
        await asyncio.to_thread(config.close_pool)


@asynccontextmanager
async def open_config(uri: str, extra_adk: Mapping[str, Any] | None = None) -> AsyncIterator[DatabaseConfig]:
    """The config of a ``sqlspec+<driver>://`` URI, closed on exit."""
    from sqlspec_adk.registry import config_from_uri

    _, config = config_from_uri(uri, extra_adk)
    try:
        yield config
    finally:
        await close_config(config)
