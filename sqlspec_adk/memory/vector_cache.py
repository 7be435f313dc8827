"""Stored vectors kept in memory per (app, user, owner), for the families that rank vectors outside SQL.

SQLite, MySQL/MariaDB, PostgreSQL without pgvector and Oracle before 23ai have
no vector distance in SQL, so the store ranks the stored vectors itself.
Reading every vector of a user for every search costs far more than the
search (about 110 ms for 20,000 384-dimension vectors on SQLite, measured,
against 6 ms for its full-text search), so a store keeps them in memory, per
(app, user, owner), up to ``memory_vector_cache_mb``, least recently used out
first, and brings them up to date with one indexed read per search:

- every memory write bumps its (app, user)'s revision in the write
  transaction and stamps its rows with it (see
  :mod:`sqlspec_adk.dialects.memory_vectors`), so a search reads the revision
  and, when it moved, only the rows written since (``vrev >`` the one held);
- a deleted entry is never returned (results are read back by key with their
  content), and its vector is dropped the first time it comes back missing.

A (app, user, owner) whose vectors do not fit the budget is read in pages
every search and scored page by page (bounded memory, slower); so is every
one when the budget is 0. Vectors are scored with numpy when it is installed
(the ``embeddings`` extra brings it) and in pure Python otherwise (correct,
about 100 times slower). Vectors of another length than the embedder's (a
``memory reembed`` to another model under way) are left out.
"""

from __future__ import annotations

import heapq
import importlib
import importlib.util
import math
import operator
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.protocol import Op

__all__ = ["ScopeVectors", "VectorCache", "cached_ranking", "numpy_module"]

_numpy: list[Any] = []


def numpy_module() -> Any:
    """numpy where it is installed (optional: the embeddings extra brings it), else None; imported at the
    first use, so importing the library never loads it."""
    if not _numpy:
        _numpy.append(importlib.import_module("numpy") if importlib.util.find_spec("numpy") is not None else None)
    return _numpy[0]


_LITTLE = sys.byteorder == "little"
#: Entries from which search ranks by centered cosine (see :class:`ScopeVectors`).
CENTER_MIN = 100
#: Bytes of bookkeeping per cached vector beyond its floats (key string, index entry), for the budget.
_ENTRY_OVERHEAD = 120


class ScopeVectors:
    """The vectors of one (app, user, owner) at one revision: a dense matrix (numpy) or a list of arrays.

    Ranking is by cosine *after centering*: the mean of the held vectors is
    subtracted from them and from the query (see :meth:`top`). Embeddings of a
    large memory crowd around a common direction, and entries near it (short
    generic turns, chatter) come out near to every query ("hubs"); centering
    removes that shared part. Measured on W5 (20,000 entries, all-MiniLM-L6-v2):
    paraphrase recall@5 0.867 -> 0.911, frequent-word questions 0.90 -> 0.95,
    keyword questions 1.0 either way. Below :data:`CENTER_MIN` entries the mean
    says little about the distribution, and plain cosine ranks.
    """

    def __init__(self, dimensions: int, revision: int) -> None:
        self.dimensions = dimensions
        self.revision = revision
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self._rows: list[array[float]] = []  # pure Python
        self._matrix: Any = None  # numpy: capacity x dimensions float32, the first len(ids) rows in use
        self._mean: list[float] | None = None  # of the held vectors, computed when first needed after a change
        self._centering: Any = None  # numpy: (each row's dot product with the mean, its centered length)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return len(self.ids) * (self.dimensions * 4 + _ENTRY_OVERHEAD)

    def mean(self) -> list[float]:
        """The mean of the held vectors (computed once per change)."""
        numpy = numpy_module()
        if self._mean is None:
            size = len(self.ids)
            if numpy is not None:
                found: list[float] = self._matrix[:size].mean(axis=0, dtype=numpy.float64).tolist()
                self._mean = found
            else:
                self._mean = [sum(column) / size for column in zip(*self._rows, strict=True)]
        return self._mean

    def put(self, event_id: str, blob: bytes | None) -> None:
        """Set (or, with ``blob`` None or of another length, remove) one entry's vector."""
        if blob is None or len(blob) != self.dimensions * 4:
            self.remove(event_id)
            return
        numpy = numpy_module()
        position = self.positions.get(event_id)
        self._mean = self._centering = None
        if numpy is not None:
            row = numpy.frombuffer(blob, dtype="<f4")
            if position is None:
                position = len(self.ids)
                self._grow(position + 1)
                self.ids.append(event_id)
                self.positions[event_id] = position
            self._matrix[position] = row
            return
        values = array("f")
        values.frombytes(blob)
        if not _LITTLE:
            values.byteswap()  # the bytes are little-endian
        if position is None:
            self.positions[event_id] = len(self.ids)
            self.ids.append(event_id)
            self._rows.append(values)
        else:
            self._rows[position] = values

    def _grow(self, needed: int) -> None:
        numpy = numpy_module()
        if self._matrix is None:
            self._matrix = numpy.empty((max(needed, 64), self.dimensions), dtype=numpy.float32)
        elif needed > self._matrix.shape[0]:
            bigger = numpy.empty((max(needed, self._matrix.shape[0] * 2), self.dimensions), dtype=numpy.float32)
            bigger[: len(self.ids)] = self._matrix[: len(self.ids)]
            self._matrix = bigger

    def remove(self, event_id: str) -> None:
        """Drop one entry (the last one moves into its place: the rows stay dense)."""
        position = self.positions.pop(event_id, None)
        if position is None:
            return
        numpy = numpy_module()
        self._mean = self._centering = None
        last = len(self.ids) - 1
        if position != last:
            moved = self.ids[last]
            self.ids[position] = moved
            self.positions[moved] = position
            if numpy is not None:
                self._matrix[position] = self._matrix[last]
            else:
                self._rows[position] = self._rows[last]
        self.ids.pop()
        if numpy is None:
            self._rows.pop()

    def top(
        self, query: Sequence[float], count: int, floor: float = -math.inf, *, center: bool = True
    ) -> list[tuple[str, float]]:
        """The ``count`` entries nearest ``query`` (centered cosine, see the class docstring; ``center``
        false: plain cosine), best first, among those whose plain cosine is above ``floor``; each with its
        plain cosine."""
        size = len(self.ids)
        if not size or count <= 0:
            return []
        numpy = numpy_module()
        centered = center and size >= CENTER_MIN
        mean = self.mean() if centered else []
        if numpy is not None:
            rows = self._matrix[:size]
            cosines = scores = rows @ numpy.asarray(query, dtype=numpy.float32)
            if centered:
                # cos(d - m, q - m) up to the query's constant length: (d.q - d.m - q.m + m.m) / |d - m|,
                # with d.m and |d - m| kept per change (one matrix-vector product per search, not two).
                mean_sq = float(numpy.dot(mean, mean))
                if self._centering is None:
                    toward = rows @ numpy.asarray(mean, dtype=numpy.float32)
                    self._centering = (toward, numpy.sqrt(numpy.maximum(1.0 - 2.0 * toward + mean_sq, 1e-12)))
                toward, lengths = self._centering
                scores = (cosines - toward - float(numpy.dot(query, mean)) + mean_sq) / lengths
            scores = numpy.where(cosines > floor, scores, -numpy.inf)
            kept = int(numpy.count_nonzero(cosines > floor))
            count = min(count, kept)
            if count <= 0:
                return []
            picked = numpy.argpartition(-scores, count - 1)[:count] if count < size else numpy.arange(size)
            ordered = picked[numpy.argsort(-scores[picked], kind="stable")]
            return [(self.ids[int(i)], float(cosines[int(i)])) for i in ordered]
        mean_sq = sum(value * value for value in mean)
        query_mean = sum(map(operator.mul, query, mean), 0.0)
        ranked: list[tuple[float, int, float]] = []
        for index, row in enumerate(self._rows):
            cosine = sum(map(operator.mul, row, query), 0.0)
            if cosine <= floor:
                continue
            score = cosine
            if centered:
                toward = sum(map(operator.mul, row, mean), 0.0)
                score = (cosine - toward - query_mean + mean_sq) / max(1.0 - 2.0 * toward + mean_sq, 1e-12) ** 0.5
            ranked.append((score, index, cosine))
        return [(self.ids[index], cosine) for _, index, cosine in heapq.nlargest(count, ranked)]


def merge_top(found: Iterable[tuple[str, float]], count: int) -> list[tuple[str, float]]:
    """The ``count`` best of several partial rankings."""
    return heapq.nlargest(count, found, key=operator.itemgetter(1))


class VectorCache:
    """Per (app, user, owner) :class:`ScopeVectors`, least recently used first out past ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.lock = threading.Lock()
        self._entries: OrderedDict[Hashable, ScopeVectors] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return sum(entry.nbytes for entry in self._entries.values())

    def get(self, key: Hashable) -> ScopeVectors | None:
        with self.lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def keep(self, key: Hashable, entry: ScopeVectors) -> None:
        """Hold ``entry`` for ``key`` (dropping the least recently used past the budget); too big alone: not held."""
        with self.lock:
            self._entries.pop(key, None)
            if entry.nbytes > self.budget:
                return
            self._entries[key] = entry
            total = sum(held.nbytes for held in self._entries.values())
            while total > self.budget and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                total -= dropped.nbytes

    def drop(self, key: Hashable) -> None:
        with self.lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self._entries.clear()


def _cache_key(app_name: str, user_id: str, owner: Any) -> Hashable | None:
    key = (app_name, user_id, owner)
    try:
        hash(key)
    except TypeError:
        return None  # an unhashable owner value: streamed, never held
    return key


def cached_ranking(
    sql: MemorySQL,
    cache: VectorCache,
    *,
    app_name: str,
    user_id: str,
    owner: Any,
    query: Sequence[float],
    count: int,
    floor: float = -math.inf,
    exclude: frozenset[str] = frozenset(),
) -> Op[list[tuple[str, float]]]:
    """The ``count`` (event_id, cosine) nearest ``query`` among the (app, user, owner)'s stored vectors, best first.

    Reads the revision; then nothing more (the held vectors are current), the
    rows written since (held vectors one revision behind), or every vector in
    pages (none held, or the revision went back: the rows were removed and
    written again). Only entries whose cosine is above ``floor`` count. ``exclude``: ids known to be gone
    (dropped from the held vectors).
    """
    dimensions = len(query)
    row = yield sql.revision_stmt(app_name, user_id)
    revision = int(row[0]) if row and row[0] is not None else 0
    key = _cache_key(app_name, user_id, owner)
    entry = cache.get(key) if key is not None else None
    if entry is not None and (entry.revision > revision or entry.dimensions != dimensions):
        entry = None
    if entry is not None and entry.revision < revision:
        rows = yield sql.vector_delta_stmt(app_name, user_id, owner, entry.revision)
        with cache.lock:
            for event_id, value in rows:
                entry.put(str(event_id), sql.vector_value(value))
            entry.revision = max(entry.revision, revision)
        if key is not None:
            cache.keep(key, entry)  # it grew: the budget is checked again
    if entry is None:
        wanted = count + len(exclude)
        entry, streamed = yield from _load(sql, cache, app_name, user_id, owner, query, wanted, floor, revision)
        if entry is None:
            return [(event_id, score) for event_id, score in streamed if event_id not in exclude][:count]
        if key is not None:
            cache.keep(key, entry)
    with cache.lock:
        for event_id in exclude:
            entry.remove(event_id)
        return entry.top(query, count, floor)


def _load(
    sql: MemorySQL,
    cache: VectorCache,
    app_name: str,
    user_id: str,
    owner: Any,
    query: Sequence[float],
    count: int,
    floor: float,
    revision: int,
) -> Op[tuple[ScopeVectors | None, list[tuple[str, float]]]]:
    """Read every stored vector in pages: into a :class:`ScopeVectors` while it fits the budget, else scored
    page by page by plain cosine (no mean to center on: it would take a second pass); then the entry is None
    and the ranking comes back."""
    dimensions = len(query)
    entry: ScopeVectors | None = ScopeVectors(dimensions, revision)
    best: list[tuple[str, float]] = []
    after: str | None = None
    while True:
        rows = yield sql.vector_page_stmt(app_name, user_id, owner, after, sql.vector_page)
        page = entry if entry is not None else ScopeVectors(dimensions, revision)
        for event_id, value in rows:
            page.put(str(event_id), sql.vector_value(value))
        if entry is not None and entry.nbytes > cache.budget:
            entry = None  # past the budget: score what was read and go on page by page
        if entry is None:
            best = merge_top([*best, *page.top(query, count, floor, center=False)], count)
        if len(rows) < sql.vector_page:
            return entry, best
        after = str(rows[-1][0])
