"""ADBC specifics: the driver picks the dialect, placeholders follow the driver, configs share a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlspec_adk.adapters.adbc import AdbcADKStore, AdbcConfig
from sqlspec_adk.adapters.adbc.config import _placeholders, family_name
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.errors import ConfigError
from tests.backends import PG_DSN


@pytest.mark.parametrize(
    ("driver_name", "dialect"),
    [
        ("sqlite", SqliteDialect),
        ("adbc_driver_sqlite", SqliteDialect),
        ("postgresql", PostgresDialect),
        ("postgres", PostgresDialect),
        ("adbc_driver_postgresql", PostgresDialect),
        ("duckdb", DuckdbDialect),
        ("adbc_driver_duckdb", DuckdbDialect),
    ],
)
def test_the_driver_picks_the_dialect(driver_name: str, dialect: type) -> None:
    uri = PG_DSN if "postgres" in driver_name else ":memory:"
    config = AdbcConfig(connection_config={"driver_name": driver_name, "uri": uri})
    assert type(config.dialect) is dialect


def test_default_driver_is_sqlite_and_unknown_drivers_fail_at_construction() -> None:
    assert type(AdbcConfig().dialect) is SqliteDialect
    with pytest.raises(ConfigError, match="driver_name"):
        AdbcConfig(connection_config={"driver_name": "snowflake", "uri": "x"})
    assert family_name("adbc_driver_duckdb") == "duckdb"


def test_placeholders_follow_the_driver() -> None:
    sql = "SELECT '?' FROM t WHERE a = ? AND b = ?"
    assert _placeholders("postgresql", sql) == "SELECT '?' FROM t WHERE a = $1 AND b = $2"
    assert _placeholders("sqlite", sql) == sql == _placeholders("duckdb", sql)


def test_two_configs_on_one_duckdb_file_share_one_database(tmp_path: Path) -> None:
    connection = {"driver_name": "duckdb", "uri": str(tmp_path / "shared.duckdb")}
    writer, reader = AdbcConfig(connection_config=connection), AdbcConfig(connection_config=connection)
    try:
        store = AdbcADKStore(writer)
        store.create_tables()
        store.create_session(app_name="a", user_id="u", session_id="s", state={"k": 1}, now=1.0)
        loaded = AdbcADKStore(reader).get_session(app_name="a", user_id="u", session_id="s")
        assert loaded is not None and loaded["session"]["state"] == {"k": 1}
        assert writer.max_size == reader.max_size == 1
    finally:
        writer.close_pool()
        reader.close_pool()


def test_closing_every_duckdb_pool_releases_the_file_to_other_processes(tmp_path: Path) -> None:
    """While a config holds the file another process cannot open it; after the last close_pool it can.

    Fails when the process-wide database instance is kept after its last connection closes (it used
    to be cached for the life of the process, so the file stayed locked until exit).
    """
    import sys

    path = str(tmp_path / "released.duckdb")
    probe = [
        sys.executable,
        "-c",
        "import duckdb, sys\n"
        "try:\n"
        "    print(duckdb.connect(sys.argv[1]).execute('SELECT count(*) FROM adk_session').fetchone()[0])\n"
        "except duckdb.IOException:\n"
        "    print('LOCKED')\n",
        path,
    ]
    first = AdbcConfig(connection_config={"driver_name": "duckdb", "uri": path})
    second = AdbcConfig(connection_config={"driver_name": "duckdb", "uri": path})
    store = AdbcADKStore(first)
    store.create_tables()
    store.create_session(app_name="a", user_id="u", session_id="s", state={}, now=1.0)
    assert AdbcADKStore(second).get_session(app_name="a", user_id="u", session_id="s") is not None
    first.close_pool()
    assert _run(probe) == "LOCKED"
    # The second config still works on the shared instance, then lets the file go.
    assert AdbcADKStore(second).get_session(app_name="a", user_id="u", session_id="s") is not None
    second.close_pool()
    assert _run(probe) == "1"
    # And opens it again afterwards.
    assert AdbcADKStore(second).get_session(app_name="a", user_id="u", session_id="s") is not None
    second.close_pool()


def test_in_memory_sqlite_uses_one_connection() -> None:
    config = AdbcConfig(connection_config={"driver_name": "sqlite", "uri": ":memory:"}, pool_config={"max_size": 8})
    store = AdbcADKStore(config)
    store.create_tables()
    store.create_session(app_name="a", user_id="u", session_id="s", state={}, now=1.0)
    assert store.get_session(app_name="a", user_id="u", session_id="s") is not None
    assert config.max_size == 1
    config.close_pool()


async def test_one_sqlite_file_is_never_open_through_two_sqlite_libraries(tmp_path: Path) -> None:
    """Two copies of SQLite in one process corrupt a shared file; the second library is refused, clearly."""
    from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
    from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig

    path = str(tmp_path / "shared.db")
    stdlib = SqliteConfig(connection_config={"database": path})
    SqliteADKStore(stdlib).create_tables()
    adbc = AdbcConfig(connection_config={"driver_name": "sqlite", "uri": path})
    with pytest.raises(ConfigError, match=r"already open in this process through the stdlib sqlite3"):
        AdbcADKStore(adbc).create_tables()
    # aiosqlite is the same stdlib library: allowed alongside sqlite.
    also_stdlib = AiosqliteConfig(connection_config={"database": path})
    await AiosqliteADKStore(also_stdlib).create_tables()
    await also_stdlib.close_pool()
    # Once the stdlib configs have closed their pools, ADBC may open the file, and then holds it.
    stdlib.close_pool()
    AdbcADKStore(adbc).create_tables()
    with pytest.raises(ConfigError, match=r"through ADBC's SQLite driver"):
        SqliteADKStore(SqliteConfig(connection_config={"database": path})).create_tables()
    adbc.close_pool()
    # Other files and in-memory databases are independent.
    other = SqliteConfig(connection_config={"database": str(tmp_path / "other.db")})
    SqliteADKStore(other).create_tables()
    memory = AdbcConfig(connection_config={"driver_name": "sqlite", "uri": ":memory:"})
    AdbcADKStore(memory).create_tables()
    other.close_pool()
    memory.close_pool()


def test_a_new_sqlite_connection_waits_for_a_lock_instead_of_failing(tmp_path: Path) -> None:
    """A connection opened while another process holds the file's lock waits up to ``busy_timeout``.

    Fails when ``PRAGMA busy_timeout`` is not the first statement on a new connection: switching the
    journal mode then meets the lock with no busy handler and raises "database is locked" at once (a
    crash-recovery CI run hit exactly this after a killed writer).
    """
    import subprocess
    import sys

    path = tmp_path / "locked.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('CREATE TABLE t (x)')\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('LOCKED', flush=True)\n"
            "time.sleep(0.5)\n"
            "c.execute('COMMIT')\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "LOCKED"
        config = AdbcConfig(
            connection_config={"driver_name": "sqlite", "uri": str(path)},
            extension_config={"adk": {"busy_timeout": 10}},
        )
        AdbcADKStore(config).create_tables()
        config.close_pool()
    finally:
        assert holder.wait(timeout=30) == 0


def _run(argv: list[str]) -> str:
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()
