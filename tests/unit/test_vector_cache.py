"""The store's vector ranking (memory/vector_cache.py) and the hybrid fusion (memory/fusion.py), without a database.

The ranking runs with numpy and, where it is missing, in pure Python: both
are checked to agree, centering included.
"""

from __future__ import annotations

import random

import pytest

from sqlspec_adk.memory import vector_cache
from sqlspec_adk.memory.embedders import normalize
from sqlspec_adk.memory.fusion import fuse
from sqlspec_adk.memory.vector_cache import CENTER_MIN, ScopeVectors, VectorCache, numpy_module
from sqlspec_adk.vectors import vector_bytes

DIMENSIONS = 8


def unit(rng: random.Random, bias: float = 0.0) -> list[float]:
    return normalize([rng.gauss(bias, 1.0) for _ in range(DIMENSIONS)])


@pytest.fixture(params=["numpy", "pure"])
def scorer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        if numpy_module() is None:
            pytest.skip("numpy is not installed")
    else:
        monkeypatch.setattr(vector_cache, "_numpy", [None])
    return str(request.param)


def filled(count: int, seed: int = 1, bias: float = 0.0) -> tuple[ScopeVectors, dict[str, list[float]]]:
    rng = random.Random(seed)
    vectors = {f"e{i:04d}": unit(rng, bias) for i in range(count)}
    entry = ScopeVectors(DIMENSIONS, revision=1)
    for key, vector in vectors.items():
        entry.put(key, vector_bytes(vector))
    return entry, vectors


def plain(vectors: dict[str, list[float]], query: list[float], count: int) -> list[str]:
    scores = {key: sum(a * b for a, b in zip(vector, query, strict=True)) for key, vector in vectors.items()}
    return sorted(scores, key=lambda key: -scores[key])[:count]


def centered(vectors: dict[str, list[float]], query: list[float], count: int) -> list[str]:
    mean = [sum(column) / len(vectors) for column in zip(*vectors.values(), strict=True)]

    def cos(vector: list[float]) -> float:
        d = [a - m for a, m in zip(vector, mean, strict=True)]
        q = [a - m for a, m in zip(query, mean, strict=True)]
        dot = sum(a * b for a, b in zip(d, q, strict=True))
        return dot / (sum(a * a for a in d) ** 0.5 * sum(a * a for a in q) ** 0.5)

    scores = {key: cos(vector) for key, vector in vectors.items()}
    return sorted(scores, key=lambda key: -scores[key])[:count]


def test_small_sets_rank_by_plain_cosine(scorer: str) -> None:
    entry, vectors = filled(CENTER_MIN - 1)
    query = unit(random.Random(9))
    found = entry.top(query, 10)
    assert [key for key, _ in found] == plain(vectors, query, 10)
    best = max(sum(a * b for a, b in zip(vector, query, strict=True)) for vector in vectors.values())
    assert found[0][1] == pytest.approx(best)


def test_large_sets_rank_by_centered_cosine(scorer: str) -> None:
    entry, vectors = filled(CENTER_MIN + 50, bias=0.8)  # a shared direction: what centering removes
    query = unit(random.Random(5), bias=0.8)
    assert [key for key, _ in entry.top(query, 10)] == centered(vectors, query, 10)
    assert [key for key, _ in entry.top(query, 10, center=False)] == plain(vectors, query, 10)
    assert centered(vectors, query, 10) != plain(vectors, query, 10)  # the check can fail


def test_the_floor_leaves_out_unrelated_entries(scorer: str) -> None:
    entry, vectors = filled(40)
    query = unit(random.Random(3))
    found = entry.top(query, 40, floor=0.0)
    assert found and all(score > 0 for _, score in found)
    positive = sum(1 for v in vectors.values() if sum(a * b for a, b in zip(v, query, strict=True)) > 0)
    assert len(found) == positive < 40


def test_put_replace_remove_and_wrong_lengths(scorer: str) -> None:
    entry, vectors = filled(5)
    query = vectors["e0003"]
    assert entry.top(query, 1)[0][0] == "e0003"
    entry.put("e0003", vector_bytes([-value for value in query]))  # replaced: now the farthest
    assert entry.top(query, 5)[-1][0] == "e0003"
    entry.remove("e0001")
    entry.remove("missing")
    entry.put("e0004", b"\x00" * 12)  # another length (a reembed to another model): dropped
    entry.put("e0000", None)  # no vector any more: dropped
    assert sorted(key for key, _ in entry.top(query, 10)) == ["e0002", "e0003"]
    assert len(entry) == 2 and entry.nbytes > 0


def test_the_cache_keeps_the_most_recent_within_its_budget() -> None:
    one, _ = filled(10)
    cache = VectorCache(budget=int(one.nbytes * 2.5))
    for key in ("a", "b", "c"):
        cache.keep(key, filled(10)[0])
        assert cache.get(key) is not None
    assert cache.get("a") is None and len(cache) == 2  # the least recently used went first
    cache.get("b")
    cache.keep("d", filled(10)[0])
    assert cache.get("c") is None and cache.get("b") is not None
    cache.keep("big", filled(100)[0])  # larger than the whole budget: never held
    assert cache.get("big") is None
    assert cache.nbytes <= cache.budget
    cache.clear()
    assert len(cache) == 0


def test_fusion_ranks_by_reciprocal_rank() -> None:
    lexical = ["a", "b", "c"]
    vector = ["c", "d", "a"]
    # c and a are in both rankings; the vector ranking counts twice (VECTOR_WEIGHT).
    assert fuse(lexical, vector, 4) == ["c", "a", "d", "b"]
    assert fuse(lexical, vector, 2, lexical_weight=1.0, vector_weight=0.0)[:2] == ["a", "b"]
    assert fuse([], vector, 10) == vector
    assert fuse(lexical, [], 2) == ["a", "b"]
    assert fuse(["x"], ["y"], 5, vector_weight=1.0) == ["x", "y"]  # a tie goes to the lexical ranking
