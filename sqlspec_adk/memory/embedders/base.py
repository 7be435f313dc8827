"""The ``Embedder`` protocol, its one error type, and the checked calls the memory store makes.

An embedder turns texts into vectors. The store never calls ``embed`` directly:
it calls :func:`embed_documents` (at ingest) and :func:`embed_queries` /
:func:`embed_query` (at search), which check what came back and normalize it,
so every stored and every query vector has unit length and cosine similarity is
a plain dot product in any backend. Whatever goes wrong (the embedder raises,
returns the wrong number of vectors, a vector of the wrong length, a NaN or an
infinity, an all-zero vector) is one :class:`EmbeddingError` naming the
embedder and what was wrong.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeGuard, runtime_checkable

from sqlspec_adk.errors import EmbeddingError

__all__ = [
    "Embedder",
    "EmbeddingError",
    "QueryEmbedder",
    "embed_documents",
    "embed_queries",
    "embed_query",
    "embedder_identity",
    "is_embedder",
    "normalize",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of ``dimensions`` floats.

    - ``name``: a stable identifier of the model (it is recorded beside the
      stored vectors; a store opened with another name refuses to mix them).
    - ``dimensions``: the length of every vector ``embed`` returns.
    - ``embed(texts)``: one vector per text, in order. It must not block the
      event loop (run a local model on a worker thread). Vectors need not be
      normalized; the store normalizes them.

    An embedder that distinguishes questions from documents (an asymmetric model,
    a task type) may also have ``embed_query`` (see :class:`QueryEmbedder`):
    ``embed`` is then used for stored entries and ``embed_query`` for searches.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]: ...


@runtime_checkable
class QueryEmbedder(Embedder, Protocol):
    """An :class:`Embedder` that embeds search queries differently from stored documents."""

    async def embed_query(self, texts: Sequence[str]) -> list[Sequence[float]]: ...


def is_embedder(value: object) -> TypeGuard[Embedder]:
    """Whether ``value`` is an embedder instance: ``name``, ``dimensions`` and a callable ``embed``.

    Checked without reading the attributes (``isinstance(value, Embedder)`` reads them on Python 3.11,
    and a lazy model's ``dimensions`` would load it).
    """
    if isinstance(value, type):
        return False
    try:
        for member in ("name", "dimensions", "embed"):
            inspect.getattr_static(value, member)
    except AttributeError:
        return False
    return callable(getattr(value, "embed", None))


def _name_of(embedder: object) -> str:
    try:
        name = getattr(embedder, "name", None)
    except Exception:  # a broken name property must not hide the real error
        name = None
    return name if isinstance(name, str) and name else type(embedder).__name__


def _dimensions_of(embedder: Embedder, name: str) -> int:
    try:
        dimensions = embedder.dimensions
    except Exception as error:
        raise EmbeddingError(name, f"its dimensions could not be read: {error!r}") from error
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions <= 0:
        raise EmbeddingError(name, f"dimensions must be a positive integer, got {dimensions!r}")
    return dimensions


def normalize(vector: Sequence[float]) -> list[float]:
    """``vector`` scaled to unit length; ``ValueError`` for an all-zero or non-finite vector."""
    values = [float(value) for value in vector]
    if not math.isfinite(sum(values)) and not all(math.isfinite(value) for value in values):
        raise ValueError("it holds NaN or an infinity")
    norm = math.hypot(*values)  # scaled internally: no square overflows
    if norm == 0.0:
        raise ValueError("it is all zeros (it has no direction)")
    if math.isinf(norm):  # only the length itself is past float range
        largest = max(abs(value) for value in values)
        values = [value / largest for value in values]
        norm = math.hypot(*values)
    return [value / norm for value in values]


def _floats(row: object) -> list[float] | None:
    """``row`` as floats, or None when it is not a sequence of numbers (text is not, though ``float`` reads it)."""
    if not isinstance(row, Iterable) or isinstance(row, str | bytes | bytearray):
        return None
    items = list(row)
    if not all(type(item) is float or not isinstance(item, str | bytes | bytearray) for item in items):
        return None
    try:
        return [float(item) for item in items]
    except (TypeError, ValueError, OverflowError):
        return None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_vectors(name: str, dimensions: int, count: int, vectors: object) -> list[list[float]]:
    """What an embedder returned for ``count`` texts, checked and normalized (see the module docstring)."""
    if not isinstance(vectors, Iterable) or isinstance(vectors, str | bytes):
        raise EmbeddingError(name, f"embed returned {type(vectors).__name__}, not a list of vectors")
    rows = list(vectors)
    if len(rows) != count:
        raise EmbeddingError(name, f"embed returned {len(rows)} vectors for {count} texts")
    checked: list[list[float]] = []
    for index, row in enumerate(rows):
        values = _floats(row)
        if values is None:
            raise EmbeddingError(name, f"vector {index} is not a sequence of numbers: {_short(row)}")
        if len(values) != dimensions:
            raise EmbeddingError(name, f"vector {index} has {len(values)} dimensions, expected {dimensions}")
        try:
            checked.append(normalize(values))
        except ValueError as error:
            raise EmbeddingError(name, f"vector {index} is unusable: {error}") from None
    return checked


async def _embed(embedder: Embedder, texts: Sequence[str], *, query: bool) -> list[list[float]]:
    name = _name_of(embedder)
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string")
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] must be a string, got {type(text).__name__}")
    if not texts:
        return []
    method = getattr(embedder, "embed_query", None) if query else None
    if not callable(method):
        method = embedder.embed
    try:
        vectors = await method(texts)
    except EmbeddingError:
        raise
    except Exception as error:
        raise EmbeddingError(name, f"embed failed: {error!r}") from error
    # Read after the call: a lazily loaded local model knows its dimensions once loaded (on its worker thread).
    return check_vectors(name, _dimensions_of(embedder, name), len(texts), vectors)


async def embedder_identity(embedder: Embedder) -> tuple[str, int]:
    """``(name, dimensions)`` to record beside stored vectors, loading a lazy model first on its worker thread
    (``aload``, where the embedder has it), so asking never blocks the event loop; :class:`EmbeddingError` when
    the model cannot be loaded or states no usable dimensions."""
    name = _name_of(embedder)
    aload = getattr(embedder, "aload", None)
    if callable(aload):
        try:
            await aload()
        except Exception as error:
            raise EmbeddingError(name, f"loading the model failed: {error!r}") from error
    return name, _dimensions_of(embedder, name)


async def embed_documents(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Unit vectors for texts to store, one per text, in order; :class:`EmbeddingError` on any failure."""
    return await _embed(embedder, texts, query=False)


async def embed_queries(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Unit vectors for search queries (``embed_query`` where the embedder has it, else ``embed``)."""
    return await _embed(embedder, texts, query=True)


async def embed_query(embedder: Embedder, text: str) -> list[float]:
    """The unit vector of one search query."""
    (vector,) = await embed_queries(embedder, [text])
    return vector
