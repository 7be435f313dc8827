"""Fixtures for the MySQL/MariaDB family tests: ``mysql`` runs a test once per MySQL driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.backends import ADAPTERS, MYSQL_DSN, AdapterSpec, _mysql_connection
from tests.conftest import Backend, live_backend

MYSQL_SPECS = [spec for spec in ADAPTERS if spec.server == "mysql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mysql_spec" in metafunc.fixturenames:
        only = metafunc.config.getoption("--adapter")
        specs = [spec for spec in MYSQL_SPECS if not only or spec.name in only.split(",")]
        metafunc.parametrize("mysql_spec", specs, ids=[spec.name for spec in specs])


@pytest.fixture
async def mysql(mysql_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    """One MySQL driver under test (unique tables, dropped afterwards)."""
    async for handle in live_backend(mysql_spec, tmp_path):
        yield handle


@pytest.fixture
def admin(mysql: Backend) -> Iterator[Any]:
    """A separate autocommit PyMySQL connection, to act from "another session"."""
    connection = pymysql.connect(**_mysql_connection(MYSQL_DSN, "database"), charset="utf8mb4", autocommit=True)
    try:
        yield connection
    finally:
        connection.close()
