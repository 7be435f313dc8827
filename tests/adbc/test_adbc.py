"""ADBC specifics: the driver picks the dialect and the glue, configs share a DuckDB file, SQLite files are claimed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import adbc_driver_manager.dbapi as dbapi
import pytest

from sqlspec_adk.adapters import _duckdb
from sqlspec_adk.adapters.adbc import AdbcADKStore, AdbcConfig
from sqlspec_adk.adapters.adbc.config import classify_adbc_postgres
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Operation, Stmt
from tests.backends import PG_DSN, require_server
from tests.helpers import raw_op


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
    assert AdbcConfig(connection_config={"driver_name": "adbc_driver_duckdb"}).family == "duckdb"


def test_options_the_driver_cannot_take_fail_at_construction() -> None:
    for driver_name in ("sqlite", "duckdb"):
        with pytest.raises(ConfigError, match="no database options"):
            AdbcConfig(connection_config={"driver_name": driver_name, "uri": ":memory:", "timeout": 5})


def test_placeholders_follow_the_driver() -> None:
    sql = "SELECT '?' FROM t WHERE a = ? AND b = ?"
    configs = {
        name: AdbcConfig(connection_config={"driver_name": name, "uri": ":memory:"}) for name in ("sqlite", "duckdb")
    }
    postgres = AdbcConfig(connection_config={"driver_name": "postgresql", "uri": PG_DSN})
    assert postgres.driver.placeholders(sql) == "SELECT '?' FROM t WHERE a = $1 AND b = $2"
    assert configs["sqlite"].driver.placeholders(sql) == sql == configs["duckdb"].driver.placeholders(sql)


def test_connections_come_from_the_drivers_public_api() -> None:
    """No private driver API: each package's own connect (and DuckDB's public driver_path) is there.

    Fails loudly if a driver package drops the entry point the adapter calls.
    """
    import adbc_driver_duckdb
    import adbc_driver_postgresql.dbapi
    import adbc_driver_sqlite.dbapi

    assert callable(adbc_driver_sqlite.dbapi.connect) and callable(adbc_driver_postgresql.dbapi.connect)
    assert callable(adbc_driver_duckdb.connect) and Path(adbc_driver_duckdb.driver_path()).is_file()
    assert callable(dbapi.Connection.adbc_clone)
    source = Path(sys.modules[AdbcConfig.__module__].__file__ or "").read_text()
    assert "_driver_path" not in source and "_driver_path" not in Path(_duckdb.__file__).read_text()


def test_duckdb_binds_one_row_per_executemany_and_counts_rows_from_its_result(tmp_path: Path) -> None:
    config = AdbcConfig(connection_config={"driver_name": "duckdb", "uri": str(tmp_path / "rows.duckdb")})
    try:

        def build() -> Any:
            yield Stmt("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)")
            yield Stmt("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")], many=True)
            changed = yield Stmt("UPDATE t SET v = ? WHERE id >= ?", ("z", 2), Fetch.ROWCOUNT)
            rows = yield Stmt("SELECT id, v FROM t ORDER BY id", (), Fetch.ALL)
            return changed, rows

        assert config.run(Operation("rows", build, True)) == (2, [(1, "a"), (2, "z"), (3, "z")])
    finally:
        config.close_pool()


def test_two_configs_on_one_duckdb_file_share_one_database(tmp_path: Path) -> None:
    connection = {"driver_name": "duckdb", "uri": str(tmp_path / "shared.duckdb")}
    writer, reader = AdbcConfig(connection_config=connection), AdbcConfig(connection_config=connection)
    try:
        store = AdbcADKStore(writer)
        store.create_tables()
        store.create_session(app_name="a", user_id="u", session_id="s", state={"k": 1})
        loaded = AdbcADKStore(reader).get_session(app_name="a", user_id="u", session_id="s")
        assert loaded is not None and loaded["session"]["state"] == {"k": 1}
        assert writer.max_size == reader.max_size == 1
    finally:
        writer.close_pool()
        reader.close_pool()


def test_a_duckdb_transaction_holds_the_file_lock_from_acquire_to_release(tmp_path: Path) -> None:
    path = str(tmp_path / "locked.duckdb")
    first, second = (AdbcConfig(connection_config={"driver_name": "duckdb", "uri": path}) for _ in range(2))
    lock = _duckdb.database_lock(path)
    try:
        connection = first.acquire(write=True)
        assert lock.locked()
        done = threading.Event()
        thread = threading.Thread(target=lambda: (second.run(raw_op("SELECT 1")), done.set()))
        thread.start()
        assert not done.wait(0.2)  # the other config waits for the file's lock
        first.release(connection, discard=False)
        assert done.wait(10)
        thread.join()
        assert not lock.locked()
        with pytest.raises(dbapi.Error):
            first.run(raw_op("SELEC 1"))
        assert not lock.locked()  # also after a failed transaction
    finally:
        first.close_pool()
        second.close_pool()


def test_closing_every_duckdb_pool_releases_the_file_to_other_processes(tmp_path: Path) -> None:
    """While a config holds the file another process cannot open it; after the last close_pool it can.

    Fails when the process-wide database instance is kept after its last connection closes (it used
    to be cached for the life of the process, so the file stayed locked until exit).
    """
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
    store.create_session(app_name="a", user_id="u", session_id="s", state={})
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


def test_duckdb_connections_load_the_fts_extension(tmp_path: Path) -> None:
    config = AdbcConfig(connection_config={"driver_name": "duckdb", "uri": str(tmp_path / "fts.duckdb")})
    try:
        assert config.dialect.memory.memory_fts and config.setup == [_duckdb.fts_load_sql()]
        loaded = config.run(raw_op("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'fts'"))
        assert loaded == [(True,)]
    finally:
        config.close_pool()


def test_in_memory_sqlite_uses_one_connection() -> None:
    config = AdbcConfig(connection_config={"driver_name": "sqlite", "uri": ":memory:"}, pool_config={"max_size": 8})
    store = AdbcADKStore(config)
    store.create_tables()
    store.create_session(app_name="a", user_id="u", session_id="s", state={})
    assert store.get_session(app_name="a", user_id="u", session_id="s") is not None
    assert config.max_size == 1
    config.close_pool()


def test_sqlite_connections_run_the_sqlite_pragmas(tmp_path: Path) -> None:
    config = AdbcConfig(connection_config={"driver_name": "sqlite", "uri": str(tmp_path / "p.db")})
    try:
        assert config.run(raw_op("PRAGMA journal_mode")) == [("wal",)]
        assert config.run(raw_op("PRAGMA foreign_keys")) == [(1,)]
        assert config.run(raw_op("PRAGMA synchronous")) == [(2,)]  # FULL
    finally:
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


class _Dropped(dbapi.OperationalError):
    """An ADBC error as libpq reports a dropped connection: a message, no SQLSTATE."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.sqlstate = None


def test_postgres_dropped_connections_are_classified_by_message_when_there_is_no_sqlstate() -> None:
    assert classify_adbc_postgres(_Dropped("IO: [libpq] no connection to the server")) is ErrorKind.UNSENT
    assert classify_adbc_postgres(_Dropped("terminating connection due to administrator command")) is ErrorKind.UNSENT
    assert classify_adbc_postgres(_Dropped("server closed the connection unexpectedly")) is ErrorKind.LOST
    assert classify_adbc_postgres(_Dropped("syntax error at or near")) is None
    assert classify_adbc_postgres(ValueError("server closed the connection")) is None


def test_a_postgres_connection_the_server_dropped_is_replaced(tmp_path: Path) -> None:
    """A pooled connection whose backend was terminated is discarded and the operation runs on a new one."""
    from tests.backends import ADAPTERS

    require_server(next(spec for spec in ADAPTERS if spec.name == "adbc_postgresql"))
    config = AdbcConfig(connection_config={"driver_name": "postgresql", "uri": PG_DSN}, pool_config={"max_size": 1})
    admin = AdbcConfig(connection_config={"driver_name": "postgresql", "uri": PG_DSN})
    try:
        pid = config.run(raw_op("SELECT pg_backend_pid()"))[0][0]
        assert admin.run(raw_op("SELECT pg_terminate_backend(CAST(? AS INTEGER))", (pid,))) == [(True,)]
        assert config.run(raw_op("SELECT pg_backend_pid()"))[0][0] != pid
    finally:
        config.close_pool()
        admin.close_pool()


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()
