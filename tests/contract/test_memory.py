# ruff: noqa: RUF001  (Greek, Cyrillic and full-width letters are the point of these tests)
"""Memory contract: SQLSpecMemoryService on every adapter, with full-text search on and off, and (for
what holds in every mode) semantic and hybrid search with the FakeEmbedder.

Search tests run twice where the dialect has full-text search (``memory_use_fts``
true and false), so the native index and the portable fallback keep the same
contract: whole-token, case- and accent-insensitive matches across scripts,
ranked, capped, and no query text ever an error or a wildcard.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from google.adk.events.event import Event
from google.adk.memory.base_memory_service import SearchMemoryResponse
from google.adk.memory.memory_entry import MemoryEntry
from google.adk.sessions.session import Session
from google.genai import types

from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.embedders import FakeEmbedder
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.modes import call
from sqlspec_adk.tokens import tokenize
from tests.helpers import raw

APP = "app"
USER = "alice"


def content(*texts: str, role: str = "user") -> types.Content:
    return types.Content(role=role, parts=[types.Part(text=text) for text in texts])


def event(text: str, *, author: str = "user", timestamp: float = 1000.0, **kwargs: Any) -> Event:
    return Event(author=author, timestamp=timestamp, content=content(text), **kwargs)


def session_of(events: Sequence[Event], *, session_id: str = "s1", app: str = APP, user: str = USER) -> Session:
    return Session(app_name=app, user_id=user, id=session_id, events=list(events))


def texts(response: SearchMemoryResponse) -> list[str]:
    return ["".join(part.text or "" for part in (m.content.parts or [])) for m in response.memories]


async def stored_rows(service: SQLSpecMemoryService) -> int:
    rows = await raw(service.store.config, f"SELECT COUNT(*) FROM {service.store.dialect.memory_table}")
    return int(rows[0][0])


def has_fts(backend: Any) -> bool:
    return bool(backend.spec.classes()[0].dialect_class.has_fts)


@pytest.fixture(params=[True, False], ids=["fts", "fallback"])
def fts(request: pytest.FixtureRequest, backend: Any) -> bool:
    if request.param and not has_fts(backend):
        pytest.skip(f"{backend.name}: the dialect has no full-text search")
    return bool(request.param)


@dataclass(frozen=True)
class Mode:
    """How a test's memory searches: ``search`` (lexical, semantic or hybrid, with the FakeEmbedder) and the
    lexical part's full-text setting (None: the dialect's default). The fake embedder hashes words into its
    dimensions, so two words can cancel out; 1,024 dimensions keep this file's words apart."""

    search: str
    fts: bool | None

    def settings(self) -> dict[str, Any]:
        found: dict[str, Any] = {} if self.fts is None else {"memory_use_fts": self.fts}
        if self.search != "lexical":
            found.update(memory_search_mode=self.search, memory_embedder=FakeEmbedder(1024))
        return found


MODES = {
    "fts": Mode("lexical", True),
    "fallback": Mode("lexical", False),
    "hybrid": Mode("hybrid", None),
    "semantic": Mode("semantic", None),
}


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest, backend: Any) -> Mode:
    """Every search mode, for the contract that holds whatever ranks the entries (ingest, dedup, deletes,
    scope, restarts, concurrency); the lexical-only contract takes ``fts``."""
    found = MODES[request.param]
    if found.fts and not has_fts(backend):
        pytest.skip(f"{backend.name}: the dialect has no full-text search")
    if found.search != "lexical" and not backend.spec.classes()[0].dialect_class.memory_class.stores_vectors:
        pytest.skip(f"{backend.name}: this family stores no vectors yet")
    return found


def settings(mode: bool | Mode) -> dict[str, Any]:
    return {"memory_use_fts": mode} if isinstance(mode, bool) else mode.settings()


async def memory(backend: Any, fts: bool | Mode, config: Any = None, **adk: Any) -> SQLSpecMemoryService:
    service: SQLSpecMemoryService = await backend.memory(config, **settings(fts), **adk)
    return service


async def search(
    service: SQLSpecMemoryService, query: str, *, app: str = APP, user: str = USER
) -> SearchMemoryResponse:
    return await service.search_memory(app_name=app, user_id=user, query=query)


# ------------------------------------------------------------------ ingestion
async def test_session_events_are_found_ranked_and_complete(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    both = event("We had a croissant at the café in Paris", author="user", timestamp=1_700_000_000.5)
    events = [
        event("The weather in Paris was grey", timestamp=1_700_000_001.0),
        both,
        event("A cafe sells coffee", author="model", timestamp=1_700_000_002.0),
        event("Nothing to see here", timestamp=1_700_000_003.0),
    ]
    await service.add_session_to_memory(session_of(events))

    response = await search(service, "Paris café?")
    assert len(response.memories) == 3
    top = response.memories[0]
    assert texts(response)[0] == "We had a croissant at the café in Paris"  # the only entry with both words
    assert top.id == both.id
    assert top.author == "user"
    assert top.content == both.content
    assert top.timestamp is not None
    assert datetime.fromisoformat(top.timestamp).timestamp() == 1_700_000_000.5
    assert datetime.fromisoformat(top.timestamp).utcoffset() is not None
    assert top.custom_metadata == {}
    assert "Nothing to see here" not in texts(response)


async def test_content_round_trips_losslessly(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    rich = types.Content(
        role="model",
        parts=[
            types.Part(text="Invoice total is 42 euros"),
            types.Part(function_call=types.FunctionCall(name="lookup", args={"id": 7, "tags": ["a", "ü"]})),
            types.Part(inline_data=types.Blob(data=b"\x00\xffbytes", mime_type="application/octet-stream")),
            types.Part(text="internal reasoning", thought=True),
        ],
    )
    source = Event(author="agent", timestamp=1234.25, content=rich)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[source])
    [found] = (await search(service, "invoice")).memories
    assert found.content == rich
    # Thoughts are kept in the content but are not searchable.
    assert (await search(service, "reasoning")).memories == []


async def test_events_without_text_are_skipped(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    image_only = Event(
        author="user",
        content=types.Content(parts=[types.Part(inline_data=types.Blob(data=b"x", mime_type="image/png"))]),
    )
    no_content = Event(author="user")
    emoji_only = event("👍🎉")
    partial = event("streaming chunk", partial=True)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[image_only, no_content, emoji_only, partial])
    assert await stored_rows(service) == 0


async def test_readding_never_duplicates(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    events = [event(f"note number {i} about kiwis", timestamp=1000.0 + i) for i in range(3)]
    await service.add_session_to_memory(session_of(events))
    await service.add_session_to_memory(session_of(events))
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events[1:], session_id="s1")
    # The same event under another session id is still the same memory.
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events, session_id="other")
    # Duplicates inside one call, too.
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[events[0], events[0]])
    assert await stored_rows(service) == 3
    response = await search(service, "kiwis")
    assert sorted(m.id for m in response.memories) == sorted(e.id for e in events)
    # A growing session adds only its new events.
    events.append(event("a fourth note about kiwis", timestamp=2000.0))
    await service.add_session_to_memory(session_of(events))
    assert await stored_rows(service) == 4


async def test_add_events_delta_keeps_session_and_metadata(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    turn = [event("remember the blue umbrella", timestamp=10.0), event("sure, blue umbrella noted", author="model")]
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=turn, session_id="s9", custom_metadata={"source": "turn", "ttl_days": 30}
    )
    response = await search(service, "umbrella")
    assert len(response.memories) == 2
    assert all(m.custom_metadata == {"source": "turn", "ttl_days": 30} for m in response.memories)
    records = await call(service.store.search_memory, app_name=APP, user_id=USER, query="umbrella")
    assert {r["session_id"] for r in records} == {"s9"}
    assert {r["event_id"] for r in records} == {e.id for e in turn}


async def test_bad_custom_metadata_is_refused_before_writing(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    with pytest.raises(TypeError, match="custom_metadata"):
        await service.add_events_to_memory(
            app_name=APP, user_id=USER, events=[event("hello there")], custom_metadata={"when": object()}
        )
    with pytest.raises(ValueError, match="app_name"):
        await service.add_events_to_memory(app_name="", user_id=USER, events=[event("hello there")])
    assert await stored_rows(service) == 0


# ------------------------------------------------------- explicit entries, delete
async def test_add_memory_and_delete_memory(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    named = MemoryEntry(
        id="fact-1",
        content=content("Alice is allergic to peanuts"),
        author="profile",
        timestamp="2024-05-01T10:00:00+00:00",
        custom_metadata={"kind": "fact"},
    )
    unnamed = MemoryEntry(content=content("Alice prefers window seats"))
    await service.add_memory(
        app_name=APP, user_id=USER, memories=[named, unnamed], custom_metadata={"origin": "import"}
    )
    assert unnamed.id is None  # the caller's object is not modified

    [peanuts] = (await search(service, "peanuts")).memories
    assert peanuts.id == "fact-1"
    assert peanuts.author == "profile"
    assert peanuts.timestamp == "2024-05-01T10:00:00+00:00"
    assert peanuts.custom_metadata == {"origin": "import", "kind": "fact"}
    [seats] = (await search(service, "window")).memories
    assert seats.id  # an id was given
    assert seats.custom_metadata == {"origin": "import"}

    await service.delete_memory(app_name=APP, user_id=USER, memory_id="fact-1")
    assert (await search(service, "peanuts alice")).memories == [seats]
    await service.delete_memory(app_name=APP, user_id=USER, memory_id=seats.id)
    assert (await search(service, "alice")).memories == []
    # Unknown ids, repeated deletes and no id at all are quiet no-ops.
    await service.delete_memory(app_name=APP, user_id=USER, memory_id="fact-1")
    await service.delete_memory(app_name=APP, user_id=USER, memory_id="never-existed")
    await service.delete_memory(app_name=APP, user_id=USER, memory_id=None)


async def test_add_memory_with_a_stored_id_replaces_it(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    await service.add_memory(app_name=APP, user_id=USER, memories=[MemoryEntry(id="m", content=content("likes tea"))])
    await service.add_memory(
        app_name=APP, user_id=USER, memories=[MemoryEntry(id="m", content=content("likes coffee"))]
    )
    assert (await search(service, "tea")).memories == []
    assert texts(await search(service, "coffee")) == ["likes coffee"]
    assert await stored_rows(service) == 1


async def test_deleted_event_stays_deleted_when_the_session_is_added_again(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    events = [event("my old address is 5 Elm Street"), event("my favourite street food is ramen")]
    await service.add_session_to_memory(session_of(events))
    await service.delete_memory(app_name=APP, user_id=USER, memory_id=events[0].id)
    await service.add_session_to_memory(session_of(events))  # ADK re-adds whole sessions
    assert texts(await search(service, "street")) == ["my favourite street food is ramen"]
    # The deleted content is gone from storage, not just hidden.
    rows = await raw(
        service.store.config,
        f"SELECT content_json, search_text FROM {service.store.dialect.memory_table} WHERE event_id = ?",
        [events[0].id],
    )
    assert rows[0][0] is None and "elm" not in rows[0][1]
    # An explicit add with that id brings it back on purpose.
    await service.add_memory(
        app_name=APP,
        user_id=USER,
        memories=[MemoryEntry(id=events[0].id, content=content("new address: 9 Oak Street"))],
    )
    assert sorted(texts(await search(service, "street"))) == [
        "my favourite street food is ramen",
        "new address: 9 Oak Street",
    ]


async def test_delete_user_memory_and_retention(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event("old lemon", timestamp=100.0), event("new lemon", timestamp=5000.0)]
    )
    await service.add_events_to_memory(app_name=APP, user_id="bob", events=[event("bob lemon", timestamp=100.0)])
    await service.add_events_to_memory(app_name="other", user_id=USER, events=[event("other lemon", timestamp=100.0)])
    assert await service.delete_memory_before(before=1000.0, app_name=APP) == 2
    assert texts(await search(service, "lemon")) == ["new lemon"]
    assert texts(await search(service, "lemon", app="other")) == ["other lemon"]
    assert await service.delete_user_memory(app_name=APP, user_id=USER) == 1
    assert (await search(service, "lemon")).memories == []
    assert await service.delete_memory_before(before=1000.0) == 1  # every app
    assert await stored_rows(service) == 0


# ------------------------------------------------------------------ isolation
async def test_other_apps_and_users_never_see_entries(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[event("secret pancake recipe")])
    await service.add_memory(
        app_name=APP, user_id=USER, memories=[MemoryEntry(id="shared-id", content=content("pancake fact for alice"))]
    )
    # The same memory id for another user is a different entry.
    await service.add_memory(
        app_name=APP, user_id="bob", memories=[MemoryEntry(id="shared-id", content=content("pancake fact for bob"))]
    )
    assert texts(await search(service, "pancake", user="bob")) == ["pancake fact for bob"]
    assert (await search(service, "pancake", app="other")).memories == []
    assert (await search(service, "pancake", user="ALICE")).memories == []
    await service.delete_memory(app_name=APP, user_id="bob", memory_id="shared-id")
    assert sorted(texts(await search(service, "pancake"))) == ["pancake fact for alice", "secret pancake recipe"]


# ------------------------------------------------------------- hostile queries
HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "' OR 1=1 --",
    '"pancake',
    "pancake\"'",
    "?",
    "??",
    "AND",
    "OR",
    "NOT",
    "pancake AND",
    "NEAR(",
    "NEAR(pancake syrup, 2)",
    "pancake NEAR/2 syrup",
    "%",
    "%%",
    "_",
    "__",
    "%_%",
    "pan%",
    "pan_ake",
    "*",
    "pan*",
    "pancake*",
    "^pancake",
    "col:pancake",
    "search_text:pancake",
    "(",
    ")",
    "{}[]",
    "\\",
    "\\%",
    "!",
    "!%",
    "-pancake",
    "+pancake",
    "😀",
    "🥞 pancake 🥞",
    "\x00",
    "pancake\x00syrup",
    "\u200b",
    "x" * 10_000,
    " ".join(f"word{i}" for i in range(2_000)),
    "pancake " * 2_000,
    "ä" * 10_000,
    "東" * 10_000,
]


async def test_any_query_text_is_safe_and_nothing_is_a_wildcard(backend: Any, fts: bool) -> None:
    """Every hostile query runs (no syntax error, no wildcard): each hit shares a whole token with it.

    One service for all of :data:`HOSTILE`: the queries only read, so they cannot disturb each other.
    """
    service = await memory(backend, fts)
    await service.add_events_to_memory(
        app_name=APP,
        user_id=USER,
        events=[
            event("pancake syrup"),
            event("100% sure about snake_case names"),
            event("a quote \" and an apostrophe ' and a star *"),
            event("pancakes plural"),
        ],
    )
    for query in HOSTILE:
        response = await search(service, query)
        wanted = set(tokenize(query))
        for text in texts(response):
            # Every hit shares a whole token with the query: no wildcard, no prefix match.
            assert wanted & set(tokenize(text)), (query[:40], text)


async def test_percent_and_underscore_match_nothing(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event("100% done"), event("snake_case_name"), event("plain words")]
    )
    for query in ("%", "_", "%%", "%_%", "*", "_%_"):
        assert (await search(service, query)).memories == [], query
    # Partial words never match: no implicit prefix or infix search.
    assert (await search(service, "snak")).memories == []
    assert (await search(service, "wor*")).memories == []
    # The pieces around '_' and '%' are ordinary tokens.
    assert texts(await search(service, "case")) == ["snake_case_name"]
    assert texts(await search(service, "100")) == ["100% done"]


async def test_huge_query_is_capped(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event("word0 is the first word"), event("word5000 is too far")]
    )
    query = " ".join(f"word{i}" for i in range(10_000))
    response = await search(service, query)
    # Only the first distinct query tokens are used.
    assert texts(response) == ["word0 is the first word"]


# ------------------------------------------------------- case, accents, scripts
@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("Meet me at the Café Müller", "cafe"),
        ("Meet me at the Café Müller", "CAFE"),
        ("Meet me at the Café Müller", "CAFÉ muller"),
        ("meet me at the cafe", "Café"),
        ("Straße in Berlin", "STRASSE"),
        ("ＦＵＬＬＷＩＤＴＨ text", "fullwidth"),
        ("私は東京に住んでいます", "東京"),
        ("私は東京に住んでいます", "東京タワー"),
        ("私はPythonを使う", "python"),
        ("我喜欢北京烤鸭", "北京"),
        ("서울에 살아요", "서울"),
        ("カタカナのテスト", "ｶﾀｶﾅ"),
        ("Αθήνα είναι όμορφη", "ΑΘΗΝΑ"),
        ("Ο Σωκράτης", "σωκρατης"),
        ("Я живу в Москве", "москве"),
        ("Я живу в Москве", "МОСКВЕ"),
        ("İstanbul trip", "istanbul"),
        ("naïve résumé", "NAIVE RESUME"),
    ],
)
async def test_case_accents_and_scripts(backend: Any, fts: bool, stored: str, query: str) -> None:
    service = await memory(backend, fts)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[event(stored), event("unrelated words")])
    assert texts(await search(service, query)) == [stored]


async def test_kana_voicing_is_not_an_accent(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[event("が"), event("ガ")])
    assert (await search(service, "か")).memories == []
    assert texts(await search(service, "が")) == ["が"]
    assert texts(await search(service, "ｶﾞ")) == ["ガ"]  # half-width katakana folds to full-width


# ------------------------------------------------------- ranking and the cap
async def test_results_are_capped_and_ties_go_newest_first(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts, memory_max_results=3)
    events = [event(f"mango {i}", timestamp=1000.0 + i) for i in range(10)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events)
    response = await search(service, "mango")
    assert len(response.memories) == 3
    if not fts:
        # Equal relevance: newest first.
        assert [m.id for m in response.memories] == [e.id for e in reversed(events[-3:])]
    records = await call(service.store.search_memory, app_name=APP, user_id=USER, query="mango", limit=7)
    assert len(records) == 7


async def test_more_matching_words_rank_higher(backend: Any, fts: bool) -> None:
    service = await memory(backend, fts)
    fillers = [event(f"blue sky number{i}", timestamp=10.0 + i) for i in range(6)]
    await service.add_events_to_memory(
        app_name=APP,
        user_id=USER,
        events=[
            event("green apple pie", timestamp=3.0),
            event("green apple cinnamon", timestamp=1.0),
            event("cinnamon roll bun", timestamp=2.0),
            *fillers,
        ],
    )
    ranked = texts(await search(service, "apple green cinnamon"))
    assert ranked[0] == "green apple cinnamon"
    assert sorted(ranked[1:]) == ["cinnamon roll bun", "green apple pie"]


def weighs_rarity(backend: Any, fts: bool) -> None:
    """Skip the searches that rank by query tokens matched, not by how rare they are."""
    if not fts:
        pytest.skip("the portable LIKE search ranks by tokens matched, then newest; it counts no frequencies")
    if backend.spec.classes()[0].dialect_class.family == "spanner":
        # Spanner's SCORE takes IDF only from Google's web corpus (enhance_query), never from the index.
        pytest.skip("Spanner's SCORE weighs term frequency only (no IDF from the search index)")


async def test_a_rare_word_beats_a_frequent_word(backend: Any, fts: bool) -> None:
    """Each entry matches one query word, all of the same length: the rare word's entry ranks first, though oldest
    (a rank that ignores how rare a word is, as PostgreSQL's ts_rank, ties them and puts the newest first)."""
    weighs_rarity(backend, fts)
    service = await memory(backend, fts)
    fact = event("dentist visit on friday", timestamp=1.0)
    chatter = [event(f"coffee with friend{i} today", timestamp=100.0 + i) for i in range(30)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[fact, *chatter])
    for query in ("coffee dentist", "When is my dentist, after coffee?"):
        found = texts(await search(service, query))
        assert found[0] == "dentist visit on friday", (query, found[:3])
        assert len(found) == min(31, service.store.max_results)


async def test_a_short_entry_beats_long_ones_holding_the_same_word(backend: Any, fts: bool) -> None:
    """BM25's length normalization: among entries holding the one query word once, the shortest ranks first, though
    oldest (without it, ADK-style chatter that repeats a fact's keyword buries the fact under newer chatter)."""
    weighs_rarity(backend, fts)
    service = await memory(backend, fts)
    fact = event("my sister lives in porto", timestamp=1.0)
    chatter = [
        event(f"yesterday my sister said the train to station{i} was late again and everyone waited", timestamp=9.0 + i)
        for i in range(6)
    ]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[fact, *chatter])
    assert texts(await search(service, "Where does my sister live?"))[0] == "my sister lives in porto"


async def test_deleted_entries_no_longer_count_in_the_ranking(backend: Any, fts: bool) -> None:
    """Two entries of equal length match one query word each; the word held by more entries ranks lower. Deleting
    the entries that made a word frequent (one by one, by retention, by session) makes its entry rank first."""
    weighs_rarity(backend, fts)
    if backend.spec.classes()[0].dialect_class.family == "mysql":
        # tests/mysql/test_dialect.py pins what InnoDB does instead.
        pytest.skip("InnoDB counts deleted entries in its FULLTEXT word statistics until the index is optimized")
    service = await memory(backend, fts)
    older = event("alpha item one", timestamp=2000.0)
    newer = event("beta item two", timestamp=3000.0)  # newer: it wins any tie
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[older, newer])
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event("beta note three", timestamp=3001.0)], session_id="keep"
    )
    singles = [event(f"alpha note n{i}", timestamp=2001.0 + i) for i in range(4)]
    aged = [event(f"alpha note a{i}", timestamp=10.0 + i) for i in range(4)]
    session = [event(f"alpha note s{i}", timestamp=2100.0 + i) for i in range(4)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=singles + aged)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=session, session_id="chatty")
    # alpha: 13 entries, beta: 2.
    assert set(texts(await search(service, "alpha beta"))[:2]) == {"beta item two", "beta note three"}
    for entry in singles:
        await service.delete_memory(app_name=APP, user_id=USER, memory_id=entry.id)
    assert await service.delete_memory_before(before=1000.0, app_name=APP) == len(aged)
    assert await service.delete_user_memory(app_name=APP, user_id=USER, session_id="chatty") == len(session)
    # alpha: 1 entry, beta: 2.
    assert texts(await search(service, "alpha beta"))[:3] == ["alpha item one", "beta note three", "beta item two"]


# ------------------------------------------------------- everyday query words
# Families that read document frequencies (SQLite, DuckDB) leave tokens held by
# many entries out of the ranked search, and MySQL/MariaDB searches its FULLTEXT
# index with the tokens long enough for it. These tests make that pruning bite on
# a small table (min_docs 0: only the 5% fraction applies) and check that it
# never loses the one token that matches, nor all of them.
COMMON = [
    "what is my plan for the day",
    "what is the plan for my week",
    "is it ok to go out for the day",
    "the plan is what my day is for",
    "my week is the week to go and plan",
    "what is the day of my week",
]


async def common_words_memory(backend: Any, fts: bool) -> SQLSpecMemoryService:
    """18 entries made of everyday words only (fewer than ``memory_max_results``, so every match is returned)."""
    service = await memory(backend, fts)
    # Every family has these attributes; those that do not prune ignore them.
    service.store.dialect.memory.prune_min_docs = 0
    events = [event(text, timestamp=float(i)) for i, text in enumerate(COMMON * 3)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events)
    return service


async def test_a_rare_word_among_common_words_is_found(backend: Any, fts: bool) -> None:
    service = await common_words_memory(backend, fts)
    # No everyday word in it: only "zeppelin" can find it.
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[event("zeppelin ride booked")])
    assert "zeppelin ride booked" in texts(await search(service, "What is the plan for my zeppelin, for the day?"))
    assert "zeppelin ride booked" in texts(await search(service, "is my zeppelin"))  # with only short words
    assert texts(await search(service, "zeppelin")) == ["zeppelin ride booked"]


async def test_a_query_of_only_common_words_still_finds_entries(backend: Any, fts: bool) -> None:
    service = await common_words_memory(backend, fts)
    # "go ok": no token long enough for MySQL's FULLTEXT index. (PostgreSQL's 'english' fts_config
    # drops stop words such as "is" and "my", so no query here is made of stop words only.)
    for query in ("what is my plan for the day", "the day", "go ok"):
        found = texts(await search(service, query))
        assert found, query
        assert all(set(tokenize(query)) & set(tokenize(text)) for text in found), query


async def test_a_rare_word_of_another_user_does_not_hide_common_matches(backend: Any, fts: bool) -> None:
    service = await common_words_memory(backend, fts)
    await service.add_events_to_memory(app_name=APP, user_id="bob", events=[event("bob has a zeppelin")])
    found = texts(await search(service, "what is my plan for my zeppelin"))
    assert found and set(found) <= set(COMMON)
    assert texts(await search(service, "zeppelin", user="bob")) == ["bob has a zeppelin"]


# ------------------------------------------------------------- configuration
async def test_restart_sees_stored_entries(backend: Any, mode: Mode) -> None:
    first = await memory(backend, mode, backend.config(**settings(mode)))
    await first.add_session_to_memory(session_of([event("the wifi password is hunter2")]))
    await first.add_memory(app_name=APP, user_id=USER, memories=[MemoryEntry(id="k", content=content("wifi is slow"))])
    await backend.close_config(first.store.config)

    second = await memory(backend, mode, backend.config(**settings(mode)))
    assert sorted(texts(await search(second, "wifi"))) == ["the wifi password is hunter2", "wifi is slow"]
    await second.delete_memory(app_name=APP, user_id=USER, memory_id="k")
    assert texts(await search(second, "wifi")) == ["the wifi password is hunter2"]


async def test_full_text_index_picks_up_rows_written_without_it(backend: Any) -> None:
    if not has_fts(backend):
        pytest.skip(f"{backend.name}: the dialect has no full-text search")
    plain = await backend.memory(backend.config(memory_use_fts=False), memory_use_fts=False)
    await plain.add_events_to_memory(app_name=APP, user_id=USER, events=[event("written before the index")])
    indexed = await backend.memory(backend.config(memory_use_fts=True), memory_use_fts=True)
    assert texts(await search(indexed, "index")) == ["written before the index"]
    await indexed.add_events_to_memory(app_name=APP, user_id=USER, events=[event("written after the index")])
    assert len((await search(indexed, "written")).memories) == 2


async def test_owner_id_flows_into_the_owner_column(backend: Any, mode: Mode) -> None:
    store = await backend.memory_store(**settings(mode), owner_id_column=backend.integer_column("tenant_id"))
    service = SQLSpecMemoryService(store, owner_id=lambda app, user: 7 if user == USER else 8)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[event("tenant seven")])
    await service.add_memory(
        app_name=APP, user_id="bob", memories=[MemoryEntry(id="b1", content=content("tenant eight"))]
    )
    rows = await raw(store.config, f"SELECT user_id, tenant_id FROM {store.dialect.memory_table} ORDER BY user_id")
    assert [(r[0], int(r[1])) for r in rows] == [(USER, 7), ("bob", 8)]
    assert texts(await search(service, "tenant")) == ["tenant seven"]

    fixed = SQLSpecMemoryService(store, owner_id=42)
    await fixed.add_events_to_memory(app_name=APP, user_id="carol", events=[event("tenant fixed")])
    rows = await raw(store.config, f"SELECT tenant_id FROM {store.dialect.memory_table} WHERE user_id = ?", ["carol"])
    assert int(rows[0][0]) == 42


async def test_config_errors(backend: Any) -> None:
    store_cls = backend.spec.classes()[2]
    with pytest.raises(ConfigError, match="enable_memory"):
        store_cls(backend.config(enable_memory=False))
    if not has_fts(backend):
        with pytest.raises(ConfigError, match="memory_use_fts"):
            store_cls(backend.config(memory_use_fts=True))
    with pytest.raises(ConfigError, match="memory_max_results"):
        backend.config(memory_max_results=0)


async def test_store_methods(backend: Any) -> None:
    """The store's own methods (sync or async by driver) wrap the same operations."""
    store = await backend.memory_store()

    async def on(name: str, **kwargs: Any) -> Any:
        return await call(getattr(store, name), **kwargs)

    await on("create_tables")
    await on("add_events_to_memory", app_name=APP, user_id=USER, events=[event("store level plum")], session_id="s")
    ids = await on("add_memory", app_name=APP, user_id=USER, memories=[MemoryEntry(content=content("plum jam"))])
    assert len(ids) == 1 and ids[0]
    records = await on("search_memory", app_name=APP, user_id=USER, query="plum")
    assert {r["event_id"] for r in records} >= set(ids)
    assert len(records) == 2
    assert await on("delete_memory", app_name=APP, user_id=USER, memory_id=ids[0]) == 1
    assert await on("delete_memory", app_name=APP, user_id=USER, memory_id=ids[0]) == 0
    assert len(await on("search_memory", app_name=APP, user_id=USER, query="plum", limit=1)) == 1
    assert await on("delete_user_memory", app_name=APP, user_id=USER, session_id="s") == 1
    assert await on("search_memory", app_name=APP, user_id=USER, query="plum") == []
    assert await on("delete_memory_before", before=time.time() + 10) == 1  # the tombstone
    with pytest.raises(ValueError, match="limit"):
        await on("search_memory", app_name=APP, user_id=USER, query="plum", limit=0)


async def test_concurrent_adds_of_the_same_session(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)
    events = [event(f"parallel fig {i}", timestamp=float(i)) for i in range(20)]
    await asyncio.gather(*(service.add_session_to_memory(session_of(events)) for _ in range(5)))
    assert await stored_rows(service) == 20


async def test_concurrent_explicit_writes_of_the_same_id(backend: Any, mode: Mode) -> None:
    service = await memory(backend, mode)

    async def write(i: int) -> None:
        entry = MemoryEntry(id="same", content=content(f"version{i} of the damson fact"))
        await service.add_memory(app_name=APP, user_id=USER, memories=[entry])

    await asyncio.gather(*(write(i) for i in range(5)))
    assert await stored_rows(service) == 1
    [found] = (await search(service, "damson")).memories
    assert found.id == "same"
