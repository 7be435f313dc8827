"""CockroachDB over ``asyncpg``: the asyncpg glue with :class:`~sqlspec_adk.dialects.cockroach.CockroachDialect`."""

from __future__ import annotations

from sqlspec_adk.adapters.asyncpg.config import AsyncpgConfig
from sqlspec_adk.dialects.cockroach import CockroachDialect

__all__ = ["CockroachAsyncpgConfig"]


class CockroachAsyncpgConfig(AsyncpgConfig):
    """Config for CockroachDB through asyncpg; keys as :class:`AsyncpgConfig`."""

    dialect_class = CockroachDialect
