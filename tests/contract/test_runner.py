"""A full offline ADK Runner run over two turns, then a restart, on every adapter."""

from __future__ import annotations

from typing import Any

from google.adk.runners import Runner
from google.genai import types

from sqlspec_adk.demo import build_agent

APP = "notebook_app"


async def _turn(runner: Runner, session_id: str, text: str) -> list[Any]:
    message = types.Content(role="user", parts=[types.Part(text=text)])
    return [event async for event in runner.run_async(user_id="u1", session_id=session_id, new_message=message)]


async def test_runner_two_turns_then_restart(backend: Any) -> None:
    config = backend.config()
    sessions = await backend.sessions(config)
    memory = await backend.memory(config)
    artifacts = await backend.artifacts(config)
    runner = Runner(
        app_name=APP, agent=build_agent(), session_service=sessions, memory_service=memory, artifact_service=artifacts
    )
    session = await sessions.create_session(app_name=APP, user_id="u1", session_id="conv")
    first = await _turn(runner, session.id, "buy oat milk")
    second = await _turn(runner, session.id, "call the dentist")
    replies = [
        e.content.parts[0].text for e in first + second if e.content and e.content.parts and e.content.parts[0].text
    ]
    assert replies[-1] == "Noted 'call the dentist'. I now remember 2 note(s)."

    stored = await sessions.get_session(app_name=APP, user_id="u1", session_id="conv")
    assert stored is not None
    # Per turn: user message, function call, function response, text reply.
    assert len(stored.events) == 8
    assert stored.state["turns"] == 2
    assert stored.state["user:notes"] == ["buy oat milk", "call the dentist"]
    assert stored.state["app:total_notes"] == 2
    assert not any(key.startswith("temp:") for key in stored.state)
    await memory.add_session_to_memory(stored)

    await backend.close_config(config)
    config_again = backend.config()
    sessions_again = await backend.sessions(config_again)
    memory_again = await backend.memory(config_again)
    artifacts_again = await backend.artifacts(config_again)
    reloaded = await sessions_again.get_session(app_name=APP, user_id="u1", session_id="conv")
    assert reloaded is not None
    assert [e.model_dump(mode="json") for e in reloaded.events] == [e.model_dump(mode="json") for e in stored.events]
    found = await memory_again.search_memory(app_name=APP, user_id="u1", query="dentist")
    assert any("dentist" in (part.text or "") for entry in found.memories for part in entry.content.parts or [])
    notes = await artifacts_again.load_artifact(app_name=APP, user_id="u1", session_id="conv", filename="notes.txt")
    assert notes is not None and notes.inline_data is not None
    assert notes.inline_data.data == b"buy oat milk\ncall the dentist"
    assert await artifacts_again.list_versions(app_name=APP, user_id="u1", session_id="conv", filename="notes.txt") == [
        0,
        1,
    ]

    runner_again = Runner(
        app_name=APP,
        agent=build_agent(),
        session_service=sessions_again,
        memory_service=memory_again,
        artifact_service=artifacts_again,
    )
    third = await _turn(runner_again, "conv", "water the plants")
    assert third[-1].content.parts[0].text == "Noted 'water the plants'. I now remember 3 note(s)."
