"""W5: memory ingest and search over the shipped question set (latency and recall@5)."""

from __future__ import annotations

from typing import Any

from benchmarks.contenders.memory import MemoryContender
from benchmarks.group import Group
from benchmarks.memory_corpus import build_corpus
from benchmarks.timing import Batch, Timing, timed_batch
from benchmarks.workloads.common import measure

__all__ = ["run_memory"]

TOP = 5


async def run_memory(group: Group[MemoryContender]) -> None:
    corpus = build_corpus(group.sizes.memory_entries)
    batch_size = len(corpus.batches[0]) if corpus.batches else 0

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
            group.results.add("W5", f"add_events_to_memory, {batch_size} events", group.spec(name), timing)

    settled = {name: await contender.settle() for name, contender in group.live.items()}
    for name, step in settled.items():
        if step:
            group.results.note(
                f"W5: {group.spec(name).label} ran {step} after the ingest (what autovacuum does within about a "
                "minute of a bulk load), before the searches"
            )

    questions = corpus.questions
    case = f"search, {group.sizes.memory_entries:,} entries"
    hits: dict[str, int] = {}
    recall_pass: dict[str, Timing] = {}
    for name, contender in group.live.items():
        found = 0

        async def ask(index: int, contender: MemoryContender = contender) -> None:
            nonlocal found
            results = await contender.search(questions[index].question)
            found += questions[index].fact in results[:TOP]

        recall_pass[name] = Timing([await timed_batch(len(questions), ask)])
        hits[name] = found

    def recall(name: str) -> dict[str, Any]:
        return {"recall_at_5": hits[name] / len(questions), "answered": hits[name], "questions": len(questions)}

    # A linear-scan service (ADK's InMemoryMemoryService) is timed on the recall pass only: one round.
    slow = [name for name in group.names if group.spec(name).kind == "ceiling"]
    for name in slow:
        group.results.add(
            "W5", case, group.spec(name), recall_pass[name], None, **recall(name), rounds_note="recall pass only"
        )
    timed = [name for name in group.names if name not in slow]

    counts = {
        name: await group.count(name, _nothing, lambda c, _, i: c.search(questions[i % len(questions)].question))
        for name in timed
    }
    repeats = group.sizes.memory_repeats

    async def run_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        asked = [question.question for question in questions] * repeats
        return await timed_batch(len(asked), lambda i: contender.search(asked[i]))

    await measure(group, "W5", case, timed, run_round, counts, extra=recall)


async def _nothing(contender: Any) -> None:
    return None
