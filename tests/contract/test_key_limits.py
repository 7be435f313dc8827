"""Key sizes: ids at the family's key limit are stored, one byte more is refused before anything is written.

Families whose keys ids can outgrow say so in ``Dialect.key_limit`` (Spanner's 8 KiB keys, PostgreSQL's
btree entries); the others have no such limit and are skipped. The ids are random 4-byte characters, which
no compression shrinks, and on Spanner the shard indexes (``spanner_shard_count``) make the widest keys.
Measured on the emulator: each Spanner limit here is exact, one byte more is refused by the database too.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from google.genai import types

from tests.helpers import event

_random = random.Random(20261204)


def text(size: int, first: str) -> str:
    """``first`` and random 4-byte characters (ASCII to fill): ``size`` bytes of UTF-8, incompressible."""
    wide, rest = divmod(size - 1, 4)
    made = first + "".join(chr(_random.randrange(0x10000, 0x2FFFF)) for _ in range(wide)) + first * rest
    assert len(made.encode()) == size
    return made


def ids(total: int) -> tuple[str, str, str]:
    """App, user and session ids of ``total`` bytes together (new ones each call)."""
    third = total // 3
    return text(third, "a"), text(third, "u"), text(total - 2 * third, "s")


async def limited(backend: Any, kind: str) -> tuple[Any, int]:
    """The ``kind`` service (sessions, memory, artifacts) and its family's key limit; skip without one."""
    adk = {"spanner_shard_count": 4} if backend.spec.server == "spanner" else {}
    service = await getattr(backend, kind)(**adk)
    limit = service.store.config.dialect.key_limit
    if limit is None:
        pytest.skip(f"{backend.name}: no key size limit in bytes (MySQL refuses long ids by column length)")
    return service, limit


async def test_sessions_and_events_at_the_key_limit(backend: Any) -> None:
    service, limit = await limited(backend, "sessions")
    widest = limit - 44  # a session leaves room for its events' keys: seq and a 36-character event id
    app, user, session_id = ids(widest)
    created = await service.create_session(app_name=app, user_id=user, session_id=session_id)
    await service.append_event(created, event("hello", delta={"user:k": 1}))
    loaded = await service.get_session(app_name=app, user_id=user, session_id=session_id)
    assert loaded is not None and [e.content.parts[0].text for e in loaded.events if e.content] == ["hello"]
    assert [s.id for s in (await service.list_sessions(app_name=app, user_id=user)).sessions] == [session_id]

    app, user, session_id = ids(widest + 1)
    with pytest.raises(ValueError, match=rf"session: .*app_name .*user_id .*session_id .*may total {widest:,}"):
        await service.create_session(app_name=app, user_id=user, session_id=session_id)
    assert (await service.list_sessions(app_name=app)).sessions == []

    # A short session key leaves the room to a long event id, up to the event's own key.
    short = await service.create_session(app_name="a", user_id="u", session_id="s")
    fits = text(limit - 8 - 3, "e")
    await service.append_event(short, event("long id", id=fits))
    with pytest.raises(ValueError, match=rf"event: .*event_id {limit - 8 - 3 + 1:,}"):
        await service.append_event(short, event("longer id", id=fits + "e"))
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None and [e.id for e in loaded.events] == [fits]


async def test_memory_entries_at_the_key_limit(backend: Any) -> None:
    service, limit = await limited(backend, "memory")
    app, user = text(600, "a"), text(600, "u")
    room = limit - service.store.config.dialect.memory.key_row_id_bytes - 1200
    fits = text(room, "e")
    await service.add_events_to_memory(app_name=app, user_id=user, events=[event("zebra fits", id=fits)])
    with pytest.raises(ValueError, match=r"memory entry: .*event_id"):
        await service.add_events_to_memory(app_name=app, user_id=user, events=[event("zebra over", id=fits + "f")])
    with pytest.raises(ValueError, match=r"memory entry: .*session_id"):
        await service.add_events_to_memory(
            app_name=app, user_id=user, events=[event("zebra session", id="g")], session_id=text(room + 1, "s")
        )
    found = await service.search_memory(app_name=app, user_id=user, query="zebra")
    assert [m.content.parts[0].text for m in found.memories if m.content and m.content.parts] == ["zebra fits"]


async def test_artifacts_at_the_key_limit(backend: Any) -> None:
    service, limit = await limited(backend, "artifacts")
    part = types.Part(text="x")
    # The key is (app, user, scope, filename, version); an index may add a shard id and a time.
    name = text(limit - 8 - 16 - 3, "f")
    await service.save_artifact(app_name="a", user_id="u", session_id="s", filename=name, artifact=part)
    with pytest.raises(ValueError, match=r"artifact: .*filename"):
        await service.save_artifact(app_name="a", user_id="u", session_id="s", filename=name + "f", artifact=part)
    assert await service.list_artifact_keys(app_name="a", user_id="u", session_id="s") == [name]
