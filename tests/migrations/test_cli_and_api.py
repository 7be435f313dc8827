"""Migrations through the API and the ``sqlspec-adk migrate`` command, on SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlglot

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.cli import main
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.migrations import LATEST_VERSION, current_version, read_state, upgrade, upgrade_sync
from sqlspec_adk.migrations.files import render


def test_upgrade_records_every_component_and_is_idempotent(tmp_path: Path) -> None:
    config = SqliteConfig(connection_config={"database": str(tmp_path / "m.db")})
    assert upgrade_sync(config) == LATEST_VERSION
    assert upgrade_sync(config) == LATEST_VERSION
    assert SqliteADKStore(config).create_tables() == LATEST_VERSION
    rows = dict(sqlite3.connect(tmp_path / "m.db").execute("SELECT meta_key, meta_value FROM adk_internal_metadata"))
    assert rows["schema_version"] == str(LATEST_VERSION)
    for component in ("sessions", "memory", "artifacts"):
        assert rows[f"schema_version:{component}"] == str(LATEST_VERSION)
        assert f"schema_options:{component}" in rows
    config.close_pool()


async def test_current_is_read_only_and_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    config = AiosqliteConfig(connection_config={"database": str(database)})
    assert await current_version(config) == 0
    assert not database.exists(), "a read-only check created the database file"
    sqlite3.connect(database).close()  # an empty database: still nothing applied, nothing created
    assert await current_version(config) == 0
    names = [row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")]
    assert names == []
    assert await upgrade(config) == LATEST_VERSION
    assert await current_version(config) == LATEST_VERSION
    await config.close_pool()


async def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "future.db"
    config = AiosqliteConfig(connection_config={"database": str(database)})
    await upgrade(config)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE adk_internal_metadata SET meta_value = ? WHERE meta_key = 'schema_version:sessions'",
            (str(LATEST_VERSION + 1),),
        )
    with pytest.raises(MigrationError, match=rf"version {LATEST_VERSION + 1}.*version {LATEST_VERSION}"):
        await upgrade(config)
    assert (await read_state(config)).version("sessions") == LATEST_VERSION + 1
    # The stores read it, but refuse to write.
    fresh = AiosqliteConfig(connection_config={"database": str(database)})
    store = AiosqliteADKStore(fresh)
    assert await store.get_session(app_name="a", user_id="u", session_id="s") is None
    with pytest.raises(MigrationError, match="writes are refused"):
        await store.create_session(app_name="a", user_id="u", session_id="s")
    await config.close_pool()
    await fresh.close_pool()


async def test_a_store_on_a_database_behind_names_the_upgrade_command(tmp_path: Path) -> None:
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "behind.db")})
    store = AiosqliteADKStore(config)
    with pytest.raises(MigrationError, match="sqlspec-adk migrate upgrade"):
        await store.create_session(app_name="a", user_id="u", session_id="s")
    assert not (tmp_path / "behind.db").exists()
    automatic = AiosqliteConfig(
        connection_config={"database": str(tmp_path / "behind.db")}, extension_config={"adk": {"create_tables": True}}
    )
    made = await AiosqliteADKStore(automatic).create_session(app_name="a", user_id="u", session_id="s")
    assert made["session"]["id"] == "s"
    await config.close_pool()
    await automatic.close_pool()


def test_render_applies_on_sqlite_and_is_recognised(tmp_path: Path) -> None:
    """The rendered SQL is what a team applies with its own tools: it must run, and be recognised afterwards."""
    sql = render(SqliteConfig().dialect)
    database = tmp_path / "rendered.db"
    connection = sqlite3.connect(database)
    connection.executescript(sql)
    connection.close()
    config = SqliteConfig(connection_config={"database": str(database)})
    store = SqliteADKStore(config)
    assert store.get_session(app_name="a", user_id="u", session_id="s") is None  # the schema check passes
    assert upgrade_sync(config) == LATEST_VERSION
    config.close_pool()
    # Statements sqlglot understands also parse as SQLite (FTS5 virtual tables and triggers are SQLite-only syntax).
    portable = [s for s in sql.split(";\n") if s.strip() and "VIRTUAL TABLE" not in s and "TRIGGER" not in s]
    parsed = [sqlglot.parse_one(statement, read="sqlite") for statement in portable if not statement.startswith("--")]
    assert any("adk_session" in statement.sql() for statement in parsed)


def test_cli_migrate_current_upgrade_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlspec+sqlite:///{tmp_path / 'cli.db'}?session_table=cli_sessions"
    assert main(["migrate", "current", uri]) == 0
    assert "schema version 0" in capsys.readouterr().out
    assert not (tmp_path / "cli.db").exists()
    assert main(["migrate", "upgrade", uri]) == 0
    assert f"schema at version {LATEST_VERSION}" in capsys.readouterr().out
    assert main(["migrate", "current", uri]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "render", uri]) == 0
    assert '"cli_sessions"' in capsys.readouterr().out


def test_cli_reports_bad_config_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "render", "sqlspec+sqlite:///x.db?session_table=bad name"]) == 2
    assert "session_table" in capsys.readouterr().err
    assert main(["migrate", "render", "sqlspec+nosuch:///x"]) == 2
    assert "unknown adapter" in capsys.readouterr().err
