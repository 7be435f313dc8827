"""CockroachDB over ``psycopg`` 3: the psycopg glue with :class:`~sqlspec_adk.dialects.cockroach.CockroachDialect`."""

from __future__ import annotations

from sqlspec_adk.adapters.psycopg.config import PsycopgAsyncConfig, PsycopgSyncConfig
from sqlspec_adk.dialects.cockroach import CockroachDialect

__all__ = ["CockroachPsycopgAsyncConfig", "CockroachPsycopgConfig", "CockroachPsycopgSyncConfig"]


class CockroachPsycopgAsyncConfig(PsycopgAsyncConfig):
    """Config for CockroachDB through psycopg (async); keys as :class:`PsycopgAsyncConfig`."""

    dialect_class = CockroachDialect


class CockroachPsycopgSyncConfig(PsycopgSyncConfig):
    """Config for CockroachDB through psycopg (sync); keys as :class:`PsycopgSyncConfig`."""

    dialect_class = CockroachDialect


#: The name sqlspec-adk 0.1.0 released (the same class), kept importable.
CockroachPsycopgConfig = CockroachPsycopgAsyncConfig
