"""Which "already exists" DDL errors each family's glue calls EXISTS, so a rerun step (after a killed upgrade, or
a statement with no ``IF NOT EXISTS`` form) counts as done; and where it must not.

Real errors where the driver runs here (SQLite, DuckDB through both drivers), the driver's own error shape
otherwise (MySQL error codes, Oracle ORA- codes: their steps have no ``IF NOT EXISTS`` form).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sqlspec_adk.adapters._duckdb import classify_duckdb
from sqlspec_adk.adapters._mysql import classify_mysql
from sqlspec_adk.adapters._oracle import classify_oracle
from sqlspec_adk.adapters._postgres import classify_sqlstate
from sqlspec_adk.adapters._sqlite import classify_sqlite
from sqlspec_adk.engine.driver import ErrorKind
from tests.oracle.fake_oracledb import ora_error


def _raised(run: Callable[[str], Any], *statements: str) -> BaseException:
    *setup, last = statements
    for sql in setup:
        run(sql)
    with pytest.raises(Exception) as caught:  # the driver's own type is the point
        run(last)
    return caught.value


def test_sqlite_duplicate_column_and_index() -> None:
    connection = sqlite3.connect(":memory:")
    run = connection.execute
    column = _raised(run, "CREATE TABLE t (a)", "ALTER TABLE t ADD COLUMN a")
    index = _raised(run, "CREATE INDEX t_a ON t (a)", "CREATE INDEX t_a ON t (a)")
    assert classify_sqlite(column) is ErrorKind.EXISTS
    assert classify_sqlite(index) is ErrorKind.EXISTS
    assert classify_sqlite(_raised(run, "SELECT nope FROM t")) is None


def _duckdb_errors(run: Callable[[str], Any]) -> list[BaseException]:
    run("CREATE TABLE t (a INTEGER)")
    return [
        _raised(run, "CREATE TABLE t (a INTEGER)"),
        _raised(run, "ALTER TABLE t ADD COLUMN a INTEGER"),
        _raised(run, "CREATE INDEX t_a ON t (a)", "CREATE INDEX t_a ON t (a)"),
        _raised(run, "SELECT nope FROM t"),
    ]


def test_duckdb_existing_table_column_and_index(tmp_path: Path) -> None:
    import adbc_driver_duckdb.dbapi

    with duckdb.connect(":memory:") as connection:
        found = _duckdb_errors(connection.execute)
    with adbc_driver_duckdb.dbapi.connect(str(tmp_path / "x.duckdb")) as adbc, adbc.cursor() as cursor:
        found += _duckdb_errors(cursor.execute)
    expected = [ErrorKind.EXISTS, ErrorKind.EXISTS, ErrorKind.EXISTS, None]
    assert [classify_duckdb(error) for error in found] == expected * 2


@pytest.mark.parametrize("code", [1050, 1060, 1061])
def test_mysql_existing_table_column_and_index(code: int) -> None:
    class MysqlError(Exception):
        pass

    assert classify_mysql(MysqlError(code, "exists")) is ErrorKind.EXISTS


@pytest.mark.parametrize("code", [955, 1408, 1430])
def test_oracle_name_used_column_list_indexed_and_column_exists(code: int) -> None:
    assert classify_oracle(ora_error(code)) is ErrorKind.EXISTS


@pytest.mark.parametrize("sqlstate", ["42P07", "42701", "42710"])
def test_postgres_never_absorbs_an_existing_object(sqlstate: str) -> None:
    """PostgreSQL aborts the whole transaction on any error, so nothing after an absorbed one could run: every
    PostgreSQL step says ``IF NOT EXISTS`` instead, and the upgrade (one transaction, under an advisory lock)
    never meets its own objects half made."""
    assert classify_sqlstate(sqlstate) is None
