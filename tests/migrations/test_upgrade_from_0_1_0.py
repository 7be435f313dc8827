"""A database made by the released sqlspec-adk 0.1.0 upgrades in place, on every live family.

The released code itself (commit f889721, ``git archive`` into a temp dir,
run in one subprocess on this venv's python) creates each database and writes
sessions, events, app/user state, memory and artifacts; its own reads of them
are kept. Then the current code: the stores refuse the old schema (naming
``sqlspec-adk migrate upgrade``), the CLI upgrades it to the latest version,
and the current services read everything back (events byte-identical, in the
stored rows too; state; memory search finds the old entries; artifacts load)
and write again (an event appended to an old session, new memory, a new
artifact version).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.adk.events import Event, EventActions
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.cli import main
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION, current_version, read_state
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Fetch, Op, Stmt, operation
from sqlspec_adk.registry import config_from_uri, load_adapter
from sqlspec_adk.service import SQLSpecSessionService
from tests.backends import server_reachable
from tests.migrations.support import Family, release_tree, uri, worker_env

WRITER = Path(__file__).with_name("release_writer.py")
OWNER = 7
QUERIES = ("tallest mountain Nepal", "Kangchenjunga")


@dataclass(frozen=True)
class Variant:
    """One database: written by 0.1.0's ``writer`` driver, upgraded and read by the current ``reader`` driver."""

    name: str
    family: Family
    writer: str
    owner: bool = False
    custom_tables: bool = False
    schema: bool = False

    def adk(self, suffix: str) -> dict[str, Any]:
        keys: dict[str, Any] = dict(self.family.tables())
        if self.custom_tables and not keys:
            keys = {f"{part}_table": f"old_{part}" for part in ("session", "events", "memory", "artifact")}
            keys |= {"metadata_table": "old_meta", "app_state_table": "old_app", "user_state_table": "old_usr"}
        if self.owner:
            keys["owner_id_column"] = "tenant_id INTEGER"
        if self.schema:
            keys["schema"] = f"old_{suffix}"
        return keys


VARIANTS = [
    Variant("sqlite", Family("sqlite", "sqlite", "sqlite"), "sqlite"),
    Variant("aiosqlite", Family("sqlite", "aiosqlite", "aiosqlite"), "aiosqlite", owner=True, custom_tables=True),
    Variant("adbc_sqlite", Family("sqlite", "adbc_sqlite", "adbc_sqlite"), "sqlite"),
    Variant("asyncpg", Family("postgres", "asyncpg", "asyncpg"), "asyncpg", owner=True, schema=True),
    Variant("adbc_postgresql", Family("postgres", "adbc_postgresql", "adbc_postgresql"), "psycopg"),
    Variant("aiomysql", Family("mysql", "aiomysql", "aiomysql"), "aiomysql", owner=True),
    Variant("asyncmy", Family("mysql", "asyncmy", "asyncmy"), "pymysql"),
    Variant("duckdb", Family("duckdb", "duckdb", "duckdb"), "duckdb", owner=True, custom_tables=True),
    Variant("adbc_duckdb", Family("duckdb", "adbc_duckdb", "adbc_duckdb"), "duckdb"),
]


@dataclass
class Released:
    uris: dict[str, str]  #: variant -> the current code's URI (the reader's driver)
    adk: dict[str, dict[str, Any]]
    read: dict[str, dict[str, Any]]  #: variant -> what 0.1.0 read back
    artifacts: dict[str, str]


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """Every reachable variant's database, written by 0.1.0 in one subprocess (once per test session)."""
    root = tmp_path_factory.mktemp("release")
    tree = release_tree(root / "tree")
    plan, result = [], Released({}, {}, {}, {})
    for variant in VARIANTS:
        if variant.family.server and not server_reachable(variant.family.name):
            continue
        suffix = variant.name
        adk = variant.adk(suffix)
        location = variant.family.location(root, variant.name)
        result.uris[variant.name] = uri(variant.family.driver, location, **adk)
        result.adk[variant.name] = adk
        result.artifacts[variant.name] = (root / f"artifacts_{variant.name}").as_uri()
        plan.append(
            {
                "name": variant.name,
                "uri": uri(variant.writer, location, **adk),
                "artifacts": result.artifacts[variant.name],
                "owner_id": OWNER if variant.owner else None,
            }
        )
    plan_file, out_file = root / "plan.json", root / "read.json"
    plan_file.write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, str(WRITER), str(plan_file), str(out_file)],
        env=worker_env({"PYTHONPATH": str(tree)}),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"0.1.0 could not write its databases:\n{done.stderr[-4000:]}"
    by_uri = json.loads(out_file.read_text())
    for item in plan:
        result.read[item["name"]] = by_uri[item["uri"]]
        assert result.read[item["name"]]["version"].startswith(str(tree)), "the writer did not run 0.1.0's code"
    return result


async def _drop(config: Any, adk: dict[str, Any]) -> None:
    from sqlspec_adk.migrations import drop_tables

    await drop_tables(config)
    if adk.get("schema"):

        def build() -> Op[None]:
            yield Stmt(f'DROP SCHEMA IF EXISTS "{adk["schema"]}" CASCADE')

        await config.arun(operation("drop_schema", build, write=True))


def _one(stmt: Stmt) -> Op[Any]:
    return (yield stmt)


async def _rows(config: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    rows = await config.arun(operation("raw", lambda: _one(Stmt(sql, params, Fetch.ALL)), write=False))
    return [tuple(row) for row in rows]


def _memory_json(response: Any) -> list[str]:
    return sorted(entry.model_dump_json(exclude_none=True) for entry in response.memories)


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
async def test_a_0_1_0_database_upgrades_in_place_and_stays_writable(variant: Variant, released: Released) -> None:
    variant.family.require()
    target, adk, old = released.uris[variant.name], released.adk[variant.name], released.read[variant.name]
    owner = OWNER if variant.owner else None
    _, config = config_from_uri(target)
    _, store_cls, memory_cls, artifact_cls = load_adapter(variant.family.driver)
    dialect = config.dialect
    try:
        # Before the upgrade: recorded as 0.1.0 records it, and the current stores refuse it by name.
        state = await read_state(config)
        assert (state.legacy, state.versions) == (1, {})
        assert await current_version(config) == 1
        with pytest.raises(MigrationError, match="sqlspec-adk migrate upgrade"):
            await call(store_cls(config).get_session, app_name="app", user_id="u1", session_id="s1")
        events_sql = f"SELECT id, event_data FROM {dialect.events_table} ORDER BY app_name, user_id, session_id, seq"
        stored = await _rows(config, events_sql)
        assert len(stored) == 5

        assert await asyncio.to_thread(main, ["migrate", "upgrade", target]) == 0  # the CLI runs its own loop
        assert await current_version(config) == LATEST_VERSION
        assert await _rows(config, events_sql) == stored, "the upgrade changed stored event rows"
        flags = dict(await _rows(config, f"SELECT id, compaction FROM {dialect.events_table}"))
        assert {key: bool(value) for key, value in flags.items()} == {
            "e1": False,
            "e2": False,
            "e3": False,
            "e4": True,
            "f1": False,
        }, "version 2's compaction flag was not backfilled from the stored events"

        # Read back through the current services, on a fresh config (its own pool and schema check).
        _, fresh = config_from_uri(target)
        sessions = SQLSpecSessionService(store_cls(fresh), owner_id=owner)
        memory = SQLSpecMemoryService(memory_cls(fresh), owner_id=owner)
        files = SQLSpecArtifactService(artifact_cls(fresh), artifact_storage_uri=released.artifacts[variant.name])
        try:
            for session_id, before in old["sessions"].items():
                session = await sessions.get_session(app_name="app", user_id=before["user"], session_id=session_id)
                assert session is not None
                assert [event.model_dump_json(exclude_none=True) for event in session.events] == before["events"]
                assert session.state == before["state"]
                assert session.last_update_time == before["last_update_time"]
            assert await sessions.get_user_state(app_name="app", user_id="u1") == {"lang": "fr", "pref": "tea"}
            listed = await sessions.list_sessions(app_name="app", user_id=None)
            assert sorted(session.id for session in listed.sessions) == ["s1", "s2"]
            for query, expected in zip(QUERIES, old["memory"], strict=True):
                found = await memory.search_memory(app_name="app", user_id="u1", query=query)
                assert _memory_json(found) == expected and expected, f"memory search for {query!r} changed"
            for filename, before in old["artifacts"].items():
                session_id = None if filename.startswith("user:") else "s1"
                versions = await files.list_versions(
                    app_name="app", user_id="u1", session_id=session_id, filename=filename
                )
                assert versions == before["versions"]
                for version, part_before in zip(versions, before["parts"], strict=True):
                    part = await files.load_artifact(
                        app_name="app", user_id="u1", session_id=session_id, filename=filename, version=version
                    )
                    assert part is not None
                    data = part.inline_data.data if part.inline_data else None
                    assert part.text == part_before["text"]
                    assert (data is None) == (part_before["data"] is None)

            # ... and write: an event appended to an old session, new memory, a new artifact version.
            session = await sessions.get_session(app_name="app", user_id="u1", session_id="s1")
            assert session is not None
            delta = {"counter": 2, "app:count": 3, "user:pref": "coffee"}
            event = Event(id="e5", author="agent", timestamp=1_700_000_010.0, actions=EventActions(state_delta=delta))
            await sessions.append_event(session, event)
            again = await sessions.get_session(app_name="app", user_id="u1", session_id="s1")
            assert again is not None and [event.id for event in again.events] == ["e1", "e2", "e3", "e4", "e5"]
            assert (again.state["counter"], again.state["app:count"], again.state["user:pref"]) == (2, 3, "coffee")
            other = await sessions.get_session(app_name="app", user_id="u2", session_id="s2")
            assert other is not None and other.state["app:count"] == 3
            entry = MemoryEntry(author="user", content=types.Content(parts=[types.Part(text="Annapurna circuit")]))
            await memory.add_memory(app_name="app", user_id="u1", memories=[entry])
            assert (await memory.search_memory(app_name="app", user_id="u1", query="Annapurna")).memories
            assert (await memory.search_memory(app_name="app", user_id="u1", query="Kangchenjunga")).memories
            version = await files.save_artifact(
                app_name="app", user_id="u1", session_id="s1", filename="report.txt", artifact=types.Part(text="two")
            )
            assert version == 2
        finally:
            await call(fresh.close_pool)
    finally:
        if variant.family.server:
            await _drop(config, adk)
        await call(config.close_pool)
