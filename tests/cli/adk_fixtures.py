"""ADK session databases written by ADK's own services, for the import tests."""

from __future__ import annotations

import asyncio
from typing import Any

from google.adk.artifacts.in_memory_artifact_service import InMemoryArtifactService
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.runners import Runner
from google.adk.sessions.base_session_service import BaseSessionService
from google.genai import types

from sqlspec_adk.cli import main
from sqlspec_adk.demo import build_agent

APP = "notebook_app"


async def cli(args: list[str]) -> int:
    """Run ``sqlspec-adk`` with ``args`` off the event loop (it runs its own)."""
    return await asyncio.to_thread(main, args)


OTHER_APP = "other_app"


async def _turn(runner: Runner, user_id: str, session_id: str, text: str) -> None:
    message = types.Content(role="user", parts=[types.Part(text=text)])
    async for _ in runner.run_async(user_id=user_id, session_id=session_id, new_message=message):
        pass


async def populate(service: BaseSessionService) -> list[tuple[str, str, str]]:
    """Sessions that exercise what an import must keep; returns their keys."""
    runner = Runner(
        app_name=APP, agent=build_agent(), session_service=service, artifact_service=InMemoryArtifactService()
    )
    await service.create_session(app_name=APP, user_id="alice", session_id="s1", state={"topic": "groceries"})
    await _turn(runner, "alice", "s1", "buy oat milk")
    await _turn(runner, "alice", "s1", "call the dentist on Tuesday ☎️")
    await service.create_session(app_name=APP, user_id="bob", session_id="s2")
    await _turn(runner, "bob", "s2", "water the plants")

    # Hand-made events: bytes, exact float timestamps, a tie, nested state, unicode.
    session = await service.create_session(
        app_name=OTHER_APP,
        user_id="alice",
        session_id="s1",  # the same id in another app
        state={"nested": {"list": [1, 2.5, None, True], "text": "ünïcødé"}, "app:mode": "x", "user:lang": "de"},
    )
    blob = types.Part(inline_data=types.Blob(mime_type="application/octet-stream", data=bytes(range(256))))
    first = Event(
        author="user",
        invocation_id="inv-a",
        content=types.Content(role="user", parts=[types.Part(text="hello"), blob]),
        actions=EventActions(state_delta={"counter": 1, "user:seen": True, "temp:scratch": "gone"}),
    )
    first.timestamp = 1_700_000_000.123456789
    await service.append_event(session, first)
    for index in range(2):
        tied = Event(
            author="model",
            invocation_id="inv-b",
            content=types.Content(role="model", parts=[types.Part(text=f"tie {index}")]),
            actions=EventActions(state_delta={"app:count": index}),
        )
        tied.timestamp = 1_700_000_001.5
        await service.append_event(session, tied)

    await service.create_session(app_name=OTHER_APP, user_id="carol", session_id="empty", state={"only": "state"})
    return [(APP, "alice", "s1"), (APP, "bob", "s2"), (OTHER_APP, "alice", "s1"), (OTHER_APP, "carol", "empty")]


async def snapshot(service: BaseSessionService, keys: list[tuple[str, str, str]]) -> dict[Any, Any]:
    """What a caller sees: per session its events (as JSON), merged state and update time; per app the listing."""
    result: dict[Any, Any] = {}
    for app_name, user_id, session_id in keys:
        session = await service.get_session(app_name=app_name, user_id=user_id, session_id=session_id)
        assert session is not None, (app_name, user_id, session_id)
        result[(app_name, user_id, session_id)] = (
            [event.model_dump(mode="json", exclude_none=True) for event in session.events],
            dict(session.state),
            session.last_update_time,
        )
    for app_name in sorted({key[0] for key in keys}):
        listing = await service.list_sessions(app_name=app_name)
        result[app_name] = sorted((s.user_id, s.id, tuple(sorted(s.state))) for s in listing.sessions)
        for user_id in sorted({key[1] for key in keys if key[0] == app_name}):
            result[(app_name, user_id, "user-state")] = await service.get_user_state(app_name=app_name, user_id=user_id)
    return result
