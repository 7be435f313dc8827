"""Round trips per operation: every session operation is one statement with no BEGIN/COMMIT.

A counting wrapper sits between the transaction plan and the driver and counts
every statement and command the adapter sends (BEGIN and COMMIT included).
"""

from __future__ import annotations

from typing import Any

from google.adk.memory.memory_entry import MemoryEntry
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactWrite
from sqlspec_adk.protocol import Stmt
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


async def test_memory_and_artifact_round_trips(pg: Backend) -> None:
    config = pg.config()
    memory = await pg.memory_store(config)
    artifacts = await pg.artifact_store(config)
    counter = Counter(config)

    entry = MemoryEntry(id="m1", content=types.Content(role="user", parts=[types.Part(text="green apple pie")]))
    await memory.arun(memory.op_add_memories(app_name="a", user_id="u", memories=[entry]), write=True)
    assert counter.take() == 4  # BEGIN, batched insert-if-absent, batched replacing upsert, COMMIT
    found = await memory.arun(memory.op_search(app_name="a", user_id="u", query="apple"), write=False)
    assert [record["event_id"] for record in found] == ["m1"]
    assert counter.take() == 1
    await memory.arun(memory.op_delete_memory(app_name="a", user_id="u", memory_id="m1"), write=True)
    assert counter.take() == 1

    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    write = ArtifactWrite("ref", "text/plain", None, "gs://bucket/f.txt", "{}", 1.0, 0, "0" * 64)
    assert await artifacts.arun(artifacts.op_save_version(key, write), write=True) == 0
    assert counter.take() == 1
    assert await artifacts.arun(artifacts.op_save_version(key, write), write=True) == 1
    assert counter.take() == 1
    latest = await artifacts.arun(artifacts.op_get_version(key), write=False)
    assert latest is not None and latest["version"] == 1
    assert counter.take() == 1
    deleted = await artifacts.arun(artifacts.op_delete_artifact(key), write=True)
    assert [row["version"] for row in deleted] == [0, 1]
    assert counter.take() == 1
