"""W5: memory ingest and search over the shipped question sets (latency, recall@5 per question set).

The corpus (:mod:`benchmarks.memory_corpus`) hides every fact of the three
question sets among Zipf-distributed filler. Each contender ingests it in calls
of 500 events (interleaved batch by batch), then answers every question once
for recall (recall@5 per set: ``keyword``, ``frequent``, ``paraphrase``), then
the timed rounds ask every question again. A contender with an embedder also
gets its embedder timed on its own, once per question, so the search's cost
beyond the embedding can be read off.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from benchmarks.contenders.memory import MemoryContender, OursMemory
from benchmarks.group import Group
from benchmarks.memory_corpus import KINDS, Question, build_corpus
from benchmarks.timing import Batch, Timing, timed_batch
from benchmarks.workloads.common import measure

__all__ = ["TOP", "recall_extra", "run_memory"]

TOP = 5
#: Question sets whose questions share keywords with their facts: "keyword recall" pools them.
KEYWORD_KINDS = ("keyword", "frequent")


def recall_extra(questions: list[Question], found: list[bool]) -> dict[str, Any]:
    """recall@5 overall for keyword questions (``recall_at_5``) and per question set."""
    asked: Counter[str] = Counter(question.kind for question in questions)
    hits: Counter[str] = Counter(question.kind for question, hit in zip(questions, found, strict=True) if hit)
    keyword_asked = sum(asked[kind] for kind in KEYWORD_KINDS)
    keyword_hits = sum(hits[kind] for kind in KEYWORD_KINDS)
    return {
        "recall_at_5": keyword_hits / keyword_asked if keyword_asked else None,
        "answered": keyword_hits,
        "questions": keyword_asked,
        "recall_by_kind": {kind: hits[kind] / asked[kind] for kind in KINDS if asked[kind]},
        "questions_by_kind": {kind: asked[kind] for kind in KINDS if asked[kind]},
    }


def _by_kind_ms(timing: Timing, questions: list[Question]) -> dict[str, float]:
    """Median search latency per question set (every round asks the questions in order)."""
    values: dict[str, list[int]] = {}
    for batch in timing.batches:
        for index, latency in enumerate(batch.latencies_ns):
            values.setdefault(questions[index % len(questions)].kind, []).append(latency)
    return {kind: statistics.median(found) / 1e6 for kind, found in values.items() if found}


async def run_memory(group: Group[MemoryContender]) -> None:
    corpus = build_corpus(group.sizes.memory_entries)
    batch_size = len(corpus.batches[0]) if corpus.batches else 0
    total_events = sum(len(batch) for batch in corpus.batches)

    # Ingest, interleaved batch by batch (each batch is one add_events_to_memory call).
    ingest: dict[str, Timing] = {name: Timing() for name in group.names}
    failed: set[str] = set()
    for number, batch in enumerate(corpus.batches):
        for name in group.names:
            if name in failed:
                continue
            contender = group.live[name]

            async def add(
                index: int, contender: MemoryContender = contender, batch: Any = batch, number: int = number
            ) -> None:
                await contender.add(f"mem-{number}", batch)

            try:
                ingest[name].add(await timed_batch(1, add))
            except Exception as error:
                failed.add(name)
                group.results.note(f"W5 ingest: {group.spec(name).label} failed ({type(error).__name__}: {error})")
    for name in failed:
        del group.live[name]
    for name, timing in ingest.items():
        if name in group.live:
            seconds = sum(batch.wall_ns for batch in timing.batches) / 1e9
            group.results.add(
                "W5",
                f"add_events_to_memory, {batch_size} events",
                group.spec(name),
                timing,
                events_per_s=total_events / seconds if seconds else None,
                mode=group.spec(name).variant or "lexical",
            )

    settled = {name: await contender.settle() for name, contender in group.live.items()}
    for name, step in settled.items():
        if step:
            group.results.note(
                f"W5: {group.spec(name).label} ran {step} after the ingest (what autovacuum does within about a "
                "minute of a bulk load), before the searches"
            )

    questions = corpus.questions
    texts = [question.question for question in questions]
    case = f"search, {group.sizes.memory_entries:,} entries"
    found: dict[str, list[bool]] = {}
    recall_pass: dict[str, Timing] = {}
    embed_ms: dict[str, float] = {}
    for name, contender in list(group.live.items()):
        hits: list[bool] = []

        async def ask(index: int, contender: MemoryContender = contender, hits: list[bool] = hits) -> None:
            results = await contender.search(texts[index])
            hits.append(questions[index].fact in results[:TOP])

        try:
            recall_pass[name] = Timing([await timed_batch(len(questions), ask)])
        except Exception as error:
            group.results.note(f"W5 search: {group.spec(name).label} failed ({type(error).__name__}: {error})")
            del group.live[name]
            continue
        found[name] = hits
        if isinstance(contender, OursMemory):
            embedded = await contender.embed_query_ns(texts)
            if embedded:
                embed_ms[name] = statistics.median(embedded) / 1e6

    def extra(name: str) -> dict[str, Any]:
        details = recall_extra(questions, found[name]) if name in found else {}
        details["mode"] = group.spec(name).variant or "lexical"
        if name in embed_ms:
            details["embed_ms"] = embed_ms[name]
        return details

    # A linear-scan service (ADK's InMemoryMemoryService) is timed on the recall pass only: one round.
    live = [name for name in group.names if name in found]
    slow = [name for name in live if group.spec(name).kind == "ceiling"]
    for name in slow:
        group.results.add(
            "W5", case, group.spec(name), recall_pass[name], None, **extra(name), rounds_note="recall pass only"
        )
    timed = [name for name in live if name not in slow]

    counts = {
        name: await group.count(name, _nothing, lambda c, _, i: c.search(texts[i % len(texts)])) for name in timed
    }
    repeats = group.sizes.memory_repeats

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        asked = texts * repeats
        return await timed_batch(len(asked), lambda i: contender.search(asked[i]))

    timings = await measure(group, "W5", case, timed, run_round, counts, extra=extra)
    for name, timing in timings.items():
        row = group.results.find("W5", case, name)
        if row is not None and timing.batches:
            row.extra["median_ms_by_kind"] = _by_kind_ms(timing, questions)
            if "embed_ms" in row.extra:
                row.extra["search_less_embed_ms"] = row.median_ms - row.extra["embed_ms"]


async def _nothing(contender: Any) -> None:
    return None
