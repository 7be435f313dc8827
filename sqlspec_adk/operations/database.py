"""Run store operations on any config, sync or async, from async code.

A sync config's operation runs in a worker thread, so the caller's event loop
never blocks; ``open_config`` builds a config from a URI and always closes its
pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.protocol import Op

__all__ = ["close_config", "open_config", "run_op"]

T = TypeVar("T")


async def run_op(config: DatabaseConfig, op: Op[T], *, write: bool) -> T:
    """Run ``op`` in one transaction on ``config``."""
    if isinstance(config, AsyncDatabaseConfig):
        return await config.run(op, write=write)
    if isinstance(config, SyncDatabaseConfig):
        return await asyncio.to_thread(config.run, op, write=write)
    raise TypeError(f"{type(config).__name__} is neither a sync nor an async database config")


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
