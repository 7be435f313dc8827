"""``include_<component>_migration`` false: the library's migrations leave that component's tables to the team's
own tool, and the services only check that the tables exist (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.errors import MigrationError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION, drop_tables, read_state, upgrade
from sqlspec_adk.migrations.files import render
from sqlspec_adk.migrations.runner import tables_exist_op
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import operation
from sqlspec_adk.registry import config_from_uri, load_adapter
from sqlspec_adk.service import SQLSpecSessionService
from tests.migrations.support import Family, apply_script, uri

FAMILIES = [
    Family("sqlite", "aiosqlite", "aiosqlite"),
    Family("postgres", "asyncpg", "asyncpg"),
    Family("mysql", "aiomysql", "aiomysql"),
]


@pytest.mark.parametrize("family", FAMILIES, ids=[family.name for family in FAMILIES])
async def test_left_out_components_are_not_migrated_and_must_exist(family: Family, tmp_path: Path) -> None:
    family.require()
    tables = family.tables()
    location = family.location(tmp_path)
    left_out = {"include_memory_migration": False, "include_artifacts_migration": False}
    target = uri(family.driver, location, **tables, **left_out)
    _, config = config_from_uri(target)
    _, store_cls, memory_cls, _ = load_adapter(family.driver)
    adk = config.adk
    try:
        sql = render(config.dialect)
        assert adk.session_table in sql and adk.memory_table not in sql and adk.artifact_table not in sql
        assert await upgrade(config) == LATEST_VERSION
        missing = await config.arun(
            operation(
                "tables", lambda: tables_exist_op(config.dialect, [adk.memory_table, adk.artifact_table]), write=False
            )
        )
        assert missing == [adk.memory_table, adk.artifact_table], "upgrade created a left-out component's table"
        assert set((await read_state(config)).versions) == {"sessions"}
        sessions = SQLSpecSessionService(store_cls(config))
        assert await sessions.create_session(app_name="app", user_id="u", session_id="s")
        memory = SQLSpecMemoryService(memory_cls(config))
        with pytest.raises(MigrationError, match=rf"{adk.memory_table}.*include_memory_migration is false"):
            await memory.search_memory(app_name="app", user_id="u", query="anything")

        # The team's own tool makes the memory table (here: render's SQL for the memory component alone).
        _, memory_only = config_from_uri(
            uri(family.driver, location, **tables, include_sessions_migration=False, include_artifacts_migration=False)
        )
        script = render(memory_only.dialect)
        assert adk.memory_table in script and adk.session_table not in script
        await asyncio.to_thread(apply_script, family.name, location, script)
        _, after = config_from_uri(target)
        try:
            memory = SQLSpecMemoryService(memory_cls(after))
            entry = MemoryEntry(author="user", content=types.Content(parts=[types.Part(text="own tool tables")]))
            await memory.add_memory(app_name="app", user_id="u", memories=[entry])
            assert (await memory.search_memory(app_name="app", user_id="u", query="tool")).memories
        finally:
            await call(after.close_pool)
    finally:
        if family.server:
            await drop_tables(config)
        await call(config.close_pool)
