"""Drop-in for ADK's persisted services: re-delivery, marker-less sessions, ADK's wording, the lifecycle.

On every adapter (the ``backend`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.runners import Runner
from google.adk.sessions.session import Session

from sqlspec_adk.demo import build_agent
from sqlspec_adk.errors import EventConflictError
from tests.helpers import event, raw

APP, USER = "app", "u"


async def _count_events(service: Any, session_id: str) -> int:
    table = service.store.dialect.events_table
    rows = await raw(service.store.config, f"SELECT COUNT(*) FROM {table} WHERE session_id = ?", (session_id,))
    return int(rows[0][0])


async def test_a_redelivered_event_is_a_no_op_returning_the_stored_event(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="r")
    first = event("hello", delta={"k": 1, "user:u": 1, "app:a": 1})
    await service.append_event(session, first)
    revision = session._storage_update_marker
    again = first.model_copy(deep=True)
    # The same event again, on the up-to-date session object...
    returned = await service.append_event(session, again)
    assert returned.model_dump(mode="json") == first.model_dump(mode="json")
    assert session._storage_update_marker == revision and len(session.events) == 1
    # ... and on a stale copy (a retry after a reply that never arrived): still a no-op, not a stale error.
    stale = Session(app_name=APP, user_id=USER, id="r")
    stale._storage_update_marker = "0"
    returned = await service.append_event(stale, first.model_copy(deep=True))
    assert returned.id == first.id and stale.events == []
    stored = await service.get_session(app_name=APP, user_id=USER, session_id="r")
    assert stored is not None and [e.id for e in stored.events] == [first.id]
    assert stored._storage_update_marker == revision
    assert stored.state == {"k": 1, "user:u": 1, "app:a": 1}
    assert await _count_events(service, "r") == 1
    # The session goes on normally afterwards.
    await service.append_event(stored, event("next"))
    assert await _count_events(service, "r") == 2


@pytest.mark.parametrize("delta", [None, {"k": 1}], ids=["no state change", "state change"])
async def test_a_redelivery_on_the_up_to_date_session_object_undoes_nothing_it_did_not_do(
    backend: Any, delta: dict[str, Any] | None
) -> None:
    """The object already holds the event's revision, so the stale check passes and only the stored id
    tells: the same event is a no-op, other content under its id is refused; the session's revision and
    update time stay the first append's."""
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="rd")
    first = event("hello", delta=delta)
    await service.append_event(session, first)
    revision = session._storage_update_marker
    returned = await service.append_event(session, first.model_copy(deep=True))
    assert returned.model_dump(mode="json") == first.model_dump(mode="json")
    assert session._storage_update_marker == revision and len(session.events) == 1
    other = event("other content", delta=delta)
    other.id = first.id
    with pytest.raises(EventConflictError, match=first.id):
        await service.append_event(session, other)
    stored = await service.get_session(app_name=APP, user_id=USER, session_id="rd")
    assert stored is not None and [e.id for e in stored.events] == [first.id]
    assert stored._storage_update_marker == revision and stored.last_update_time == first.timestamp
    assert stored.state == (delta or {})
    await service.append_event(stored, event("next"))
    assert await _count_events(service, "rd") == 2


async def test_an_event_id_reused_for_other_content_is_refused(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="c")
    first = event("original")
    await service.append_event(session, first)
    other = event("something else", delta={"k": 2})
    other.id = first.id
    with pytest.raises(EventConflictError, match=first.id):
        await service.append_event(session, other)
    stored = await service.get_session(app_name=APP, user_id=USER, session_id="c")
    assert stored is not None and len(stored.events) == 1 and stored.state == {}
    assert stored.events[0].content == first.content
    assert isinstance(EventConflictError("x"), ValueError)


async def test_a_session_without_a_marker_whose_newest_event_matches_is_accepted(backend: Any) -> None:
    """As DatabaseSessionService: a Session rebuilt from JSON (no storage marker) may append when storage's
    newest event is its newest event; when storage moved on, it is stale."""
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="m")
    await service.append_event(session, event("one"))
    rebuilt = Session.model_validate_json(session.model_dump_json())
    assert rebuilt._storage_update_marker is None
    rebuilt.last_update_time = 0.0  # older than storage: only the newest event can vouch for it
    await service.append_event(rebuilt, event("two"))
    old = Session.model_validate_json(session.model_dump_json())  # still ends at "one"
    old.last_update_time = 0.0
    with pytest.raises(StaleSessionError, match="modified in storage"):
        await service.append_event(old, event("three"))
    empty = Session(app_name=APP, user_id=USER, id="m", last_update_time=0.0)
    with pytest.raises(StaleSessionError):
        await service.append_event(empty, event("four"))
    stored = await service.get_session(app_name=APP, user_id=USER, session_id="m")
    assert stored is not None and [e.content.parts[0].text for e in stored.events] == ["one", "two"]


async def test_services_close_idempotently_and_the_data_outlives_them(backend: Any) -> None:
    config = backend.config()
    sessions = await backend.sessions(config)
    memory = await backend.memory(config)
    artifacts = await backend.artifacts(config)
    runner = Runner(
        app_name=APP, agent=build_agent(), session_service=sessions, memory_service=memory, artifact_service=artifacts
    )
    session = await sessions.create_session(app_name=APP, user_id=USER, session_id="life", state={"x": 1})
    await sessions.append_event(session, event("kept"))
    await memory.add_session_to_memory(session)
    await runner.close()  # calls the session service's flush()
    async with sessions, memory, artifacts:
        assert await sessions.get_session(app_name=APP, user_id=USER, session_id="life") is not None
    await sessions.close()  # again: nothing to close, no error
    await memory.close()
    await artifacts.close()
    fresh = await backend.sessions(backend.config())
    stored = await fresh.get_session(app_name=APP, user_id=USER, session_id="life")
    assert stored is not None and stored.state == {"x": 1} and len(stored.events) == 1
    found = await (await backend.memory(backend.config())).search_memory(app_name=APP, user_id=USER, query="kept")
    assert len(found.memories) == 1
    # A closed service can be used again: its config opens a new pool.
    assert await sessions.get_session(app_name=APP, user_id=USER, session_id="life") is not None


async def test_memory_follows_sessions_when_asked(backend: Any) -> None:
    from google.adk.memory.memory_entry import MemoryEntry
    from google.genai import types

    async def setup(follows: bool) -> tuple[Any, Any]:
        config = backend.config(memory_follows_sessions=follows)
        return await backend.sessions(config), await backend.memory(config)

    for follows in (False, True):
        sessions, memory = await setup(follows)
        app = f"follow-{follows}"
        kept = await sessions.create_session(app_name=app, user_id=USER, session_id="kept")
        gone = await sessions.create_session(app_name=app, user_id=USER, session_id="gone")
        idle = await sessions.create_session(app_name=app, user_id=USER, session_id="idle")
        for session, word in ((kept, "kiwi"), (gone, "guava"), (idle, "date")):
            await sessions.append_event(session, event(f"{word} fruit", timestamp=1000.0 if session is idle else None))
            await memory.add_session_to_memory(
                await sessions.get_session(app_name=app, user_id=USER, session_id=session.id)
            )
        note = MemoryEntry(content=types.Content(role="user", parts=[types.Part(text="explicit fruit note")]))
        await memory.add_memory(app_name=app, user_id=USER, memories=[note])
        await sessions.delete_session(app_name=app, user_id=USER, session_id="gone")
        assert await sessions.delete_idle_sessions(before=2000.0, app_name=app) == 1
        found = await memory.search_memory(app_name=app, user_id=USER, query="fruit")
        texts = sorted(part.text for entry in found.memories for part in entry.content.parts)
        if follows:
            assert texts == ["explicit fruit note", "kiwi fruit"]
        else:  # ADK's default: memory outlives its session
            assert texts == ["date fruit", "explicit fruit note", "guava fruit", "kiwi fruit"]


def test_memory_follows_sessions_needs_the_memory_table_here(backend: Any) -> None:
    from sqlspec_adk.errors import ConfigError

    with pytest.raises(ConfigError, match="memory_follows_sessions"):
        backend.config(memory_follows_sessions=True, enable_memory=False)
