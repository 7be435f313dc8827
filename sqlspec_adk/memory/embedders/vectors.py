"""Vectors as bytes (float32, little-endian) and a pure-Python cosine, for the portable storage fallback.

A backend without a native vector type stores each vector as a BLOB of
``4 * dimensions`` bytes: :func:`vector_bytes` writes it, :func:`vector_from_bytes`
reads it back. The same bytes on every platform (little-endian IEEE 754
single precision), so a database file moves between machines unchanged.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from sqlspec_adk.vectors import vector_bytes, vector_from_bytes

__all__ = ["cosine", "dot", "vector_bytes", "vector_from_bytes"]


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """The dot product of two vectors of one length: their cosine when both have unit length."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    return sum(map(operator.mul, a, b), 0.0)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two vectors of one length, in [-1, 1]; 0.0 when either is all zeros."""
    product = dot(a, b)
    norms = math.sqrt(math.fsum(value * value for value in a)) * math.sqrt(math.fsum(value * value for value in b))
    if norms == 0.0:
        return 0.0
    return max(-1.0, min(1.0, product / norms))
