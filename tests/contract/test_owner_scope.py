"""Owner scope: two owners sharing app and user names never see, change or delete each other's rows.

DESIGN.md "Owner scope": with an ``owner_id_column`` and a service ``owner_id``,
every read, list, append and delete of sessions, memory and artifacts is
limited to that owner; ``owner_id=None`` on sessions and memory means every
owner's rows (an administrator's view).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.service import SQLSpecSessionService
from tests.contract.test_memory import fts
from tests.helpers import event, raw

__all__ = ["fts"]  # the memory suite's fts/fallback fixture, used here too

APP = "app"
USER = "alice"


def _text(*texts: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=t) for t in texts])


async def test_sessions_of_one_owner_are_invisible_to_another(backend: Any) -> None:
    store = await backend.session_store(owner_id_column=backend.integer_column("tenant_id"))
    seven, eight = SQLSpecSessionService(store, owner_id=7), SQLSpecSessionService(store, owner_id=8)
    everyone = SQLSpecSessionService(store)
    mine = await seven.create_session(app_name=APP, user_id=USER, session_id="s7", state={"k": 7})
    await eight.create_session(app_name=APP, user_id=USER, session_id="s8", state={"k": 8})

    assert await eight.get_session(app_name=APP, user_id=USER, session_id="s7") is None
    assert [s.id for s in (await eight.list_sessions(app_name=APP, user_id=USER)).sessions] == ["s8"]
    assert [s.id for s in (await eight.list_sessions(app_name=APP)).sessions] == ["s8"]
    page, _ = await eight.list_sessions_page(app_name=APP, user_id=USER, page_size=10)
    assert [s.id for s in page.sessions] == ["s8"]

    # Another owner's append is refused as for a missing session, and writes nothing.
    with pytest.raises(SessionNotFoundError):
        await eight.append_event(mine, event("not yours", delta={"k": 0}))
    await eight.delete_session(app_name=APP, user_id=USER, session_id="s7")
    kept = await seven.get_session(app_name=APP, user_id=USER, session_id="s7")
    assert kept is not None and kept.events == [] and kept.state == {"k": 7}

    await seven.append_event(kept, event("mine", delta={"k": 70}))
    assert sorted(s.id for s in (await everyone.list_sessions(app_name=APP, user_id=USER)).sessions) == ["s7", "s8"]
    loaded = await everyone.get_session(app_name=APP, user_id=USER, session_id="s7")
    assert loaded is not None and loaded.state == {"k": 70} and len(loaded.events) == 1
    rows = await raw(store.config, f"SELECT id, tenant_id FROM {store.dialect.session_table} ORDER BY id")
    assert [(r[0], int(r[1])) for r in rows] == [("s7", 7), ("s8", 8)]


async def test_memory_of_one_owner_is_invisible_to_another(backend: Any, fts: bool) -> None:
    store = await backend.memory_store(memory_use_fts=fts, owner_id_column=backend.integer_column("tenant_id"))
    seven, eight = SQLSpecMemoryService(store, owner_id=7), SQLSpecMemoryService(store, owner_id=8)
    everyone = SQLSpecMemoryService(store)
    await seven.add_memory(app_name=APP, user_id=USER, memories=[MemoryEntry(id="m7", content=_text("peanut allergy"))])
    await eight.add_events_to_memory(app_name=APP, user_id=USER, events=[event("peanut butter recipe")])

    def texts(found: Any) -> list[str]:
        return sorted(p.text for m in found.memories for p in m.content.parts)

    assert texts(await seven.search_memory(app_name=APP, user_id=USER, query="peanut")) == ["peanut allergy"]
    assert texts(await eight.search_memory(app_name=APP, user_id=USER, query="peanut")) == ["peanut butter recipe"]
    assert len((await everyone.search_memory(app_name=APP, user_id=USER, query="peanut")).memories) == 2

    await eight.delete_memory(app_name=APP, user_id=USER, memory_id="m7")
    assert await eight.delete_user_memory(app_name=APP, user_id=USER) == 1
    assert texts(await seven.search_memory(app_name=APP, user_id=USER, query="peanut")) == ["peanut allergy"]
    assert texts(await eight.search_memory(app_name=APP, user_id=USER, query="peanut")) == []


async def test_artifacts_of_one_owner_are_invisible_to_another(backend: Any) -> None:
    store = await backend.artifact_store(owner_id_column=backend.integer_column("tenant_id"))
    uri = (backend.tmp_path / "owned").as_uri()
    seven = SQLSpecArtifactService(store, artifact_storage_uri=uri, owner_id=7)
    eight = SQLSpecArtifactService(store, artifact_storage_uri=uri, owner_id=8)
    part = types.Part.from_bytes(data=b"seven's", mime_type="text/plain")
    assert await seven.save_artifact(app_name=APP, user_id=USER, session_id="s", filename="f", artifact=part) == 0
    await seven.save_artifact(app_name=APP, user_id=USER, filename="user:notes", artifact=types.Part(text="7"))

    assert await eight.list_artifact_keys(app_name=APP, user_id=USER, session_id="s") == []
    assert await eight.load_artifact(app_name=APP, user_id=USER, session_id="s", filename="f") is None
    assert await eight.load_artifact(app_name=APP, user_id=USER, filename="user:notes") is None
    assert await eight.list_versions(app_name=APP, user_id=USER, session_id="s", filename="f") == []
    await eight.delete_artifact(app_name=APP, user_id=USER, session_id="s", filename="f")

    # The same names are the other owner's own, numbered from 0.
    other = types.Part.from_bytes(data=b"eight's", mime_type="text/plain")
    assert await eight.save_artifact(app_name=APP, user_id=USER, session_id="s", filename="f", artifact=other) == 0
    loaded = await seven.load_artifact(app_name=APP, user_id=USER, session_id="s", filename="f")
    assert loaded is not None and loaded.inline_data is not None and loaded.inline_data.data == b"seven's"
    assert await seven.list_artifact_keys(app_name=APP, user_id=USER, session_id="s") == ["f", "user:notes"]
    assert await eight.list_artifact_keys(app_name=APP, user_id=USER, session_id="s") == ["f"]
    rows = await raw(store.config, f"SELECT tenant_id FROM {store.dialect.artifact_table} ORDER BY tenant_id")
    assert [int(r[0]) for r in rows] == [7, 7, 8]
