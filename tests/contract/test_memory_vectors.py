"""Semantic and hybrid memory on every adapter, with the deterministic FakeEmbedder.

What only vectors do: a paraphrase sharing no word with its fact is found by
``semantic`` and ``hybrid`` search and not by ``lexical``; vectors are written
with their rows (a failing embedder writes nothing), computed once per entry,
cleared with a deleted entry, scoped per (app, user, owner), capped at
``memory_max_results``; two stores over one database see each other's writes
(the vector cache follows revisions); another embedder's vectors are refused
naming ``memory reembed``. The mode-independent memory contract runs in every
mode in ``test_memory.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from google.adk.memory.memory_entry import MemoryEntry

from sqlspec_adk.errors import EmbedderMismatchError, EmbeddingError
from sqlspec_adk.memory.embedders import FakeEmbedder
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.modes import call
from tests.contract.test_memory import APP, HOSTILE, USER, content, event, search, stored_rows, texts
from tests.helpers import raw

FACT = "Alice is allergic to peanuts"
PARAPHRASE = "which foods should she avoid?"  # no word in common with FACT
DISTRACTORS = ["Bob's sister lives in Lisbon", "the wifi password is hunter2", "the meeting moved to Thursday"]


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it is asked to embed."""

    def __init__(self, dimensions: int = 256) -> None:
        super().__init__(dimensions)
        self.texts: list[str] = []

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        self.texts.extend(texts)
        return await super().embed(texts)


class FailingEmbedder(FakeEmbedder):
    """Fails every call (a quota, a network error)."""

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        raise ConnectionError("quota exceeded")


class ShortEmbedder(FakeEmbedder):
    """Returns vectors one dimension short: refused by the checked call."""

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        return [vector[:-1] for vector in await super().embed(texts)]


@pytest.fixture(params=["semantic", "hybrid"])
def vector_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def require_vectors(backend: Any) -> None:
    if not backend.spec.classes()[0].dialect_class.memory_class.stores_vectors:
        pytest.skip(f"{backend.name}: this family stores no vectors yet")


async def vector_memory(backend: Any, mode: str, config: Any = None, **adk: Any) -> SQLSpecMemoryService:
    require_vectors(backend)
    adk.setdefault("memory_embedder", FakeEmbedder())
    service: SQLSpecMemoryService = await backend.memory(config, memory_search_mode=mode, **adk)
    return service


async def add_texts(service: SQLSpecMemoryService, *items: str, user: str = USER) -> None:
    await service.add_events_to_memory(
        app_name=APP, user_id=user, events=[event(text, timestamp=1000.0 + i) for i, text in enumerate(items)]
    )


# ------------------------------------------------------------------ meaning
async def test_a_paraphrase_is_found_by_vectors_and_not_by_words(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode)
    await add_texts(service, *DISTRACTORS, FACT)
    assert texts(await search(service, PARAPHRASE))[0] == FACT
    lexical = await backend.memory(backend.config(memory_embedder=FakeEmbedder(), memory_search_mode="lexical"))
    assert FACT not in texts(await search(lexical, PARAPHRASE))


async def test_hybrid_keeps_the_keyword_hit_first(backend: Any) -> None:
    service = await vector_memory(backend, "hybrid")
    await add_texts(service, *DISTRACTORS, FACT, "the hunter2 password was changed yesterday")
    found = texts(await search(service, "hunter2"))
    assert set(found[:2]) == {"the wifi password is hunter2", "the hunter2 password was changed yesterday"}


async def test_results_are_capped(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode, memory_max_results=3)
    await add_texts(service, *(f"peanut butter sandwich number {i}" for i in range(8)))
    assert len((await search(service, "peanut allergy")).memories) == 3
    records = await call(service.store.search_memory, app_name=APP, user_id=USER, query="peanut", limit=5)
    assert len(records) == 5


async def test_unrelated_entries_are_not_returned(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode)
    await add_texts(service, FACT, "the wifi password is hunter2")
    assert texts(await search(service, "peanuts")) == [FACT]


# ------------------------------------------------------------------ ingest
async def test_vectors_are_written_with_their_rows_and_computed_once(backend: Any, vector_mode: str) -> None:
    embedder = CountingEmbedder()
    service = await vector_memory(backend, vector_mode, memory_embedder=embedder)
    events = [event("first note about figs", timestamp=1.0), event("second note about figs", timestamp=2.0)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events, session_id="s")
    assert embedder.texts == ["first note about figs", "second note about figs"]  # one call, both texts
    # ADK adds whole sessions again: only the new event is embedded.
    events.append(event("third note about figs", timestamp=3.0))
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events, session_id="s")
    assert embedder.texts[2:] == ["third note about figs"]
    table, column = service.store.dialect.memory_table, service.store.sql.vector_column
    rows = await raw(service.store.config, f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL")
    assert int(rows[0][0]) == 3
    # An explicit entry is embedded each time it is written (it replaces the stored one).
    entry = MemoryEntry(id="e", content=content("fig jam recipe"))
    await service.add_memory(app_name=APP, user_id=USER, memories=[entry])
    await service.add_memory(app_name=APP, user_id=USER, memories=[entry])
    assert embedder.texts[3:] == ["fig jam recipe", "fig jam recipe"]


@pytest.mark.parametrize("embedder", [FailingEmbedder(), ShortEmbedder()], ids=["raises", "wrong_length"])
async def test_a_failing_embedder_writes_nothing(backend: Any, vector_mode: str, embedder: Any) -> None:
    service = await vector_memory(backend, vector_mode, memory_embedder=embedder)
    with pytest.raises(EmbeddingError, match="fake:256"):
        await add_texts(service, FACT, "another entry")
    with pytest.raises(EmbeddingError):
        await service.add_memory(app_name=APP, user_id=USER, memories=[MemoryEntry(content=content(FACT))])
    assert await stored_rows(service) == 0


async def test_a_deleted_entry_loses_its_vector_and_is_never_returned(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode)
    await service.add_memory(app_name=APP, user_id=USER, memories=[MemoryEntry(id="f", content=content(FACT))])
    assert texts(await search(service, PARAPHRASE)) == [FACT]  # the vectors are read (and may be kept)
    await service.delete_memory(app_name=APP, user_id=USER, memory_id="f")
    assert (await search(service, PARAPHRASE)).memories == []
    table, column = service.store.dialect.memory_table, service.store.sql.vector_column
    rows = await raw(service.store.config, f"SELECT {column} FROM {table} WHERE event_id = ?", ["f"])
    assert rows[0][0] is None


# ------------------------------------------------------------------ scope
async def test_vector_search_respects_app_user_and_owner(backend: Any, vector_mode: str) -> None:
    require_vectors(backend)
    store = await backend.memory_store(
        memory_embedder=FakeEmbedder(),
        memory_search_mode=vector_mode,
        owner_id_column=backend.integer_column("tenant_id"),
    )
    seven = SQLSpecMemoryService(store, owner_id=7)
    eight = SQLSpecMemoryService(store, owner_id=8)
    await add_texts(eight, FACT)  # the nearest entry, but another owner's
    await add_texts(seven, "Alice's cat likes tuna")
    assert FACT not in texts(await search(seven, PARAPHRASE))
    assert texts(await search(eight, PARAPHRASE)) == [FACT]
    everyone = SQLSpecMemoryService(store)  # owner_id None: every owner's entries
    assert FACT in texts(await search(everyone, PARAPHRASE))
    await add_texts(seven, "Bob is allergic to peanuts", user="bob")
    assert "Bob is allergic to peanuts" not in texts(await search(seven, PARAPHRASE))
    assert (await search(seven, PARAPHRASE, app="other")).memories == []


async def test_any_query_text_is_safe(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode)
    await add_texts(service, "pancake syrup", "100% sure about snake_case names", 'a quote " and a star *')
    stored = {"pancake syrup", "100% sure about snake_case names", 'a quote " and a star *'}
    for query in HOSTILE:
        found = texts(await search(service, query))
        assert set(found) <= stored, query[:40]


# ------------------------------------------------------------------ two stores, one database
async def test_a_second_store_sees_writes_deletes_and_replacements(backend: Any, vector_mode: str) -> None:
    first = await vector_memory(backend, vector_mode, backend.config(memory_embedder=FakeEmbedder()))
    second = await vector_memory(backend, vector_mode, backend.config(memory_embedder=FakeEmbedder()))
    await add_texts(first, *DISTRACTORS)
    assert FACT not in texts(await search(second, PARAPHRASE))  # the second store reads (and keeps) the vectors
    entry = MemoryEntry(id="fact", content=content(FACT))
    await first.add_memory(app_name=APP, user_id=USER, memories=[entry])
    assert texts(await search(second, PARAPHRASE))[0] == FACT  # written since: found
    replaced = MemoryEntry(id="fact", content=content("Alice moved to a flat in Porto"))
    await first.add_memory(app_name=APP, user_id=USER, memories=[replaced])
    assert FACT not in texts(await search(second, PARAPHRASE))  # its new vector, not the old one
    assert "Alice moved to a flat in Porto" in texts(await search(second, "where does she live now"))
    await first.delete_memory(app_name=APP, user_id=USER, memory_id="fact")
    assert "Alice moved to a flat in Porto" not in texts(await search(second, "where does she live now"))
    await first.delete_user_memory(app_name=APP, user_id=USER)
    assert (await search(second, "sister")).memories == []


async def test_concurrent_ingest_and_search(backend: Any, vector_mode: str) -> None:
    service = await vector_memory(backend, vector_mode)

    async def ingest(i: int) -> None:
        await add_texts(service, f"peanut fact number {i}", f"fig fact number {i}")

    await asyncio.gather(*(ingest(i) for i in range(5)), *(search(service, "peanut") for _ in range(5)))
    assert len([t for t in texts(await search(service, "peanut")) if "peanut" in t]) == 5


# ------------------------------------------------------------------ identity
async def test_another_embedder_is_refused_naming_reembed(backend: Any) -> None:
    service = await vector_memory(backend, "hybrid")
    await add_texts(service, FACT)
    with pytest.raises(EmbedderMismatchError, match="memory reembed") as caught:
        await backend.memory(backend.config(memory_embedder=FakeEmbedder(64)))  # create_tables refuses it
    assert caught.value.recorded == ("fake:256", 256) and caught.value.configured == ("fake:64", 64)
    store = backend.spec.classes()[2](backend.config(memory_embedder="fake:64", memory_search_mode="semantic"))
    other = SQLSpecMemoryService(store)
    with pytest.raises(EmbedderMismatchError, match="memory reembed"):
        await search(other, PARAPHRASE)
    with pytest.raises(EmbedderMismatchError):
        await add_texts(other, "written with the other embedder")
    # A lexical store without an embedder works on the same table.
    lexical = await backend.memory(backend.config())
    assert texts(await search(lexical, "peanuts")) == [FACT]
