"""all-MiniLM-L6-v2 end to end through memory stores: ingest, semantic and hybrid search, reembed.

A smaller set than the contract suite (which runs every adapter with the FakeEmbedder): one adapter per way
of ranking vectors (the store's cache: aiosqlite, sqlite, asyncpg, asyncmy; SQL: duckdb), with the real
model, offline. Every question shares no token with its fact (checked), so lexical search cannot find it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.adk.events.event import Event
from google.genai import types

from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.modes import call
from sqlspec_adk.operations.reembed import reembed
from sqlspec_adk.tokens import tokenize
from tests.backends import ADAPTERS, AdapterSpec
from tests.conftest import Backend, live_backend

APP, USER = "app", "u"
FACTS = [
    "Alice is allergic to peanuts",
    "Her brother Tom resides in Oslo",
    "Quarterly report due Friday",
    "Tom drives a blue hatchback to the office",
    "Cello lessons started last spring",
]
QUESTIONS = [
    ("which foods should she avoid?", 0),
    ("where does the sibling live?", 1),
    ("when must my financial summary be handed over?", 2),
    ("what car does he own?", 3),
    ("which musical instrument am I studying?", 4),
]
FILLER = [
    "The weather was grey all week",
    "We watched a documentary about volcanoes",
    "Remember to water the tomato plants",
    "The train was twenty minutes late again",
    "A new bakery opened near the station",
]
NAMES = ("aiosqlite", "sqlite", "duckdb", "asyncpg", "asyncmy")


@pytest.fixture(params=[spec for spec in ADAPTERS if spec.name in NAMES], ids=lambda spec: spec.name)
async def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    spec: AdapterSpec = request.param
    async for handle in live_backend(spec, tmp_path):
        yield handle


def event(text: str, index: int) -> Event:
    return Event(
        author="user", timestamp=1000.0 + index, content=types.Content(role="user", parts=[types.Part(text=text)])
    )


def texts(response: Any) -> list[str]:
    return ["".join(part.text or "" for part in memory.content.parts) for memory in response.memories]


async def search(service: SQLSpecMemoryService, query: str) -> list[str]:
    return texts(await service.search_memory(app_name=APP, user_id=USER, query=query))


def test_no_question_shares_a_token_with_its_fact() -> None:
    for question, index in QUESTIONS:
        assert not set(tokenize(question)) & set(tokenize(FACTS[index])), question


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
async def test_paraphrases_are_found_through_a_store(store_backend: Backend, minilm: Any, mode: str) -> None:
    service = await store_backend.memory(memory_embedder=minilm, memory_search_mode=mode)
    items = [*FILLER, *FACTS]
    await service.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event(text, i) for i, text in enumerate(items)], session_id="s"
    )
    for question, index in QUESTIONS:
        found = await search(service, question)
        assert found[:2] and FACTS[index] in found[:2], (question, found[:3])
    lexical = await store_backend.memory(store_backend.config())  # the same table, no embedder
    for question, index in QUESTIONS:
        assert FACTS[index] not in await search(lexical, question)
    identity = await call(service.store.create_tables)
    assert identity and service.store.identity == ("sentence-transformers:all-MiniLM-L6-v2", 384)


async def test_reembed_gives_lexical_entries_vectors(store_backend: Backend, minilm: Any) -> None:
    lexical = await store_backend.memory()
    await lexical.add_events_to_memory(
        app_name=APP, user_id=USER, events=[event(text, i) for i, text in enumerate([*FILLER, *FACTS])]
    )
    config = store_backend.config(memory_embedder=minilm, memory_search_mode="semantic")
    result = await reembed(config, batch_size=4, progress=False)
    assert result.embedded == len(FILLER) + len(FACTS) and result.everything and not result.resumed
    service = SQLSpecMemoryService(store_backend.spec.classes()[2](config))
    question, index = QUESTIONS[0]
    assert (await search(service, question))[0] == FACTS[index]
    again = await reembed(config, batch_size=4, progress=False)  # nothing is missing any more
    assert again.embedded == 0 and not again.everything
