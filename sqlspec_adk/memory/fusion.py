"""Hybrid ranking: the lexical and the vector ranking of one search fused into one list.

Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): an entry at rank
``r`` (from 1) of a ranking scores ``weight / (k + r)``, and an entry's fused
score is the sum over the rankings it is in. Ranks, not scores: BM25 scores
and cosines are on unrelated scales, and every family's lexical score is
different, but ranks are comparable everywhere. An entry both rankings hold
rises above entries only one of them holds.

The constants were chosen on the W5 benchmark (20,000 entries, all-MiniLM-L6-v2, SQLite's bm25;
see docs/memory.md): with ``k`` 60 and equal weights, lexical matches on everyday words push
paraphrase answers out of the first five (recall@5 0.78); ``k`` 10 with the vector ranking counted
twice gives 0.91 on paraphrases and keeps keyword questions at 1.0 and frequent-word ones at 0.95
(lexical alone: 0.95 and 0.95).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LEXICAL_WEIGHT", "RRF_K", "VECTOR_WEIGHT", "fuse"]

#: The rank offset: larger flattens the difference between the first ranks.
RRF_K = 10
#: Weights of the two rankings.
LEXICAL_WEIGHT = 1.0
VECTOR_WEIGHT = 2.0


def fuse(
    lexical: Sequence[str],
    vector: Sequence[str],
    limit: int,
    *,
    k: float = RRF_K,
    lexical_weight: float = LEXICAL_WEIGHT,
    vector_weight: float = VECTOR_WEIGHT,
) -> list[str]:
    """The best ``limit`` keys of both rankings (each best first) by reciprocal rank fusion.

    Ties (equal fused scores) go to the key with the better single rank, then to the lexical ranking's.
    """
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}
    for which, (ranking, weight) in enumerate(((lexical, lexical_weight), (vector, vector_weight))):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
            best[key] = min(best.get(key, (rank, which)), (rank, which))
    return sorted(scores, key=lambda key: (-scores[key], best[key]))[:limit]
