"""Write a database with the released sqlspec-adk 0.1.0 (run as a script, with the 0.1.0 tree on PYTHONPATH).

``python release_writer.py PLAN.json OUT.json``: PLAN is a list of
``{"uri": ..., "artifacts": <file:// URI>, "owner_id": <JSON value or null>}``.
For each, 0.1.0's own code creates the schema (``create_tables``) and writes
sessions (text, function calls, bytes, a compaction event), app/user state,
memory (from a session and explicit entries) and artifacts (session and
user scope, two versions); OUT gets what 0.1.0 read back, for the test to
compare with what the current code reads after the upgrade.

Only the API 0.1.0 had is used here: nothing from ``tests`` or the current tree.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import sys
from typing import Any

from google.adk.events import Event, EventActions
from google.adk.events.event_actions import EventCompaction
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

import sqlspec_adk
from sqlspec_adk import SQLSpecArtifactService, SQLSpecMemoryService, SQLSpecSessionService
from sqlspec_adk.registry import config_from_uri, load_adapter

APP = "app"
MEMORY_QUERIES = ("tallest mountain Nepal", "Kangchenjunga")


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _events(base: float) -> list[Event]:
    text = types.Content(role="user", parts=[types.Part(text="What is the tallest mountain in Nepal?")])
    call = types.Content(
        role="model", parts=[types.Part(function_call=types.FunctionCall(name="lookup", args={"q": "Everest"}))]
    )
    picture = types.Content(
        role="model",
        parts=[
            types.Part(text="Sagarmatha, 8849 m"),
            types.Part.from_bytes(data=b"\x00\xffPNG\x01", mime_type="image/png"),
        ],
    )
    compaction = EventCompaction(
        start_timestamp=base + 1,
        end_timestamp=base + 2,
        compacted_content=types.Content(role="model", parts=[types.Part(text="asked about Everest")]),
    )
    return [
        Event(id="e1", invocation_id="i1", author="user", content=text, timestamp=base + 1),
        Event(id="e2", invocation_id="i1", author="agent", content=call, timestamp=base + 2),
        Event(
            id="e3",
            invocation_id="i1",
            author="agent",
            content=picture,
            timestamp=base + 3.25,
            actions=EventActions(state_delta={"counter": 1, "app:count": 2, "user:pref": "tea", "temp:x": 9}),
        ),
        Event(
            id="e4", invocation_id="i2", author="agent", actions=EventActions(compaction=compaction), timestamp=base + 4
        ),
    ]


async def write(uri: str, artifacts: str, owner_id: Any) -> dict[str, Any]:
    driver, config = config_from_uri(uri)
    _, store_cls, memory_cls, artifact_cls = load_adapter(driver)
    store = store_cls(config)
    await _maybe(store.create_tables())
    sessions = SQLSpecSessionService(store, owner_id=owner_id)
    memory = SQLSpecMemoryService(memory_cls(config), owner_id=owner_id)
    files = SQLSpecArtifactService(artifact_cls(config), artifact_storage_uri=artifacts)
    state = {"k": "v", "nested": {"a": [1, 2.5, None, "é"]}, "app:theme": "dark", "user:lang": "fr"}
    one = await sessions.create_session(app_name=APP, user_id="u1", session_id="s1", state=state)
    for event in _events(1_700_000_000.0):
        await sessions.append_event(one, event)
    two = await sessions.create_session(app_name=APP, user_id="u2", session_id="s2", state={"other": True})
    await sessions.append_event(
        two,
        Event(id="f1", author="user", timestamp=1_700_000_100.5, content=types.Content(parts=[types.Part(text="hi")])),
    )
    one = await sessions.get_session(app_name=APP, user_id="u1", session_id="s1")
    assert one is not None
    await memory.add_session_to_memory(one)
    explicit = MemoryEntry(
        id="m-explicit",
        author="user",
        content=types.Content(parts=[types.Part(text="my favourite peak is Kangchenjunga")]),
    )
    await memory.add_memory(app_name=APP, user_id="u1", memories=[explicit])
    await files.save_artifact(
        app_name=APP, user_id="u1", session_id="s1", filename="report.txt", artifact=types.Part(text="version zero")
    )
    await files.save_artifact(
        app_name=APP, user_id="u1", session_id="s1", filename="report.txt", artifact=types.Part(text="version one")
    )
    await files.save_artifact(
        app_name=APP,
        user_id="u1",
        filename="user:avatar.png",
        artifact=types.Part.from_bytes(data=b"\x89PNG\r\n", mime_type="image/png"),
    )
    read: dict[str, Any] = {"sessions": {}, "version": sqlspec_adk.__file__}
    for user, sid in (("u1", "s1"), ("u2", "s2")):
        session = await sessions.get_session(app_name=APP, user_id=user, session_id=sid)
        assert session is not None
        read["sessions"][sid] = {
            "user": user,
            "state": session.state,
            "events": [event.model_dump_json(exclude_none=True) for event in session.events],
            "last_update_time": session.last_update_time,
        }
    read["memory"] = []
    for query in MEMORY_QUERIES:
        found = await memory.search_memory(app_name=APP, user_id="u1", query=query)
        read["memory"].append(sorted(entry.model_dump_json(exclude_none=True) for entry in found.memories))
    read["artifacts"] = {}
    for filename, session_id in (("report.txt", "s1"), ("user:avatar.png", None)):
        versions = await files.list_versions(app_name=APP, user_id="u1", session_id=session_id, filename=filename)
        loaded = []
        for version in versions:
            part = await files.load_artifact(
                app_name=APP, user_id="u1", session_id=session_id, filename=filename, version=version
            )
            assert part is not None
            data = part.inline_data.data if part.inline_data and part.inline_data.data else None
            loaded.append({"text": part.text, "data": base64.b64encode(data).decode() if data else None})
        read["artifacts"][filename] = {"versions": versions, "parts": loaded}
    await _maybe(config.close_pool())
    return read


async def write_all(plan: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["uri"]: await write(item["uri"], item["artifacts"], item["owner_id"]) for item in plan}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        todo = json.load(handle)
    done = asyncio.run(write_all(todo))
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(done, handle)
