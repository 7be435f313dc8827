"""Embedders for semantic memory: texts in, vectors out.

- :class:`Embedder`: the protocol (``name``, ``dimensions``, ``async embed(texts)``);
  an embedder may add ``embed_query`` for search queries (:class:`QueryEmbedder`).
- :class:`SentenceTransformersEmbedder`: a local sentence-transformers model (the
  ``embeddings`` extra), lazily loaded, run on a worker thread.
- :class:`GeminiEmbedder`: the Gemini API over google-genai (tested with a stub client only).
- :class:`FakeEmbedder`: deterministic hashed words for tests and offline demos; not semantic.
- :func:`embedder_from_string` / :func:`resolve_embedder`: the string forms
  ``sentence-transformers:<name-or-path>``, ``gemini:<model>``, ``fake:<dimensions>``,
  ``<module>:<attribute>``.
- :func:`embed_documents`, :func:`embed_queries`, :func:`embed_query`: the checked
  calls the store makes; every failure is one :class:`EmbeddingError`, every vector
  comes back with unit length; :func:`embedder_identity` gives ``(name, dimensions)``
  to record, loading a lazy model off the event loop first.
- :func:`vector_bytes`, :func:`vector_from_bytes`, :func:`cosine`, :func:`dot`: the
  portable storage fallback (float32 little-endian BLOBs scored in Python).
"""

from sqlspec_adk.memory.embedders.base import (
    Embedder,
    EmbeddingError,
    QueryEmbedder,
    embed_documents,
    embed_queries,
    embed_query,
    embedder_identity,
    is_embedder,
    normalize,
)
from sqlspec_adk.memory.embedders.fake import FakeEmbedder
from sqlspec_adk.memory.embedders.gemini import GeminiEmbedder
from sqlspec_adk.memory.embedders.local import SentenceTransformersEmbedder
from sqlspec_adk.memory.embedders.strings import embedder_from_string, resolve_embedder
from sqlspec_adk.memory.embedders.vectors import cosine, dot, vector_bytes, vector_from_bytes

__all__ = [
    "Embedder",
    "EmbeddingError",
    "FakeEmbedder",
    "GeminiEmbedder",
    "QueryEmbedder",
    "SentenceTransformersEmbedder",
    "cosine",
    "dot",
    "embed_documents",
    "embed_queries",
    "embed_query",
    "embedder_from_string",
    "embedder_identity",
    "is_embedder",
    "normalize",
    "resolve_embedder",
    "vector_bytes",
    "vector_from_bytes",
]
