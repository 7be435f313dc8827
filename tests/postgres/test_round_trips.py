"""Round trips per operation: every session operation is one statement with no BEGIN/COMMIT.

A counting wrapper sits between the engine and the driver and counts every
statement and command the adapter sends (BEGIN and COMMIT included).
"""

from __future__ import annotations

from typing import Any

from google.adk.memory.memory_entry import MemoryEntry
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Stmt, operation
from sqlspec_adk.records import ArtifactKey, ArtifactWrite
from tests.conftest import Backend
from tests.helpers import event


class Counter:
    """Counts what a config sends to its driver (statements and BEGIN/COMMIT/ROLLBACK)."""

    def __init__(self, config: Any) -> None:
        self.sent: list[str] = []
        execute, command = config.execute, config.command
        if config.is_async:

            async def execute_async(connection: Any, stmt: Stmt) -> Any:
                self.sent.append(stmt.sql)
                return await execute(connection, stmt)

            async def command_async(connection: Any, sql: str) -> None:
                self.sent.append(sql)
                await command(connection, sql)

            config.execute, config.command = execute_async, command_async
        else:

            def execute_sync(connection: Any, stmt: Stmt) -> Any:
                self.sent.append(stmt.sql)
                return execute(connection, stmt)

            def command_sync(connection: Any, sql: str) -> None:
                self.sent.append(sql)
                command(connection, sql)

            config.execute, config.command = execute_sync, command_sync

    def take(self) -> int:
        count, self.sent = len(self.sent), []
        return count


async def test_each_session_operation_is_one_round_trip(pg: Backend) -> None:
    config = pg.config()
    service = await pg.sessions(config)
    counter = Counter(config)

    session = await service.create_session(app_name="a", user_id="u", state={"k": 1, "app:x": 1, "user:y": 1})
    assert counter.take() == 1
    for index in range(3):
        await service.append_event(session, event(f"e{index}", delta={"k": index, "app:x": index, "user:y": index}))
        assert counter.take() == 1
    loaded = await service.get_session(
        app_name="a", user_id="u", session_id=session.id, config=GetSessionConfig(num_recent_events=2)
    )
    assert counter.take() == 1
    assert loaded is not None and len(loaded.events) == 2 and loaded.state["app:x"] == 2
    await service.list_sessions(app_name="a")
    assert counter.take() == 1
    await service.list_sessions_page(app_name="a", user_id="u", page_size=1)
    assert counter.take() == 1
    assert await service.get_user_state(app_name="a", user_id="u") == {"y": 2}
    assert counter.take() == 1
    await service.delete_session(app_name="a", user_id="u", session_id=session.id)
    assert counter.take() == 1
    assert await service.delete_events_before(before=0) == 0
    assert await service.delete_idle_sessions(before=0) == 0
    assert counter.take() == 2


async def test_memory_and_artifact_round_trips(pg: Backend) -> None:
    config = pg.config()
    memory = await pg.memory_store(config)
    artifacts = await pg.artifact_store(config)
    counter = Counter(config)

    entry = MemoryEntry(id="m1", content=types.Content(role="user", parts=[types.Part(text="green apple pie")]))
    await call(memory.add_memory, app_name="a", user_id="u", memories=[entry])
    # BEGIN, revision bump (a replacement may clear a vector), batched insert-if-absent, replacing upsert, COMMIT
    assert counter.take() == 5
    found = await call(memory.search_memory, app_name="a", user_id="u", query="apple")
    assert [record["event_id"] for record in found] == ["m1"]
    assert counter.take() == 1
    assert await call(memory.delete_memory, app_name="a", user_id="u", memory_id="m1") == 1
    assert counter.take() == 1
    assert await call(memory.delete_user_memory, app_name="a", user_id="u") == 1
    assert counter.take() == 1
    assert await call(memory.delete_memory_before, before=0) == 0
    assert counter.take() == 1
    dialect = config.dialect
    for count in (
        lambda: dialect.memory.count_memory_before(before=0),
        lambda: dialect.artifacts.count_artifacts_before(before=0, app_name="a"),
        lambda: dialect.sessions.count_events_before(before=0, idle_before=0),
    ):  # retention dry runs
        assert await config.arun(operation("count", count, write=False)) == 0
        assert counter.take() == 1

    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    write = ArtifactWrite("ref", "text/plain", None, "gs://bucket/f.txt", "{}", 1.0, 0, "0" * 64)
    assert await call(artifacts.save_artifact_version, key, write) == 0
    assert counter.take() == 1
    assert await call(artifacts.save_artifact_version, key, write) == 1
    assert counter.take() == 1
    latest = await call(artifacts.get_artifact_version, key)
    assert latest is not None and latest["version"] == 1
    assert counter.take() == 1
    assert [row["version"] for row in await call(artifacts.list_artifact_versions, key)] == [0, 1]
    assert await call(artifacts.list_artifact_keys, app_name="a", user_id="u", session_id="s") == ["f.txt"]
    assert await call(artifacts.artifact_uri_exists, key, "gs://bucket/f.txt")
    assert counter.take() == 3
    deleted = await call(artifacts.delete_artifact, key)
    assert [row["version"] for row in deleted] == [0, 1]
    assert counter.take() == 1
    assert await call(artifacts.delete_artifacts_before, before=0) == []
    assert counter.take() == 1
