"""End to end through ADK's real CLI: servers and ``adk run`` on ``sqlspec+<driver>://`` URIs.

The server tests start ``sqlspec-adk api_server`` as a separate process on
127.0.0.1, talk HTTP to it, stop it, start it again and read the same session.
Every process is bounded in time and always stopped.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlspec_adk.migrations import drop_tables
from sqlspec_adk.operations.database import close_config
from sqlspec_adk.registry import config_from_uri
from tests import spanner_emulator
from tests.backends import ADAPTERS, PG_DSN, require_server, unique_tables
from tests.cli.server import Server, adk_command, child_env, sqlspec_adk_command, write_agents

APP = "notebook"
USER = "u1"
SESSION = "s1"
RUN_TIMEOUT = 120


def _message(text: str) -> dict[str, object]:
    return {"role": "user", "parts": [{"text": text}]}


def _run_turn(server: Server, text: str) -> list[dict[str, object]]:
    body = {"app_name": APP, "user_id": USER, "session_id": SESSION, "new_message": _message(text)}
    events = server.request("POST", "/run", body)
    assert isinstance(events, list) and events, events
    return events


def _server_round_trip(tmp_path: Path, uri: str) -> None:
    agents = write_agents(tmp_path / "agents")
    command = sqlspec_adk_command("api_server", "--no-reload", "--sqlspec_uri", uri, str(agents))
    log = tmp_path / "server.log"

    with Server(command, tmp_path, log) as server:
        created = server.request(
            "POST", f"/apps/{APP}/users/{USER}/sessions", {"session_id": SESSION, "state": {"k": 1}}
        )
        assert created["id"] == SESSION
        events = _run_turn(server, "buy oat milk")
        assert any(part.get("text", "").startswith("Noted") for e in events for part in e["content"]["parts"])
        first = server.request("GET", f"/apps/{APP}/users/{USER}/sessions/{SESSION}")
        artifacts = server.request("GET", f"/apps/{APP}/users/{USER}/sessions/{SESSION}/artifacts")
    assert first["state"]["turns"] == 1 and first["state"]["user:notes"] == ["buy oat milk"]
    assert first["state"]["app:total_notes"] == 1 and first["state"]["k"] == 1
    assert "temp:last_note" not in first["state"]
    assert len(first["events"]) == 4  # user message, tool call, tool response, reply
    assert artifacts == ["notes.txt"]

    with Server(command, tmp_path, log) as server:
        again = server.request("GET", f"/apps/{APP}/users/{USER}/sessions/{SESSION}")
        assert [e["id"] for e in again["events"]] == [e["id"] for e in first["events"]]
        assert again["events"] == first["events"]
        assert again["state"] == first["state"]
        assert again["lastUpdateTime"] == first["lastUpdateTime"]
        # The session goes on after the restart: the stored revision lets the next append through.
        _run_turn(server, "call the dentist")
        third = server.request("GET", f"/apps/{APP}/users/{USER}/sessions/{SESSION}")
        listed = server.request("GET", f"/apps/{APP}/users/{USER}/sessions")
    assert len(third["events"]) == 8 and third["state"]["turns"] == 2
    assert third["state"]["user:notes"] == ["buy oat milk", "call the dentist"]
    assert [s["id"] for s in listed] == [SESSION]


def test_api_server_sqlite_survives_restart(tmp_path: Path) -> None:
    database = tmp_path / "adk.db"
    _server_round_trip(tmp_path, f"sqlspec+aiosqlite:///{database}")
    # Tables were made at startup, and the data is in this library's tables.
    rows = sqlite3.connect(database).execute("SELECT COUNT(*) FROM adk_event").fetchone()
    assert rows == (8,)
    assert (tmp_path / "adk.artifacts").is_dir()


POSTGRES = [spec for spec in ADAPTERS if spec.name == "asyncpg"]


@pytest.fixture
def pg_uri(tmp_path: Path) -> Iterator[str]:
    spec = POSTGRES[0]
    require_server(spec)
    tables = unique_tables()
    query = "&".join(f"{key}={value}" for key, value in tables.items())
    storage = (tmp_path / "artifacts").as_uri()
    uri = f"sqlspec+asyncpg://{PG_DSN.split('://', 1)[1]}?{query}&artifact_storage_uri={storage}"
    yield uri

    async def drop() -> None:
        _, config = config_from_uri(uri)
        try:
            await drop_tables(config)
        finally:
            await close_config(config)

    asyncio.run(drop())


@pytest.mark.skipif(not POSTGRES, reason="the asyncpg adapter is not part of this build")
def test_api_server_postgresql_survives_restart(tmp_path: Path, pg_uri: str) -> None:
    _server_round_trip(tmp_path, pg_uri)


SPANNER = [spec for spec in ADAPTERS if spec.name == "spanner"]


@pytest.mark.skipif(not SPANNER, reason="the spanner adapter is not part of this build")
def test_api_server_spanner_survives_restart(tmp_path: Path) -> None:
    """On the test session's Spanner emulator (the server process inherits ``SPANNER_EMULATOR_HOST``)."""
    require_server(SPANNER[0])
    try:
        storage = (tmp_path / "artifacts").as_uri()
        _server_round_trip(tmp_path, f"{spanner_emulator.uri(tmp_path)}?artifact_storage_uri={storage}")
    finally:
        spanner_emulator.discard(tmp_path)


def _adk_run(agent: Path, cwd: Path, *args: str, command: str = "adk") -> str:
    build = adk_command if command == "adk" else sqlspec_adk_command
    completed = subprocess.run(
        build("run", *args, str(agent), "remember the milk"),
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout + completed.stderr


def _stored_notes(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute("SELECT state FROM adk_user_state")]
    finally:
        connection.close()


@pytest.mark.parametrize("registration", ["services.py", "services.yaml", "wrapper"])
def test_adk_run_with_each_registration(registration: str, tmp_path: Path) -> None:
    """``adk run`` (ADK's own CLI) finds the schemes through services.py or services.yaml; the wrapper needs neither."""
    agents = write_agents(tmp_path / "agents")
    agent = agents / APP
    database = tmp_path / "run.db"
    uri = f"sqlspec+sqlite:///{database}"
    if registration == "services.py":
        (agent / "services.py").write_text("import sqlspec_adk.adk_register  # noqa: F401\n")
    elif registration == "services.yaml":
        (agent / "services.yaml").write_text(
            "services:\n"
            + "".join(
                f"  - scheme: sqlspec+sqlite\n    type: {kind}\n"
                f"    class: sqlspec_adk.adk_integration.URI{name}Service\n"
                for kind, name in (("session", "Session"), ("memory", "Memory"), ("artifact", "Artifact"))
            )
        )
    options = ["--session_service_uri", uri, "--memory_service_uri", uri, "--artifact_service_uri", uri]
    _adk_run(agent, tmp_path, *options, command="sqlspec-adk" if registration == "wrapper" else "adk")
    assert any("remember the milk" in state for state in _stored_notes(database))
