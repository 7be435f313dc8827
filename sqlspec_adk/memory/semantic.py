"""Semantic and hybrid memory search, and the embedder calls around a memory operation.

A memory call with an embedder is a short *plan*: embedder calls (awaited
outside any transaction) and store operations (each one transaction), written
once as a generator and driven from async code (:func:`drive_async`) or sync
code (:func:`drive_sync`), like the migration runner's plans.

- Ingest: the rows are prepared; the ids already stored are read (one read,
  so re-adding a session embeds only its new events); the new texts are
  embedded in one call (empty texts are not sent); the write transaction then
  writes rows and vectors together. An embedder failure is an
  :class:`~sqlspec_adk.errors.EmbeddingError` before the write: nothing is written.
- Search (:func:`vector_search`, one read transaction): ``semantic`` ranks by
  cosine only; ``hybrid`` also runs the family's lexical search and fuses the
  two rankings (:mod:`sqlspec_adk.memory.fusion`). A query with no search
  token returns nothing in every mode, as the lexical search does.

A sync store awaits its embedder on one long-lived event loop thread of the
process (:func:`run_coroutine_sync`), so an embedder's async client always
meets the same loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlspec_adk.dialects.memory import MEMORY_COLUMNS, MemorySQL
from sqlspec_adk.engine.plans import drive_plan_async, drive_plan_sync
from sqlspec_adk.memory.fusion import fuse
from sqlspec_adk.memory.vector_cache import VectorCache, cached_ranking
from sqlspec_adk.protocol import Op, Operation, Stmt
from sqlspec_adk.records import MemoryRecord

__all__ = [
    "EMBED_CHARS",
    "HYBRID_DEPTH",
    "MIN_SIMILARITY",
    "RELATIVE_SIMILARITY",
    "Await",
    "Step",
    "drive_async",
    "drive_sync",
    "run_coroutine_sync",
    "vector_search",
]

T = TypeVar("T")

#: Characters of an entry or a query an embedder is given (models truncate far sooner; this bounds the call).
EMBED_CHARS = 8000
#: Candidates each ranking contributes to a hybrid search (at least ``limit``).
HYBRID_DEPTH = 50
#: The vector ranking keeps only entries more similar than this (cosine): an orthogonal or opposite
#: entry is unrelated, not "the least bad match".
MIN_SIMILARITY = 0.0
#: ...and, when fused with the lexical ranking (hybrid), at least this share of the best one's cosine. In a
#: small memory every entry is in the vector ranking, so without it an unrelated entry that also matches an
#: everyday word ("the") collects both rankings' votes and outranks the one entry that answers; on W5
#: (20,000 entries) 0.5 changes no answer (0.7 loses one paraphrase). Semantic mode ranks by cosine alone,
#: so the answer is first anyway there, and keeps every entry above MIN_SIMILARITY.
RELATIVE_SIMILARITY = 0.5
#: Rounds a search reads candidates again after some came back deleted.
_REFILLS = 3


@dataclass(frozen=True, slots=True)
class Await:
    """A plan step: a coroutine to await outside any transaction (an embedder call)."""

    make: Callable[[], Awaitable[Any]]


#: What a plan yields: an operation to run (its result is sent back) or an :class:`Await`.
Step = Operation[Any] | Await


async def drive_async(plan: Generator[Step, Any, T], run: Callable[[Operation[Any]], Awaitable[Any]]) -> T:
    """Drive ``plan`` from async code: operations through ``run``, awaits on this loop."""
    return await drive_plan_async(plan, lambda step: run(step) if isinstance(step, Operation) else step.make())


def drive_sync(plan: Generator[Step, Any, T], run: Callable[[Operation[Any]], Any]) -> T:
    """Drive ``plan`` on the calling thread: operations through ``run``, awaits on the embedder loop."""
    return drive_plan_sync(
        plan, lambda step: run(step) if isinstance(step, Operation) else run_coroutine_sync(step.make)
    )


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _embedder_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="sqlspec-adk-embedder", daemon=True).start()
            _loop = loop
        return _loop


def run_coroutine_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Await ``make()`` from sync code, on the process's embedder loop thread (never on the caller's loop)."""

    async def wrapped() -> T:
        return await make()

    coroutine: Coroutine[Any, Any, T] = wrapped()
    return asyncio.run_coroutine_threadsafe(coroutine, _embedder_loop()).result()


def _unalone(op: Op[T]) -> Op[T]:
    """``op`` with none of its statements sent ``alone``: here it is one part of a larger read."""
    try:
        stmt = next(op)
    except StopIteration as stop:
        done: T = stop.value
        return done
    while True:
        result = yield (dataclasses.replace(stmt, alone=False) if stmt.alone else stmt)
        try:
            stmt = op.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value


def _similar(ranked: Sequence[tuple[T, float]], fused: bool) -> list[tuple[T, float]]:
    """The entries of a vector ranking (each with its cosine) similar enough to count (see the constants);
    ``fused``: the ranking is fused with the lexical one (hybrid)."""
    if not ranked:
        return []
    relative = RELATIVE_SIMILARITY if fused else 0.0
    floor = max(MIN_SIMILARITY, relative * max(score for _, score in ranked))
    return [(item, score) for item, score in ranked if score > MIN_SIMILARITY and score >= floor]


def _ranked_records(
    sql: MemorySQL,
    cache: VectorCache,
    *,
    app_name: str,
    user_id: str,
    owner: Any,
    vector: Sequence[float],
    limit: int,
    depth: int,
    lexical: Sequence[MemoryRecord] | None,
) -> Op[list[MemoryRecord]]:
    """The best ``limit`` entries: the vector ranking alone (``lexical`` None) or fused with ``lexical``.

    Vectors ranked by the store give keys; only the entries that make the result and that the lexical
    search did not return are read (by key, with their content). One that comes back missing was deleted
    since its vector was read: it is dropped from the held vectors and the ranking is filled again.
    """
    ranking = yield from sql.vector_ranking_op()
    if ranking == "sql":
        rows = yield sql.vector_search_stmt(app_name, user_id, vector, depth, owner)
        score = len(MEMORY_COLUMNS)
        kept = _similar([(row, float(row[score])) for row in rows], lexical is not None)
        nearest = [sql.memory_record(row, app_name, user_id) for row, _ in kept]
        if lexical is None:
            return nearest[:limit]
        known = {record["event_id"]: record for record in [*nearest, *lexical]}
        order = fuse([r["event_id"] for r in lexical], [r["event_id"] for r in nearest], limit)
        return [known[key] for key in order]
    known = {record["event_id"]: record for record in lexical or ()}
    gone: set[str] = set()
    keys: list[str] = []
    for _ in range(_REFILLS):
        ranked = yield from cached_ranking(
            sql,
            cache,
            app_name=app_name,
            user_id=user_id,
            owner=owner,
            query=vector,
            count=depth,
            floor=MIN_SIMILARITY,
            exclude=frozenset(gone),
        )
        nearest_keys = [event_id for event_id, _ in _similar(ranked, lexical is not None)]
        keys = nearest_keys[:limit] if lexical is None else fuse([r["event_id"] for r in lexical], nearest_keys, limit)
        wanted = [key for key in keys if key not in known]
        if not wanted:
            break
        rows = yield sql.records_stmt(app_name, user_id, owner, wanted)
        known.update((str(row[2]), sql.memory_record(row, app_name, user_id)) for row in rows)
        missing = {key for key in wanted if key not in known}
        if not missing:
            break
        gone |= missing
    return [known[key] for key in keys if key in known]


def vector_search(
    sql: MemorySQL,
    cache: VectorCache,
    *,
    mode: str,
    app_name: str,
    user_id: str,
    owner: Any,
    tokens: Sequence[str],
    vector: Sequence[float],
    limit: int,
) -> Op[list[MemoryRecord]]:
    """The best ``limit`` entries for a ``semantic`` or ``hybrid`` search, in one read transaction."""
    scope = {"app_name": app_name, "user_id": user_id, "owner": owner}
    if mode == "semantic":
        return (yield from _ranked_records(sql, cache, vector=vector, limit=limit, depth=limit, lexical=None, **scope))
    depth = max(limit, HYBRID_DEPTH)
    lexical = yield from _unalone(sql.search_memory(tokens=tokens, limit=depth, **scope))
    return (
        yield from _unalone(
            _ranked_records(sql, cache, vector=vector, limit=limit, depth=depth, lexical=lexical, **scope)
        )
    )


def one(stmt: Stmt) -> Op[Any]:
    """An operation of one statement, returning its result."""
    return (yield stmt)
