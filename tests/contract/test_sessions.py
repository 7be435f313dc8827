"""Session contract: every point of DESIGN.md "Semantics", run on every adapter."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from sqlspec_adk.errors import InvalidStateError
from tests.helpers import StatementCounter, event, raw

APP = "app"
USER = "alice"


async def test_create_and_get_round_trip(backend: Any) -> None:
    service = await backend.sessions()
    created = await service.create_session(
        app_name=APP, user_id=USER, state={"k": "v", "app:theme": "dark", "user:lang": "fr", "temp:scratch": 1}
    )
    assert created.id
    assert created.state == {"k": "v", "app:theme": "dark", "user:lang": "fr"}
    assert created.events == []
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id=created.id)
    assert loaded is not None
    assert loaded.state == created.state
    assert loaded.last_update_time == created.last_update_time
    assert await service.get_user_state(app_name=APP, user_id=USER) == {"lang": "fr"}
    assert await service.get_user_state(app_name=APP, user_id="nobody") == {}


async def test_fresh_session_accepts_next_append(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="s1")
    await service.append_event(session, event("hello"))
    again = await service.get_session(app_name=APP, user_id=USER, session_id="s1")
    assert again is not None
    await service.append_event(again, event("again"))
    final = await service.get_session(app_name=APP, user_id=USER, session_id="s1")
    assert final is not None
    assert [e.content.parts[0].text for e in final.events if e.content] == ["hello", "again"]


async def test_duplicate_id_raises_and_key_is_app_user_id(backend: Any) -> None:
    service = await backend.sessions()
    await service.create_session(app_name=APP, user_id=USER, session_id="same", state={"who": "first"})
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name=APP, user_id=USER, session_id="same", state={"user:x": 1})
    # The refused create wrote nothing, not even its user state.
    assert await service.get_user_state(app_name=APP, user_id=USER) == {}
    other_app = await service.create_session(app_name="other", user_id=USER, session_id="same", state={"who": "second"})
    other_user = await service.create_session(app_name=APP, user_id="bob", session_id="same", state={"who": "third"})
    assert other_app.state == {"who": "second"}
    assert other_user.state == {"who": "third"}
    first = await service.get_session(app_name=APP, user_id=USER, session_id="same")
    assert first is not None and first.state == {"who": "first"}


async def test_session_ids_are_stripped(backend: Any) -> None:
    service = await backend.sessions()
    created = await service.create_session(app_name=APP, user_id=USER, session_id="  padded \t")
    assert created.id == "padded"
    assert await service.get_session(app_name=APP, user_id=USER, session_id=" padded ") is not None
    await service.delete_session(app_name=APP, user_id=USER, session_id=" padded")
    assert await service.get_session(app_name=APP, user_id=USER, session_id="padded") is None


async def test_wrong_app_or_user_never_finds_anything(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="secret", state={"k": 1})
    await service.append_event(session, event("private"))
    assert await service.get_session(app_name="evil", user_id=USER, session_id="secret") is None
    assert await service.get_session(app_name=APP, user_id="mallory", session_id="secret") is None
    assert (await service.list_sessions(app_name=APP, user_id="mallory")).sessions == []
    assert (await service.list_sessions(app_name="evil")).sessions == []
    await service.delete_session(app_name=APP, user_id="mallory", session_id="secret")
    await service.delete_session(app_name="evil", user_id=USER, session_id="secret")
    stranger = session.model_copy(update={"user_id": "mallory"})
    with pytest.raises(SessionNotFoundError):
        await service.append_event(stranger, event("intrusion"))
    kept = await service.get_session(app_name=APP, user_id=USER, session_id="secret")
    assert kept is not None and len(kept.events) == 1


async def _session_with_events(service: Any, count: int, *, base: float = 1_700_000_000.0) -> Any:
    session = await service.create_session(app_name=APP, user_id=USER, session_id="hist")
    for index in range(count):
        await service.append_event(session, event(f"m{index}", timestamp=base + index))
    return session


async def test_num_recent_events_returns_newest_in_order(backend: Any) -> None:
    service = await backend.sessions()
    await _session_with_events(service, 6)
    recent = await service.get_session(
        app_name=APP, user_id=USER, session_id="hist", config=GetSessionConfig(num_recent_events=3)
    )
    assert recent is not None
    assert [e.content.parts[0].text for e in recent.events] == ["m3", "m4", "m5"]
    none = await service.get_session(
        app_name=APP, user_id=USER, session_id="hist", config=GetSessionConfig(num_recent_events=0)
    )
    assert none is not None and none.events == []
    everything = await service.get_session(
        app_name=APP, user_id=USER, session_id="hist", config=GetSessionConfig(num_recent_events=100)
    )
    assert everything is not None and len(everything.events) == 6


async def test_after_timestamp_is_inclusive(backend: Any) -> None:
    service = await backend.sessions()
    await _session_with_events(service, 5, base=1000.5)
    after = await service.get_session(
        app_name=APP, user_id=USER, session_id="hist", config=GetSessionConfig(after_timestamp=1002.5)
    )
    assert after is not None
    assert [e.timestamp for e in after.events] == [1002.5, 1003.5, 1004.5]
    both = await service.get_session(
        app_name=APP,
        user_id=USER,
        session_id="hist",
        config=GetSessionConfig(after_timestamp=1001.5, num_recent_events=2),
    )
    assert both is not None
    assert [e.timestamp for e in both.events] == [1003.5, 1004.5]


async def test_equal_timestamps_keep_append_order(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="ties")
    for index in range(5):
        await service.append_event(session, event(f"t{index}", timestamp=42.0))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="ties")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == [f"t{i}" for i in range(5)]


async def test_event_round_trip_is_lossless(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER)
    blob = bytes(range(256))
    original = Event(
        author="agent",
        invocation_id="inv-42",
        branch="root.child",
        content=types.Content(
            role="model",
            parts=[
                types.Part(text="héllo 👋 \x00 done"),
                types.Part(inline_data=types.Blob(mime_type="application/octet-stream", data=blob)),
                types.Part(
                    function_call=types.FunctionCall(id="call-1", name="lookup", args={"q": "x", "n": [1, 2.5]})
                ),
                types.Part(function_response=types.FunctionResponse(id="call-1", name="lookup", response={"ok": True})),
            ],
        ),
        actions=EventActions(state_delta={"k": {"nested": [1, None, "x"]}}, artifact_delta={"f.txt": 3}),
        custom_metadata={"trace": "abc", "score": 0.1},
        long_running_tool_ids={"call-1"},
    )
    original.timestamp = 1731234567.1234567
    await service.append_event(session, original)
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert loaded is not None
    stored = loaded.events[0]
    assert stored == original
    assert stored.timestamp == 1731234567.1234567
    assert stored.content.parts[1].inline_data.data == blob
    assert loaded.last_update_time == original.timestamp
    assert loaded.state["k"] == {"nested": [1, None, "x"]}


async def test_partial_events_are_not_stored(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="p")
    partial = event("streaming", delta={"k": 1}, partial=True)
    returned = await service.append_event(session, partial)
    assert returned is partial
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="p")
    assert loaded is not None and loaded.events == [] and loaded.state == {}


async def test_temp_keys_never_reach_storage(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="t")
    appended = await service.append_event(session, event("x", delta={"temp:scratch": "big", "kept": 1}))
    assert session.state["temp:scratch"] == "big"  # visible for the rest of the invocation
    assert "temp:scratch" not in appended.actions.state_delta
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="t")
    assert loaded is not None
    assert loaded.state == {"kept": 1}
    assert "temp:scratch" not in loaded.events[0].actions.state_delta
    rows = await raw(service.store.config, f"SELECT event_data FROM {service.store.dialect.events_table}")
    assert all("temp:scratch" not in str(row[0]) for row in rows)


async def test_state_scopes_and_none_values(backend: Any) -> None:
    service = await backend.sessions()
    first = await service.create_session(app_name=APP, user_id=USER, session_id="a")
    second = await service.create_session(app_name=APP, user_id=USER, session_id="b")
    await service.append_event(first, event(delta={"app:mode": "x", "user:name": "Al", "own": 1}))
    await service.append_event(first, event(delta={"user:name": None}))
    loaded_second = await service.get_session(app_name=APP, user_id=USER, session_id="b")
    assert loaded_second is not None
    assert loaded_second.state == {"app:mode": "x", "user:name": None}
    other_user = await service.create_session(app_name=APP, user_id="bob")
    assert other_user.state == {"app:mode": "x"}
    assert await service.get_user_state(app_name=APP, user_id=USER) == {"name": None}
    assert second.state == {}


async def test_append_to_unknown_or_deleted_session(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="gone")
    ghost = session.model_copy(update={"id": "never-created"})
    with pytest.raises(SessionNotFoundError):
        await service.append_event(ghost, event("x"))
    await service.delete_session(app_name=APP, user_id=USER, session_id="gone")
    with pytest.raises(SessionNotFoundError):
        await service.append_event(session, event("x", delta={"user:k": 1}))
    assert await service.get_user_state(app_name=APP, user_id=USER) == {}


async def test_stale_session_is_refused_and_writes_nothing(backend: Any) -> None:
    service = await backend.sessions()
    await service.create_session(app_name=APP, user_id=USER, session_id="s")
    first = await service.get_session(app_name=APP, user_id=USER, session_id="s")
    second = await service.get_session(app_name=APP, user_id=USER, session_id="s")
    assert first is not None and second is not None
    await service.append_event(first, event("winner", delta={"k": "first"}))
    with pytest.raises(StaleSessionError):
        await service.append_event(second, event("loser", delta={"k": "second", "user:u": "second", "app:a": 1}))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="s")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == ["winner"]
    assert loaded.state == {"k": "first"}
    # The winner's handle keeps working.
    await service.append_event(first, event("next"))


async def test_marker_less_session_falls_back_to_update_time(backend: Any) -> None:
    service = await backend.sessions()
    created = await service.create_session(app_name=APP, user_id=USER, session_id="m")
    foreign = created.model_copy(deep=True)
    foreign._storage_update_marker = None
    await service.append_event(foreign, event("ok", timestamp=created.last_update_time + 1))
    outdated = created.model_copy(deep=True)
    outdated._storage_update_marker = None
    with pytest.raises(StaleSessionError):
        await service.append_event(outdated, event("late"))


async def test_two_handles_racing_exactly_one_wins_every_time(backend: Any) -> None:
    """Two services on separate configs (separate pools) append to one session at once.

    Fails if the stale check runs outside the append transaction: both would win.
    """
    writer_a = await backend.sessions(backend.config())
    writer_b = await backend.sessions(backend.config())
    await writer_a.create_session(app_name=APP, user_id=USER, session_id="race")
    for round_number in range(15):
        a = await writer_a.get_session(app_name=APP, user_id=USER, session_id="race")
        b = await writer_b.get_session(app_name=APP, user_id=USER, session_id="race")
        results = await asyncio.gather(
            writer_a.append_event(a, event(f"a{round_number}", delta={"last": "a"})),
            writer_b.append_event(b, event(f"b{round_number}", delta={"last": "b"})),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], StaleSessionError)
    final = await writer_a.get_session(app_name=APP, user_id=USER, session_id="race")
    assert final is not None and len(final.events) == 15
    winners = [e.content.parts[0].text[0] for e in final.events]
    assert final.state["last"] == winners[-1]


async def test_concurrent_user_and_app_writers_lose_nothing(backend: Any) -> None:
    """Many sessions of one user write distinct user:/app: keys at once; every key survives.

    Fails if scoped state is read and written back outside a lock (lost update).
    """
    services = [await backend.sessions(backend.config()) for _ in range(2)]
    sessions = [await services[i % 2].create_session(app_name=APP, user_id=USER, session_id=f"w{i}") for i in range(8)]

    async def writer(index: int) -> None:
        service = services[index % 2]
        session = sessions[index]
        for step in range(3):
            await service.append_event(
                session, event(delta={f"user:k{index}_{step}": step, f"app:a{index}_{step}": index})
            )

    await asyncio.gather(*(writer(i) for i in range(8)))
    user_state = await services[0].get_user_state(app_name=APP, user_id=USER)
    assert user_state == {f"k{i}_{s}": s for i in range(8) for s in range(3)}
    app_state = await services[1].get_app_state(app_name=APP)
    assert app_state == {f"a{i}_{s}": i for i in range(8) for s in range(3)}


@pytest.mark.parametrize(
    "bad",
    [
        {"nan": math.nan},
        {"user:inf": math.inf},
        {"app:nested": {"deep": [-math.inf]}},
        {"keys": {1: "int key"}},
        {"raw": b"\xff not utf-8"},
    ],
    ids=["nan", "inf", "nested-inf", "int-key", "bytes"],
)
async def test_json_unsafe_state_is_refused_before_any_write(backend: Any, bad: dict[str, Any]) -> None:
    service = await backend.sessions()
    with pytest.raises(InvalidStateError):
        await service.create_session(app_name=APP, user_id=USER, session_id="bad", state={"ok": 1, **bad})
    assert await service.get_session(app_name=APP, user_id=USER, session_id="bad") is None
    session = await service.create_session(app_name=APP, user_id=USER, session_id="good")
    with pytest.raises(InvalidStateError):
        await service.append_event(session, event("x", delta={"ok": 2, **bad}))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="good")
    assert loaded is not None and loaded.events == [] and loaded.state == {}
    assert session.state == {}
    # The refused append did not advance the session: the next one succeeds.
    await service.append_event(session, event("fine"))


async def test_failed_append_is_all_or_nothing(backend: Any) -> None:
    """A second event with an already stored id fails inside the transaction; nothing of it lands."""
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="atomic")
    await service.append_event(session, event("one", delta={"user:x": 1, "k": 1}, id="fixed-id"))
    with pytest.raises(Exception):  # the driver's own integrity error
        await service.append_event(session, event("two", delta={"user:x": 2, "app:y": 2, "k": 2}, id="fixed-id"))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="atomic")
    assert loaded is not None
    assert [e.content.parts[0].text for e in loaded.events] == ["one"]
    assert loaded.state == {"k": 1, "user:x": 1}
    assert await service.get_app_state(app_name=APP) == {}


async def test_last_update_time_is_last_event_timestamp(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="ts")
    await service.append_event(session, event("x", timestamp=session.last_update_time + 10.123456789))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="ts")
    assert loaded is not None
    assert loaded.last_update_time == session.last_update_time == loaded.events[-1].timestamp


async def test_list_sessions_order_state_and_no_events(backend: Any) -> None:
    service = await backend.sessions()
    first = await service.create_session(app_name=APP, user_id=USER, session_id="s1", state={"n": 1})
    await service.create_session(app_name=APP, user_id="bob", session_id="s2", state={"user:b": "bob"})
    await service.create_session(app_name=APP, user_id=USER, session_id="s3", state={"app:shared": True})
    await service.append_event(first, event("bump", delta={"user:a": "alice"}))
    listed = (await service.list_sessions(app_name=APP, user_id=USER)).sessions
    assert [s.id for s in listed] == ["s3", "s1"]
    assert all(s.events == [] for s in listed)
    assert listed[1].state == {"n": 1, "app:shared": True, "user:a": "alice"}
    everyone = (await service.list_sessions(app_name=APP)).sessions
    assert [(s.user_id, s.id) for s in everyone] == [("bob", "s2"), (USER, "s3"), (USER, "s1")]
    assert everyone[0].state == {"user:b": "bob", "app:shared": True}
    times = [s.last_update_time for s in everyone]
    assert times == sorted(times)


async def test_list_sessions_pages_without_queries_per_row(backend: Any) -> None:
    service = await backend.sessions()
    ids = {f"s{i:03d}" for i in range(25)}
    for session_id in sorted(ids):
        await service.create_session(
            app_name=APP, user_id=USER if session_id < "s013" else "bob", session_id=session_id
        )
    counter = StatementCounter(service.store)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        response, token = await service.list_sessions_page(app_name=APP, page_size=7, page_token=token)
        seen.extend(s.id for s in response.sessions)
        pages += 1
        if token is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert pages == 4
    assert counter.count <= 2 * pages
    counter.reset()
    await service.list_sessions(app_name=APP)
    assert counter.count <= 2
    counter.restore()


async def test_get_session_statement_count_does_not_grow(backend: Any) -> None:
    service = await backend.sessions()
    await _session_with_events(service, 30)
    counter = StatementCounter(service.store)
    await service.get_session(
        app_name=APP, user_id=USER, session_id="hist", config=GetSessionConfig(num_recent_events=20)
    )
    assert counter.count <= 2
    counter.restore()


async def test_delete_session_removes_events(backend: Any) -> None:
    service = await backend.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="d", state={"user:keep": 1})
    await service.append_event(session, event("x"))
    await service.delete_session(app_name=APP, user_id=USER, session_id="d")
    assert await service.get_session(app_name=APP, user_id=USER, session_id="d") is None
    rows = await raw(
        service.store.config, f"SELECT COUNT(*) FROM {service.store.dialect.events_table} WHERE session_id = ?", ("d",)
    )
    assert rows[0][0] == 0
    assert await service.get_user_state(app_name=APP, user_id=USER) == {"keep": 1}
    await service.delete_session(app_name=APP, user_id=USER, session_id="d")  # idempotent


async def test_restart_sees_everything(backend: Any) -> None:
    before = await backend.sessions(backend.config())
    session = await before.create_session(app_name=APP, user_id=USER, session_id="r", state={"k": 1, "user:u": 2})
    await before.append_event(session, event("persisted", delta={"app:a": 3}))
    await backend.close_config(before.store.config)
    after = await backend.sessions(backend.config())
    loaded = await after.get_session(app_name=APP, user_id=USER, session_id="r")
    assert loaded is not None
    assert loaded.state == {"k": 1, "user:u": 2, "app:a": 3}
    assert [e.content.parts[0].text for e in loaded.events] == ["persisted"]
    await after.append_event(loaded, event("after restart"))


async def test_retention_deletes_old_events_and_idle_sessions(backend: Any) -> None:
    service = await backend.sessions()
    old = await service.create_session(app_name=APP, user_id=USER, session_id="old")
    await service.append_event(old, event("ancient", timestamp=1000.0))
    fresh = await service.create_session(app_name=APP, user_id=USER, session_id="fresh")
    await service.append_event(fresh, event("early", timestamp=1500.0))
    await service.append_event(fresh, event("recent", timestamp=5000.0))
    assert await service.delete_events_before(before=2000.0) == 2
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="fresh")
    assert loaded is not None and [e.content.parts[0].text for e in loaded.events] == ["recent"]
    assert await service.delete_idle_sessions(before=2000.0) == 1
    assert await service.get_session(app_name=APP, user_id=USER, session_id="old") is None
    assert await service.get_session(app_name=APP, user_id=USER, session_id="fresh") is not None


async def test_owner_id_flows_from_service(backend: Any) -> None:
    service = await backend.sessions(
        owner_id=lambda app, user: 7 if user == USER else 8, owner_id_column=backend.integer_column("tenant_id")
    )
    await service.create_session(app_name=APP, user_id=USER, session_id="o1")
    await service.create_session(app_name=APP, user_id="bob", session_id="o2")
    rows = await raw(
        service.store.config, f"SELECT id, tenant_id FROM {service.store.dialect.session_table} ORDER BY id"
    )
    assert [(r[0], int(r[1])) for r in rows] == [("o1", 7), ("o2", 8)]


async def test_unicode_ids_and_values(backend: Any) -> None:
    service = await backend.sessions()
    app, user, sid = "äpp-🚀", "用户", "sess-ñ-👋"
    session = await service.create_session(app_name=app, user_id=user, session_id=sid, state={"ключ": "значение 🎉"})
    await service.append_event(session, event("текст 🌍", delta={"user:名前": "山田"}))
    loaded = await service.get_session(app_name=app, user_id=user, session_id=sid)
    assert loaded is not None
    assert loaded.state == {"ключ": "значение 🎉", "user:名前": "山田"}
    assert loaded.events[0].content.parts[0].text == "текст 🌍"
    # Ids differing only by case or accents are different sessions.
    assert await service.get_session(app_name=app, user_id=user, session_id="SESS-Ñ-👋") is None
    assert await service.get_session(app_name=app, user_id=user, session_id="sess-n-👋") is None


async def test_large_state_and_event(backend: Any) -> None:
    service = await backend.sessions()
    big = {"blob": "x" * 300_000, "items": list(range(5000)), "deep": {"a": {"b": {"c": [{"d": 1.5e-300}]}}}}
    session = await service.create_session(app_name=APP, user_id=USER, state=big)
    await service.append_event(session, event("y" * 200_000))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert loaded is not None
    assert loaded.state == big
    assert loaded.events[0].content.parts[0].text == "y" * 200_000
