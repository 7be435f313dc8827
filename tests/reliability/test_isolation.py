"""Isolation: a guessed id under another app or user never returns, lists, changes or deletes anything.

One owner (app, user) holds a session with an event and session/user/app state,
a memory entry and two artifacts (session and user scope). Hypothesis draws
"near miss" identities (case, accents, Unicode normalization, trailing spaces,
LIKE wildcards, prefixes, homoglyphs, zero-width characters) that know the
owner's session id, memory id and filenames, and tries every read, list,
write and delete with them. The owner's data must stay exactly as it was.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import event
from tests.reliability.conftest import HYPOTHESIS
from tests.reliability.support import Stack, Target
from tests.reliability.test_hostile import REFUSALS, hostile_text

APP = "Acme"
USER = "alice"
SESSION = "secret"
MEMORY_ID = "mem-secret"
WORD = "sapphire"


def near_misses(value: str) -> list[str]:
    """Ids a careless store might treat as ``value``: folded, padded, wildcarded, normalized, confusable."""
    misses = [
        value.upper(),
        value.lower(),
        value.capitalize(),
        value.swapcase(),
        value + " ",
        " " + value,
        value + "\t",
        value[:-1],
        value + value[-1],
        value[:-1] + "%",
        "%",
        value[:1] + "_" + value[2:],
        "_" * len(value),
        value + "\u200b",
        value.replace("a", "\u0430").replace("e", "\u0435"),  # Cyrillic look-alikes
        value[:1] + "\u0301" + value[1:],
        unicodedata.normalize("NFKC", "\uff41") + value[1:],
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value),  # full-width
        value.replace("e", "é").replace("a", "á"),
        unicodedata.normalize("NFD", value.replace("e", "é")),
        f"{value}' OR '1'='1",
        f"{value}/..",
        "*",
    ]
    return [miss for miss in dict.fromkeys(misses) if miss != value]


identity = st.one_of(
    st.tuples(st.sampled_from([APP, *near_misses(APP)]), st.sampled_from(near_misses(USER))),
    st.tuples(st.sampled_from(near_misses(APP)), st.sampled_from([USER, *near_misses(USER)])),
    st.tuples(hostile_text, hostile_text),
)


async def owner_stack(backend: Any) -> Stack:
    """The owner's data, stored once per test (the fixture's config, closed at the end)."""
    stack: Stack | None = getattr(backend, "_isolation_stack", None)
    if stack is None:
        stack = Stack(Target.of_backend(backend), config=backend.config())
        await stack.create_tables()
        session = await stack.sessions.create_session(
            app_name=APP, user_id=USER, session_id=SESSION, state={"k": "v", "user:u": "private", "app:a": "shared"}
        )
        await stack.sessions.append_event(session, event(f"the {WORD} is here", delta={"k": "v2"}))
        await stack.memory.add_memory(
            app_name=APP,
            user_id=USER,
            memories=[
                MemoryEntry(id=MEMORY_ID, content=types.Content(role="user", parts=[types.Part(text=f"my {WORD}")]))
            ],
        )
        for filename in ("report.txt", "user:profile.bin"):
            await stack.artifacts.save_artifact(
                app_name=APP, user_id=USER, filename=filename, session_id=SESSION, artifact=types.Part(text="private")
            )
        backend._isolation_stack = stack
    return stack


async def attempt(call: Any) -> Any:
    """Run one attacker call: its result, or None if it was refused with a clear error."""
    try:
        return await call
    except REFUSALS:
        return None
    except SessionNotFoundError:
        return None


async def assert_owner_intact(stack: Stack) -> None:
    session = await stack.sessions.get_session(app_name=APP, user_id=USER, session_id=SESSION)
    assert session is not None, "the owner's session is gone"
    assert session.state == {"k": "v2", "user:u": "private", "app:a": "shared"}
    assert len(session.events) == 1
    memories = (await stack.memory.search_memory(app_name=APP, user_id=USER, query=WORD)).memories
    assert [memory.id for memory in memories] == [MEMORY_ID]
    keys = await stack.artifacts.list_artifact_keys(app_name=APP, user_id=USER, session_id=SESSION)
    assert keys == ["report.txt", "user:profile.bin"]


@HYPOTHESIS
@given(who=identity)
async def test_guessed_ids_under_another_identity_reach_nothing(backend: Any, who: tuple[str, str]) -> None:
    """Sessions, state, memory and artifacts of the owner are invisible and untouchable for any other
    (app, user), however close its spelling, even with the owner's session id, memory id and filenames.

    Shown to fail when the protection is removed (tried locally, then restored): neutralize the
    ``s.user_id = ?`` condition of ``BaseDialect.select_session_sql`` and get_session with the owner's
    app and session id under user 'ALICE' returns the owner's session.
    """
    app, user = who
    if (app, user) == (APP, USER):
        return
    stack = await owner_stack(backend)
    sessions, memory, artifacts = stack.sessions, stack.memory, stack.artifacts
    assert await attempt(sessions.get_session(app_name=app, user_id=user, session_id=SESSION)) is None
    listed = await attempt(sessions.list_sessions(app_name=app, user_id=user))
    assert listed is None or listed.sessions == []
    if app != APP:
        listed = await attempt(sessions.list_sessions(app_name=app))
        assert listed is None or listed.sessions == []
        assert await attempt(sessions.get_app_state(app_name=app)) in (None, {})
    assert await attempt(sessions.get_user_state(app_name=app, user_id=user)) in (None, {})
    forged = await sessions.get_session(app_name=APP, user_id=USER, session_id=SESSION)
    assert forged is not None
    forged = forged.model_copy(update={"app_name": app, "user_id": user})
    with pytest.raises((SessionNotFoundError, *REFUSALS)):
        await sessions.append_event(forged, event("intrusion", delta={"k": "pwned", "user:u": "pwned"}))
    await attempt(sessions.delete_session(app_name=app, user_id=user, session_id=SESSION))
    found = await attempt(memory.search_memory(app_name=app, user_id=user, query=WORD))
    assert found is None or found.memories == []
    await attempt(memory.delete_memory(app_name=app, user_id=user, memory_id=MEMORY_ID))
    for filename in ("report.txt", "user:profile.bin"):
        loaded = await attempt(
            artifacts.load_artifact(app_name=app, user_id=user, filename=filename, session_id=SESSION)
        )
        assert loaded is None
        versions = await attempt(
            artifacts.list_versions(app_name=app, user_id=user, filename=filename, session_id=SESSION)
        )
        assert versions in (None, [])
        await attempt(artifacts.delete_artifact(app_name=app, user_id=user, filename=filename, session_id=SESSION))
    keys = await attempt(artifacts.list_artifact_keys(app_name=app, user_id=user, session_id=SESSION))
    assert keys in (None, [])
    await assert_owner_intact(stack)


@HYPOTHESIS
@given(session_id=st.sampled_from(near_misses(SESSION)))
async def test_near_miss_session_ids_of_the_same_user_reach_nothing(backend: Any, session_id: str) -> None:
    """The owner's own app and user with a near-miss session id (case, accents, wildcards, padding
    inside the id) find, change and delete nothing; surrounding whitespace is stripped by design.
    """
    stack = await owner_stack(backend)
    if session_id.strip() == SESSION:
        return
    sessions = stack.sessions
    assert await attempt(sessions.get_session(app_name=APP, user_id=USER, session_id=session_id)) is None
    await attempt(sessions.delete_session(app_name=APP, user_id=USER, session_id=session_id))
    loaded = await attempt(
        stack.artifacts.load_artifact(app_name=APP, user_id=USER, filename="report.txt", session_id=session_id)
    )
    assert loaded is None
    await assert_owner_intact(stack)
