"""Fixtures for the PostgreSQL family tests: ``pg`` runs a test once per PostgreSQL-wire adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import psycopg
import pytest

from tests.backends import ADAPTERS, PG_DSN, AdapterSpec
from tests.conftest import Backend, live_backend

#: The adapters of the PostgreSQL dialect family (the CockroachDB ones run against PostgreSQL here).
PG_ADAPTERS = ("asyncpg", "psycopg_async", "psycopg_sync", "psqlpy", "cockroach_asyncpg", "cockroach_psycopg")
PG_SPECS = [spec for spec in ADAPTERS if spec.name in PG_ADAPTERS]
COCKROACH_ADAPTERS = ("cockroach_asyncpg", "cockroach_psycopg")


def with_application_name(dsn: str, name: str) -> str:
    """``dsn`` with ``application_name`` set, so a test can find (and kill) exactly its own backends."""
    parts = urlparse(dsn)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = name
    return urlunparse(parts._replace(query=urlencode(query)))


def connection_for(spec: AdapterSpec, tmp_path: Path, application_name: str) -> dict[str, Any]:
    """The adapter's connection_config, tagged with ``application_name``."""
    connection = spec.connection(tmp_path)
    key = "conninfo" if "conninfo" in connection else "dsn"
    return {**connection, key: with_application_name(connection[key], application_name)}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``pg_spec``: every PostgreSQL-family adapter; ``crdb_spec``: the CockroachDB ones (both honour ``--adapter``)."""
    only = metafunc.config.getoption("--adapter")
    for name, names in (("pg_spec", PG_ADAPTERS), ("crdb_spec", COCKROACH_ADAPTERS)):
        if name in metafunc.fixturenames:
            specs = [spec for spec in PG_SPECS if spec.name in names and (not only or spec.name in only.split(","))]
            metafunc.parametrize(name, specs, ids=[spec.name for spec in specs])


@pytest.fixture
async def pg(pg_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    """One PostgreSQL-family adapter under test (unique tables, dropped afterwards)."""
    async for handle in live_backend(pg_spec, tmp_path):
        yield handle


@pytest.fixture
async def crdb(crdb_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    """One CockroachDB adapter, run against the PostgreSQL server here."""
    async for handle in live_backend(crdb_spec, tmp_path):
        yield handle


@pytest.fixture
def admin(pg: Backend) -> Iterator[psycopg.Connection[Any]]:
    """A separate autocommit psycopg connection, acting as "another session"."""
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        yield connection
