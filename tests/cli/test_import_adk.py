"""``sqlspec-adk import-adk``: ADK's own databases import losslessly and idempotently."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.adk.sessions.base_session_service import BaseSessionService
from google.adk.sessions.sqlite_session_service import SqliteSessionService

from sqlspec_adk.migrations import drop_tables
from sqlspec_adk.operations.database import close_config
from sqlspec_adk.registry import config_from_uri, load_adapter
from sqlspec_adk.service import SQLSpecSessionService
from tests.backends import ADAPTERS, IN_CI, require_server, unique_tables
from tests.cli.adk_fixtures import cli, populate, snapshot
from tests.helpers import event


async def _adk_sqlite(tmp_path: Path) -> tuple[str, BaseSessionService, list[tuple[str, str, str]]]:
    service = SqliteSessionService(db_path=str(tmp_path / "adk-sqlite.db"))
    keys = await populate(service)
    return str(tmp_path / "adk-sqlite.db"), service, keys


def _require_sqlalchemy() -> None:
    """DatabaseSessionService needs sqlalchemy[asyncio] (a dev extra); missing it fails under CI=true."""
    try:
        import sqlalchemy.ext.asyncio  # noqa: F401
    except ImportError as error:
        message = f"DatabaseSessionService needs sqlalchemy[asyncio] (dev extra): {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


async def _adk_database(tmp_path: Path) -> tuple[str, BaseSessionService, list[tuple[str, str, str]]]:
    _require_sqlalchemy()
    from google.adk.sessions.database_session_service import DatabaseSessionService

    path = tmp_path / "adk-database.db"
    service = DatabaseSessionService(db_url=f"sqlite+aiosqlite:///{path}")
    keys = await populate(service)
    return str(path), service, keys


SOURCES = {"SqliteSessionService": _adk_sqlite, "DatabaseSessionService": _adk_database}


def _target_uris(tmp_path: Path) -> list[tuple[str, str]]:
    """(name, URI) of each target: SQLite always, PostgreSQL/MariaDB when their adapters are in this build."""
    uris = [("aiosqlite", f"sqlspec+aiosqlite:///{tmp_path / 'target.db'}")]
    return uris


@pytest.fixture
async def sessions_of() -> AsyncIterator[Any]:
    opened: list[Any] = []

    async def build(uri: str) -> SQLSpecSessionService:
        driver, config = config_from_uri(uri)
        opened.append(config)
        return SQLSpecSessionService(load_adapter(driver)[1](config))

    yield build
    for config in opened:
        await close_config(config)


@pytest.mark.parametrize("kind", list(SOURCES))
async def test_import_is_lossless_and_idempotent(
    kind: str, tmp_path: Path, sessions_of: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source, adk_service, keys = await SOURCES[kind](tmp_path)
    expected = await snapshot(adk_service, keys)
    target = f"sqlspec+aiosqlite:///{tmp_path / 'target.db'}"

    assert await cli(["import-adk", source, target, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"source: {kind}" in out
    assert "imported 4 session(s) with 15 event(s)" in out
    assert "count check passed" in out

    ours = await sessions_of(target)
    assert await snapshot(ours, keys) == expected

    # Running it again changes nothing.
    before = _dump_sqlite(tmp_path / "target.db")
    assert await cli(["import-adk", source, target, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "imported 0 session(s)" in out and "4 already in the target" in out
    assert "count check passed" in out
    assert _dump_sqlite(tmp_path / "target.db") == before

    # An imported session continues: the next append is not stale and keeps the sequence.
    session = await ours.get_session(app_name=keys[2][0], user_id=keys[2][1], session_id=keys[2][2])
    assert session is not None
    await ours.append_event(session, event("after import", delta={"after": 1}))
    again = await ours.get_session(app_name=keys[2][0], user_id=keys[2][1], session_id=keys[2][2])
    assert again is not None and len(again.events) == len(session.events) and again.state["after"] == 1


def _dump_sqlite(path: Path) -> dict[str, list[Any]]:
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: sorted(map(repr, connection.execute(f'SELECT * FROM "{name}"').fetchall()))
            for name in tables
            if not name.endswith(("_fts_data", "_fts_idx", "_fts_docsize", "_fts_config"))
        }
    finally:
        connection.close()


async def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _, _ = await _adk_sqlite(tmp_path)
    target_file = tmp_path / "dry.db"
    assert await cli(["import-adk", source, f"sqlspec+sqlite:///{target_file}", "--dry-run", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "would import 4 session(s) with 15 event(s)" in out
    assert not target_file.exists() or _dump_sqlite(target_file) == {}


async def test_progress_bar_and_batches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _, _ = await _adk_sqlite(tmp_path)
    target = f"sqlspec+sqlite:///{tmp_path / 'batched.db'}"
    assert await cli(["import-adk", source, target, "--batch-size", "1"]) == 0
    captured = capsys.readouterr()
    assert "import-adk: 4/4 (100%)" in captured.err
    assert "count check passed" in captured.out


async def test_refuses_what_is_not_an_adk_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert await cli(["import-adk", str(other), f"sqlspec+sqlite:///{tmp_path / 't.db'}"]) == 2
    assert "no ADK session tables" in capsys.readouterr().err
    assert await cli(["import-adk", str(tmp_path / "missing.db"), f"sqlspec+sqlite:///{tmp_path / 't.db'}"]) == 2
    assert "no ADK session database" in capsys.readouterr().err


async def test_session_with_unstorable_state_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = SqliteSessionService(db_path=str(tmp_path / "nan.db"))
    await service.create_session(app_name="a", user_id="u", session_id="good", state={"x": 1})
    await service.create_session(app_name="a", user_id="u", session_id="bad", state={"x": 2})
    connection = sqlite3.connect(tmp_path / "nan.db")
    connection.execute("UPDATE sessions SET state = '{\"x\": NaN}' WHERE id = 'bad'")
    connection.commit()
    connection.close()
    assert (
        await cli(["import-adk", str(tmp_path / "nan.db"), f"sqlspec+sqlite:///{tmp_path / 't.db'}", "--no-progress"])
        == 1
    )
    out = capsys.readouterr().out
    assert "refused session 'bad'" in out and "imported 1 session(s)" in out


PG_SPECS = [spec for spec in ADAPTERS if spec.name == "asyncpg"]


@pytest.mark.parametrize("spec", PG_SPECS, ids=[spec.name for spec in PG_SPECS])
async def test_import_into_postgresql(spec: Any, tmp_path: Path, sessions_of: Any) -> None:
    require_server(spec)
    from tests.backends import PG_DSN

    source, adk_service, keys = await _adk_sqlite(tmp_path)
    expected = await snapshot(adk_service, keys)
    tables = unique_tables()
    query = "&".join(f"{key}={value}" for key, value in tables.items())
    target = f"sqlspec+asyncpg://{PG_DSN.split('://', 1)[1]}?{query}"
    try:
        assert await cli(["import-adk", source, target, "--no-progress"]) == 0
        assert await cli(["import-adk", source, target, "--no-progress"]) == 0
        assert await snapshot(await sessions_of(target), keys) == expected
    finally:
        _, config = config_from_uri(target)
        try:
            await drop_tables(config)
        finally:
            await close_config(config)


async def test_owner_id_fills_the_owner_column(tmp_path: Path) -> None:
    source, _, _ = await _adk_sqlite(tmp_path)
    target_file = tmp_path / "owned.db"
    target = f"sqlspec+sqlite:///{target_file}?owner_id_column=tenant_id%20INTEGER"
    assert await cli(["import-adk", source, target, "--owner-id", "7", "--no-progress"]) == 0
    owners = {row[0] for row in sqlite3.connect(target_file).execute("SELECT tenant_id FROM adk_session")}
    assert owners == {7}
