"""``sqlspec-adk demo``: two turns, a simulated restart, and proof that nothing was lost."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from google.adk.runners import Runner
from google.genai import types

from sqlspec_adk.demo import build_agent
from sqlspec_adk.modes import call
from sqlspec_adk.operations.database import close_config

APP = "notebook_app"
USER = "demo-user"
SESSION = "demo-session"


class _Services:
    """One "process": a config and the three services on it."""

    def __init__(self, database: Path, driver: str) -> None:
        from sqlspec_adk.registry import load_adapter

        config_cls, session_store, memory_store, artifact_store = load_adapter(driver)
        self.config = config_cls(
            connection_config={"database": str(database)},
            extension_config={"adk": {"artifact_storage_uri": database.with_suffix(".artifacts").resolve().as_uri()}},
        )
        self.stores = (session_store(self.config), memory_store(self.config), artifact_store(self.config))

    async def start(self) -> tuple[Any, Any, Any]:
        from sqlspec_adk.artifact.service import SQLSpecArtifactService
        from sqlspec_adk.memory.service import SQLSpecMemoryService
        from sqlspec_adk.service import SQLSpecSessionService

        for store in self.stores:
            await call(store.create_tables)
        sessions, memory, artifacts = self.stores
        return SQLSpecSessionService(sessions), SQLSpecMemoryService(memory), SQLSpecArtifactService(artifacts)

    async def stop(self) -> None:
        await close_config(self.config)


async def _turn(runner: Runner, text: str) -> None:
    print(f"  user  > {text}")
    message = types.Content(role="user", parts=[types.Part(text=text)])
    async for event in runner.run_async(user_id=USER, session_id=SESSION, new_message=message):
        for part in event.content.parts or [] if event.content else []:
            if part.function_call:
                print(f"  agent → calls {part.function_call.name}({dict(part.function_call.args or {})})")
            elif part.function_response:
                print(f"  tool  ← {dict(part.function_response.response or {})}")
            elif part.text:
                print(f"  agent > {part.text}")


async def run_demo(database: Path, driver: str) -> int:
    """Run the demo on a SQLite file; returns the process exit code."""
    database.parent.mkdir(parents=True, exist_ok=True)
    # The scripted model reports no token usage, which ADK's telemetry warns about on every turn.
    logging.getLogger("google_adk.google.adk.telemetry").setLevel(logging.ERROR)
    print(f"sqlspec-adk demo: {driver} at {database} (offline scripted model, no API key)\n")

    print("[first run] two turns with an agent that remembers notes")
    first = _Services(database, driver)
    sessions, memory, artifacts = await first.start()
    runner = Runner(
        app_name=APP, agent=build_agent(), session_service=sessions, memory_service=memory, artifact_service=artifacts
    )
    if await sessions.get_session(app_name=APP, user_id=USER, session_id=SESSION) is None:
        await sessions.create_session(app_name=APP, user_id=USER, session_id=SESSION)
    await _turn(runner, "buy oat milk")
    await _turn(runner, "call the dentist on Tuesday")
    session = await sessions.get_session(app_name=APP, user_id=USER, session_id=SESSION)
    assert session is not None
    await memory.add_session_to_memory(session)
    before = (len(session.events), dict(session.state))
    await first.stop()
    print("\n[stopped] pools closed; starting again from the same database\n")

    second = _Services(database, driver)
    sessions, memory, artifacts = await second.start()
    restored = await sessions.get_session(app_name=APP, user_id=USER, session_id=SESSION)
    ok = restored is not None and (len(restored.events), dict(restored.state)) == before
    print(
        f"[after restart] session {SESSION!r}: {len(restored.events) if restored else 0} events, "
        f"state {restored.state if restored else {}}"
    )
    found = await memory.search_memory(app_name=APP, user_id=USER, query="When is the DENTIST?")
    texts = [part.text for entry in found.memories for part in entry.content.parts or [] if part.text]
    print(f"  memory search 'When is the DENTIST?' → {len(found.memories)} hit(s): {texts[:2]}")
    versions = await artifacts.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="notes.txt")
    latest = await artifacts.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="notes.txt")
    content = (
        latest.inline_data.data.decode("utf-8") if latest and latest.inline_data and latest.inline_data.data else ""
    )
    print(f"  artifact notes.txt versions {versions}, latest = {content!r}")
    runner = Runner(
        app_name=APP, agent=build_agent(), session_service=sessions, memory_service=memory, artifact_service=artifacts
    )
    await _turn(runner, "water the plants")
    await second.stop()

    ok = ok and bool(found.memories) and len(versions) >= 2 and "dentist" in content
    print("\n" + ("✔ session, memory and artifacts survived the restart" if ok else "✘ something did not survive"))
    return 0 if ok else 1
