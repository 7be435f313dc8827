"""Migrations through the API and the ``sqlspec-adk migrate`` command."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.cli import main
from sqlspec_adk.migrations import LATEST_VERSION, current_version, render, upgrade
from sqlspec_adk.protocol import operation


def test_upgrade_records_version_and_is_idempotent(tmp_path: Path) -> None:
    config = SqliteConfig(connection_config={"database": str(tmp_path / "m.db")})
    assert config.run(operation("t", lambda: current_version(config.dialect), write=True)) == 0
    assert config.run(operation("t", lambda: upgrade(config.dialect), write=True)) == LATEST_VERSION
    assert config.run(operation("t", lambda: upgrade(config.dialect), write=True)) == LATEST_VERSION
    assert config.run(operation("t", lambda: current_version(config.dialect), write=True)) == LATEST_VERSION
    assert SqliteADKStore(config).create_tables() == LATEST_VERSION
    config.close_pool()


def test_render_applies_on_sqlite(tmp_path: Path) -> None:
    """The rendered SQL is what a team applies with its own tools: it must run, and be recognised afterwards."""
    import sqlite3

    sql = render(SqliteConfig().dialect)
    assert "schema_version" in sql
    database = tmp_path / "rendered.db"
    connection = sqlite3.connect(database)
    connection.executescript(sql)
    connection.close()
    config = SqliteConfig(connection_config={"database": str(database)})
    assert config.run(operation("t", lambda: current_version(config.dialect), write=True)) == LATEST_VERSION
    assert config.run(operation("t", lambda: upgrade(config.dialect), write=True)) == LATEST_VERSION
    config.close_pool()
    # Statements sqlglot understands also parse as SQLite (FTS5 virtual tables and triggers are SQLite-only syntax).
    portable = [s for s in sql.split(";\n") if s.strip() and "VIRTUAL TABLE" not in s and "TRIGGER" not in s]
    parsed = [sqlglot.parse_one(statement, read="sqlite") for statement in portable if not statement.startswith("--")]
    assert any("adk_session" in statement.sql() for statement in parsed)


def test_cli_migrate_upgrade_current_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlspec+sqlite:///{tmp_path / 'cli.db'}?session_table=cli_sessions"
    assert main(["migrate", "current", uri]) == 0
    assert "schema version 0" in capsys.readouterr().out
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
