"""``GeminiEmbedder``: embeddings from the Gemini API (or Vertex AI) over google-genai.

google-genai comes with google-adk, so this needs no extra. It calls
``client.aio.models.embed_content`` (the async client: the event loop is never
blocked), at most ``batch_size`` texts per call (the Gemini API takes 100), with
``output_dimensionality`` and a task type: ``RETRIEVAL_DOCUMENT`` for stored
entries, ``RETRIEVAL_QUERY`` for searches.

Not exercised against the live service by this project's tests (they have no
network): it is unit-tested with a stub client only. Retries, quotas and
credentials are the client's (``genai.Client(...)``, ``http_options``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlspec_adk.errors import ConfigError

if TYPE_CHECKING:
    from google.genai import types

__all__ = ["GEMINI_BATCH_LIMIT", "GeminiEmbedder"]

#: Texts per ``embed_content`` call the Gemini API accepts (Vertex AI may accept fewer for some models).
GEMINI_BATCH_LIMIT = 100
DEFAULT_MODEL = "gemini-embedding-001"
#: 768 by default: gemini-embedding-001 is trained to be truncated (768, 1536 or 3072), and pgvector's HNSW
#: index takes at most 2,000 dimensions.
DEFAULT_DIMENSIONS = 768


class _AsyncModels(Protocol):
    async def embed_content(
        self, *, model: str, contents: list[str], config: types.EmbedContentConfig
    ) -> types.EmbedContentResponse: ...


class _AsyncClient(Protocol):
    @property
    def models(self) -> _AsyncModels: ...


class GenaiClient(Protocol):
    """What :class:`GeminiEmbedder` uses of a ``google.genai.Client``."""

    @property
    def aio(self) -> _AsyncClient: ...


class GeminiEmbedder:
    """Gemini embeddings (see the module docstring); ``name`` is ``gemini:<model>``.

    - ``client``: a ``google.genai.Client``; by default one is made at the first
      call from the environment (``GOOGLE_API_KEY``, or the Vertex AI variables).
    - ``output_dimensionality``: the vector length asked for, and ``dimensions``.
    - ``document_task_type`` / ``query_task_type``: the task types sent with
      stored texts and with searches (``None`` sends none).
    - ``batch_size``: texts per call, at most :data:`GEMINI_BATCH_LIMIT`.
    - ``config``: further ``EmbedContentConfig`` fields (e.g. ``auto_truncate``).

    Vectors of fewer than 3072 dimensions are not normalized by the API; the store normalizes every vector.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        client: GenaiClient | None = None,
        *,
        output_dimensionality: int = DEFAULT_DIMENSIONS,
        document_task_type: str | None = "RETRIEVAL_DOCUMENT",
        query_task_type: str | None = "RETRIEVAL_QUERY",
        batch_size: int = GEMINI_BATCH_LIMIT,
        config: dict[str, Any] | None = None,
    ) -> None:
        model = model.strip() if isinstance(model, str) else model
        if not isinstance(model, str) or not model:
            raise ConfigError(f"GeminiEmbedder needs a model name, got {model!r}")
        dimensions = output_dimensionality
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            raise ConfigError(f"output_dimensionality must be a positive integer, got {dimensions!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= GEMINI_BATCH_LIMIT:
            raise ConfigError(f"batch_size must be between 1 and {GEMINI_BATCH_LIMIT}, got {batch_size!r}")
        self.model = model
        self._client = client
        self._dimensions = dimensions
        self.document_task_type = document_task_type
        self.query_task_type = query_task_type
        self.batch_size = batch_size
        self.config = dict(config or {})
        for reserved in ("output_dimensionality", "task_type"):
            if reserved in self.config:
                raise ConfigError(f"GeminiEmbedder config: set {reserved!r} through its own argument")

    @property
    def name(self) -> str:
        return f"gemini:{self.model.removeprefix('models/')}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def __repr__(self) -> str:
        return f"GeminiEmbedder(model={self.model!r}, output_dimensionality={self._dimensions})"

    @property
    def client(self) -> GenaiClient:
        if self._client is None:
            from google import genai

            self._client = genai.Client()
        return self._client

    async def _embed(self, texts: Sequence[str], task_type: str | None) -> list[Sequence[float]]:
        from google.genai import types

        config = types.EmbedContentConfig(**self.config, output_dimensionality=self._dimensions, task_type=task_type)
        models = self.client.aio.models
        vectors: list[Sequence[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            response = await models.embed_content(model=self.model, contents=batch, config=config)
            embeddings = response.embeddings or []
            if len(embeddings) != len(batch):
                raise RuntimeError(f"embed_content returned {len(embeddings)} embeddings for {len(batch)} texts")
            for embedding in embeddings:
                if embedding.values is None:
                    raise RuntimeError("embed_content returned an embedding without values")
                vectors.append(embedding.values)
        return vectors

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        """Vectors of texts to store (task type ``document_task_type``)."""
        return await self._embed(texts, self.document_task_type)

    async def embed_query(self, texts: Sequence[str]) -> list[Sequence[float]]:
        """Vectors of search queries (task type ``query_task_type``)."""
        return await self._embed(texts, self.query_task_type)
