"""Embedders without a model: the fake embedder, the string forms, the checked calls and their one error type,
GeminiEmbedder on a stub client, SentenceTransformersEmbedder on a stand-in module, vectors as bytes."""

from __future__ import annotations

import ast
import asyncio
import importlib.machinery
import math
import os
import struct
import subprocess
import sys
import textwrap
import threading
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from google.genai import types as genai_types

from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.embedders import (
    Embedder,
    EmbeddingError,
    FakeEmbedder,
    GeminiEmbedder,
    SentenceTransformersEmbedder,
    cosine,
    dot,
    embed_documents,
    embed_queries,
    embed_query,
    embedder_from_string,
    embedder_identity,
    is_embedder,
    local,
    normalize,
    resolve_embedder,
    vector_bytes,
    vector_from_bytes,
)

QUESTION = "which foods should I avoid?"
FACT = "I'm allergic to peanuts"
UNRELATED = [
    "My sister lives in Lisbon",
    "The quarterly meeting moved to Tuesday",
    "I drive a red car to work",
    "Our favourite band played last night",
]


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(sum(value * value for value in vector))


# --- FakeEmbedder ---------------------------------------------------------------------------------------------


def test_fake_is_deterministic_and_normalized() -> None:
    first, second = FakeEmbedder(), FakeEmbedder()
    assert first.name == "fake:256" and first.dimensions == 256
    vector = first.vector(FACT)
    assert vector == second.vector(FACT) == first.vector(FACT)
    assert len(vector) == 256 and norm(vector) == pytest.approx(1.0)
    assert first.vector("Café CAFE") == first.vector("cafe cafe")  # the library's own tokens: folded
    assert FakeEmbedder(32).vector(FACT) != vector[:32]


def test_fake_gives_the_same_vector_in_another_process() -> None:
    """Stable hashes (not Python's per-process ``hash``): a vector stored by one process is found by the next."""
    code = "from sqlspec_adk.memory.embedders import FakeEmbedder; print(FakeEmbedder(64).vector('peanut allergy'))"
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert ast.literal_eval(run.stdout) == FakeEmbedder(64).vector("peanut allergy")


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        (QUESTION, FACT),
        ("what is my dog called?", "My puppy is named Rex"),
        ("who employs me?", "My job is at a software company"),
        ("what do I drink in the morning?", "I always have an espresso"),
        ("which instrument do I play?", "I have played the guitar since school"),
    ],
)
async def test_fake_puts_simple_paraphrases_closer_than_unrelated_facts(question: str, fact: str) -> None:
    embedder = FakeEmbedder()
    query = await embed_query(embedder, question)
    facts = await embed_documents(embedder, [fact, *UNRELATED])
    scores = [dot(query, vector) for vector in facts]
    assert scores[0] > 0.2
    assert scores[0] > max(scores[1:]), scores


def test_fake_empty_and_stopword_only_texts_still_have_a_direction() -> None:
    embedder = FakeEmbedder(16)
    for text in ["", "   ", "?!", "what is it", "🙂"]:
        assert norm(embedder.vector(text)) == pytest.approx(1.0)
    assert embedder.vector("") == embedder.vector("?!")
    assert embedder.vector("what is it") != embedder.vector("")


@pytest.mark.parametrize("dimensions", [0, 1, -5, True, 2.5, "8"])
def test_fake_refuses_bad_dimensions(dimensions: Any) -> None:
    with pytest.raises(ValueError, match="dimensions"):
        FakeEmbedder(dimensions)


# --- the checked calls ----------------------------------------------------------------------------------------


class Scripted:
    """An embedder returning whatever a test tells it to."""

    def __init__(self, result: Any = None, *, dimensions: Any = 3, error: Exception | None = None) -> None:
        self.name = "scripted"
        self.dimensions = dimensions
        self.result = result
        self.error = error
        self.calls: list[list[str]] = []

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        self.calls.append(list(texts))
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[no-any-return]


async def test_checked_calls_normalize_and_keep_order() -> None:
    embedder = Scripted([[3.0, 0.0, 4.0], (0, 2, 0)])
    vectors = await embed_documents(embedder, ["a", "b"])
    assert vectors == [[0.6, 0.0, 0.8], [0.0, 1.0, 0.0]]
    assert all(type(value) is float for vector in vectors for value in vector)
    assert embedder.calls == [["a", "b"]]


async def test_huge_values_normalize_without_overflow() -> None:
    (vector,) = await embed_documents(Scripted([[1e300, 1e300, 0.0]]), ["x"])
    assert vector == pytest.approx([math.sqrt(0.5), math.sqrt(0.5), 0.0])
    assert normalize([1.7e308] * 4) == pytest.approx([0.5] * 4)  # even the length itself past float range


async def test_no_texts_means_no_call() -> None:
    embedder = Scripted(error=RuntimeError("must not be called"))
    assert await embed_documents(embedder, []) == []
    assert await embed_queries(embedder, ()) == []
    assert embedder.calls == []


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ([[1.0, 0.0, 0.0]], "returned 1 vectors for 2 texts"),
        ([[1.0, 0.0, 0.0]] * 3, "returned 3 vectors for 2 texts"),
        ([[1.0, 0.0, 0.0], [1.0, 0.0]], "vector 1 has 2 dimensions, expected 3"),
        ([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], "vector 1 has 4 dimensions, expected 3"),
        ([[1.0, float("nan"), 0.0], [1.0, 0.0, 0.0]], "vector 0 is unusable: it holds NaN or an infinity"),
        ([[1.0, 0.0, 0.0], [float("inf"), 0.0, 0.0]], "vector 1 is unusable: it holds NaN or an infinity"),
        ([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], "vector 1 is unusable: it is all zeros"),
        ([[1.0, 0.0, 0.0], ["a", "b", "c"]], "vector 1 is not a sequence of numbers"),
        ([[1.0, 0.0, 0.0], "abc"], "vector 1 is not a sequence of numbers"),
        ([[1.0, 0.0, 0.0], None], "vector 1 is not a sequence of numbers"),
        (None, "embed returned NoneType, not a list of vectors"),
    ],
)
async def test_unusable_results_are_one_clear_error(result: Any, reason: str) -> None:
    with pytest.raises(EmbeddingError) as caught:
        await embed_documents(Scripted(result), ["first", "second"])
    assert caught.value.embedder == "scripted"
    assert reason in caught.value.reason
    assert str(caught.value).startswith("embedder 'scripted': ")
    assert isinstance(caught.value, RuntimeError)


async def test_an_embedder_that_raises_is_wrapped_with_its_cause() -> None:
    cause = ConnectionError("quota exceeded")
    with pytest.raises(EmbeddingError, match=r"embedder 'scripted': embed failed: ConnectionError\('quota exceeded'\)"):
        await embed_documents(Scripted(error=cause), ["x"])
    with pytest.raises(EmbeddingError) as caught:
        await embed_queries(Scripted(error=cause), ["x"])
    assert caught.value.__cause__ is cause


async def test_cancellation_is_not_an_embedding_error() -> None:
    with pytest.raises(asyncio.CancelledError):
        await embed_documents(Scripted(error=asyncio.CancelledError()), ["x"])


@pytest.mark.parametrize("dimensions", [0, -1, None, "3", True])
async def test_bad_declared_dimensions_are_an_embedding_error(dimensions: Any) -> None:
    with pytest.raises(EmbeddingError, match="dimensions must be a positive integer"):
        await embed_documents(Scripted([[1.0, 0.0, 0.0]], dimensions=dimensions), ["x"])


async def test_texts_must_be_strings() -> None:
    with pytest.raises(TypeError, match="not one string"):
        await embed_documents(Scripted(), "one text")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        await embed_documents(Scripted(), ["ok", b"bytes"])  # type: ignore[list-item]


async def test_queries_use_embed_query_where_the_embedder_has_it() -> None:
    class Asymmetric(Scripted):
        async def embed_query(self, texts: Sequence[str]) -> list[Sequence[float]]:
            return [[0.0, 0.0, 5.0] for _ in texts]

    embedder = Asymmetric([[1.0, 0.0, 0.0]])
    assert await embed_query(embedder, "q") == [0.0, 0.0, 1.0]
    assert await embed_documents(embedder, ["d"]) == [[1.0, 0.0, 0.0]]


def test_normalize() -> None:
    assert normalize([0.0, -2.0]) == [0.0, -1.0]
    with pytest.raises(ValueError, match="all zeros"):
        normalize([0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        normalize([float("nan")])


# --- string forms ---------------------------------------------------------------------------------------------

#: An importable module of embedders for the '<module>:<attribute>' form.
PLUGIN = textwrap.dedent(
    """
    from sqlspec_adk.memory.embedders import FakeEmbedder

    instance = FakeEmbedder(8)

    def factory():
        return FakeEmbedder(12)

    def broken():
        raise RuntimeError("no model here")

    def not_an_embedder():
        return 42

    class Holder:
        inner = FakeEmbedder(4)

    class Custom:
        name = "custom:v1"
        dimensions = 2

        async def embed(self, texts):
            return [[1.0, 0.0] for _ in texts]

    value = 7
    """
)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "emb_plugin_for_tests.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "emb_plugin_for_tests", raising=False)
    return "emb_plugin_for_tests"


def test_fake_string_forms() -> None:
    assert embedder_from_string("fake").name == "fake:256"
    assert embedder_from_string(" fake:64 ").dimensions == 64
    assert embedder_from_string("fake:").dimensions == 256


def test_gemini_string_form() -> None:
    embedder = embedder_from_string("gemini:gemini-embedding-001")
    assert isinstance(embedder, GeminiEmbedder)
    assert (embedder.name, embedder.dimensions, embedder.model) == (
        "gemini:gemini-embedding-001",
        768,
        "gemini-embedding-001",
    )
    assert embedder_from_string("gemini:models/text-embedding-004").name == "gemini:text-embedding-004"


def test_sentence_transformers_string_form(fake_sentence_transformers: list[Any]) -> None:
    embedder = embedder_from_string("sentence-transformers:acme/tiny-model")
    assert isinstance(embedder, SentenceTransformersEmbedder)
    assert embedder.name == "sentence-transformers:acme/tiny-model"
    assert not embedder.loaded and fake_sentence_transformers == []  # nothing loaded by parsing a config


def test_sentence_transformers_without_the_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = local.importlib.util.find_spec
    monkeypatch.setattr(
        local.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "sentence_transformers" else real_find_spec(name, *args),
    )
    with pytest.raises(ConfigError, match=r"needs sentence-transformers: install the extra \(torch==2.13.0 first"):
        embedder_from_string("sentence-transformers:all-MiniLM-L6-v2")


def test_module_attribute_forms(plugin: str) -> None:
    assert embedder_from_string(f"{plugin}:instance").dimensions == 8
    assert embedder_from_string(f"{plugin}:factory").dimensions == 12
    assert embedder_from_string(f"{plugin}:Holder.inner").dimensions == 4
    custom = embedder_from_string(f"{plugin}:Custom")
    assert custom.name == "custom:v1" and is_embedder(custom)
    assert embedder_from_string(f"{plugin}:instance") is embedder_from_string(f"{plugin}:instance")


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("broken", "calling 'broken' failed: RuntimeError('no model here')"),
        ("not_an_embedder", "'not_an_embedder' is int, not an Embedder"),
        ("value", "'value' is int, not an Embedder"),
        ("missing", "has no attribute 'missing'"),
        ("Holder.missing", "has no attribute 'Holder.missing'"),
    ],
)
def test_module_attribute_errors_name_the_value(plugin: str, suffix: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        embedder_from_string(f"{plugin}:{suffix}")
    assert f"memory_embedder '{plugin}:{suffix}'" in str(caught.value)
    assert message in str(caught.value)


def test_an_unimportable_module_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'no_such_module_xyz:thing': cannot import module 'no_such_module_xyz'"):
        embedder_from_string("no_such_module_xyz:thing")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "nonsense",
        "sentence-transformers",
        "sentence-transformers:",
        "gemini:",
        "gemini:  ",
        "http://example.com/model",
        "openai:text-embedding-3-small",  # looks like module:attribute, but 'text-embedding-3-small' is no attribute
        "fake:abc",
        "fake:1",
        "fake:-3",
        "my module:thing",
    ],
)
def test_anything_else_is_a_config_error_naming_the_value(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        embedder_from_string(value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("value", [42, b"fake", ["fake"]])
def test_a_non_string_is_a_config_error(value: Any) -> None:
    with pytest.raises(ConfigError, match="must be an Embedder or a string"):
        embedder_from_string(value)


def test_resolve_embedder() -> None:
    fake = FakeEmbedder(8)
    assert resolve_embedder(fake) is fake
    assert resolve_embedder(None) is None
    assert resolve_embedder("fake:16").dimensions == 16  # type: ignore[union-attr]
    for bad in [42, FakeEmbedder, object(), {"name": "x"}]:
        with pytest.raises(ConfigError, match="memory_embedder must be an Embedder"):
            resolve_embedder(bad)  # type: ignore[arg-type]


def test_is_embedder_reads_no_attribute() -> None:
    """Checking an embedder must not load its model (a lazy ``dimensions`` would)."""

    class Lazy:
        name = "lazy"

        @property
        def dimensions(self) -> int:
            raise AssertionError("dimensions was read")

        async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
            return []

    assert is_embedder(Lazy())
    assert resolve_embedder(Lazy()) is not None  # type: ignore[arg-type]
    assert not is_embedder(Lazy) and not is_embedder(object())
    assert isinstance(FakeEmbedder(), Embedder)


# --- GeminiEmbedder on a stub client --------------------------------------------------------------------------


class StubModels:
    def __init__(self, *, dimensions: int | None = None, drop: int = 0, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.dimensions = dimensions
        self.drop = drop
        self.error = error

    async def embed_content(
        self, *, model: str, contents: list[str], config: genai_types.EmbedContentConfig
    ) -> genai_types.EmbedContentResponse:
        self.calls.append({"model": model, "contents": list(contents), "config": config})
        if self.error is not None:
            raise self.error
        size = self.dimensions or config.output_dimensionality or 3072
        embeddings = [
            genai_types.ContentEmbedding(values=[float(len(text))] + [1.0] * (size - 1))
            for text in contents[: len(contents) - self.drop]
        ]
        return genai_types.EmbedContentResponse(embeddings=embeddings)


class StubClient:
    def __init__(self, models: StubModels) -> None:
        self.aio = types.SimpleNamespace(models=models)


async def test_gemini_batches_within_the_api_limit_with_task_types() -> None:
    models = StubModels()
    embedder = GeminiEmbedder(model="gemini-embedding-001", client=StubClient(models))
    assert (embedder.name, embedder.dimensions) == ("gemini:gemini-embedding-001", 768)
    texts = [f"fact {index}" for index in range(250)]
    vectors = await embed_documents(embedder, texts)
    assert len(vectors) == 250 and all(len(vector) == 768 for vector in vectors)
    assert [len(call["contents"]) for call in models.calls] == [100, 100, 50]
    assert [text for call in models.calls for text in call["contents"]] == texts  # order kept across batches
    assert {call["model"] for call in models.calls} == {"gemini-embedding-001"}
    config = models.calls[0]["config"]
    assert (config.output_dimensionality, config.task_type) == (768, "RETRIEVAL_DOCUMENT")
    assert norm(vectors[0]) == pytest.approx(1.0)  # the API leaves truncated vectors unnormalized; the store does not

    await embed_query(embedder, "which foods should I avoid?")
    assert models.calls[-1]["config"].task_type == "RETRIEVAL_QUERY"
    assert models.calls[-1]["contents"] == ["which foods should I avoid?"]


async def test_gemini_options() -> None:
    models = StubModels()
    embedder = GeminiEmbedder(
        "text-embedding-004",
        StubClient(models),
        output_dimensionality=256,
        document_task_type=None,
        query_task_type="QUESTION_ANSWERING",
        batch_size=2,
        config={"auto_truncate": True},
    )
    await embed_documents(embedder, ["a", "b", "c"])
    await embed_queries(embedder, ["q"])
    assert [len(call["contents"]) for call in models.calls] == [2, 1, 1]
    first, last = models.calls[0]["config"], models.calls[-1]["config"]
    assert (first.output_dimensionality, first.task_type, first.auto_truncate) == (256, None, True)
    assert last.task_type == "QUESTION_ANSWERING"


@pytest.mark.parametrize(
    ("models", "reason"),
    [
        (
            StubModels(error=RuntimeError("429 RESOURCE_EXHAUSTED")),
            "embed failed: RuntimeError('429 RESOURCE_EXHAUSTED')",
        ),
        (StubModels(drop=1), "embed_content returned 1 embeddings for 2 texts"),
        (StubModels(dimensions=3072), "vector 0 has 3072 dimensions, expected 768"),
    ],
)
async def test_gemini_failures_are_embedding_errors(models: StubModels, reason: str) -> None:
    embedder = GeminiEmbedder(client=StubClient(models))
    with pytest.raises(EmbeddingError) as caught:
        await embed_documents(embedder, ["one", "two"])
    assert caught.value.embedder == "gemini:gemini-embedding-001"
    assert reason in caught.value.reason


async def test_gemini_makes_its_default_client_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    from google import genai

    made: list[StubModels] = []

    def client() -> StubClient:
        made.append(StubModels())
        return StubClient(made[-1])

    monkeypatch.setattr(genai, "Client", client)
    embedder = GeminiEmbedder()
    assert made == []  # building a config needs no credentials
    await embed_documents(embedder, ["x"])
    await embed_documents(embedder, ["y"])
    assert len(made) == 1 and len(made[0].calls) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": ""},
        {"model": "   "},
        {"output_dimensionality": 0},
        {"batch_size": 0},
        {"batch_size": 101},
        {"config": {"task_type": "X"}},
        {"config": {"output_dimensionality": 3}},
    ],
)
def test_gemini_refuses_bad_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        GeminiEmbedder(**kwargs)


def test_genai_client_has_what_gemini_embedder_calls() -> None:
    """The stub stands in for the real client: the real one must have the same method, with these keywords."""
    import inspect

    from google.genai.models import AsyncModels

    parameters = inspect.signature(AsyncModels.embed_content).parameters
    assert {"model", "contents", "config"} <= set(parameters)
    assert inspect.iscoroutinefunction(AsyncModels.embed_content)
    assert {"output_dimensionality", "task_type"} <= set(genai_types.EmbedContentConfig.model_fields)


# --- SentenceTransformersEmbedder on a stand-in module --------------------------------------------------------


class StandInModel:
    """Records what the embedder asks of ``SentenceTransformer`` (vectors: [len(text), 1, 0, 0], unnormalized
    unless asked)."""

    def __init__(self, source: str, **kwargs: Any) -> None:
        self.prompts = {"query": "", "document": ""}
        self.source = source
        self.kwargs = kwargs
        self.encodes: list[dict[str, Any]] = []
        self.threads: set[int] = set()
        self.inside = 0
        self.overlapped = False

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, sentences: list[str], **kwargs: Any) -> Any:
        self.inside += 1
        self.overlapped |= self.inside > 1
        self.threads.add(threading.get_ident())
        self.encodes.append({"sentences": list(sentences), **kwargs})
        threading.Event().wait(0.01)
        rows = [[float(len(text)), 1.0, 0.0, 0.0] for text in sentences]
        if kwargs.get("normalize_embeddings"):
            rows = [normalize(row) for row in rows]
        self.inside -= 1
        return types.SimpleNamespace(tolist=lambda: rows)  # what numpy's array offers the embedder


@pytest.fixture
def fake_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A stand-in ``sentence_transformers`` module; the list fills with every model it loads."""
    loaded: list[Any] = []

    class SentenceTransformer(StandInModel):
        def __init__(self, source: str, **kwargs: Any) -> None:
            super().__init__(source, **kwargs)
            loaded.append(self)

    module = types.ModuleType("sentence_transformers")
    module.__spec__ = importlib.machinery.ModuleSpec("sentence_transformers", None)
    module.SentenceTransformer = SentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    monkeypatch.setattr(local, "bundled_model_path", lambda name: None)
    return loaded


async def test_sentence_transformers_loads_lazily_and_embeds_off_the_loop(
    fake_sentence_transformers: list[Any],
) -> None:
    embedder = SentenceTransformersEmbedder("acme/tiny", batch_size=7, device="cpu")
    assert embedder.name == "sentence-transformers:acme/tiny" and not embedder.loaded
    vectors = await embed_documents(embedder, ["abc", "a"])
    (model,) = fake_sentence_transformers
    assert model.source == "acme/tiny" and model.kwargs == {"device": "cpu"}
    assert embedder.dimensions == 4 and embedder.loaded
    assert threading.get_ident() not in model.threads  # never on the event loop's thread
    call = model.encodes[0]
    assert call["batch_size"] == 7 and call["normalize_embeddings"] is True and call["prompt_name"] is None
    assert vectors[0] == pytest.approx(normalize([3.0, 1.0, 0.0, 0.0]))
    await embed_documents(embedder, ["again"])
    assert len(fake_sentence_transformers) == 1  # loaded once


async def test_sentence_transformers_serializes_concurrent_calls(fake_sentence_transformers: list[Any]) -> None:
    embedder = SentenceTransformersEmbedder("acme/tiny")
    results = await asyncio.gather(*(embed_documents(embedder, [f"text {index}"]) for index in range(8)))
    assert len(results) == 8 and len(fake_sentence_transformers) == 1
    assert not fake_sentence_transformers[0].overlapped  # one encode at a time: the tokenizer is not thread-safe


async def test_sentence_transformers_uses_the_models_prompts(fake_sentence_transformers: list[Any]) -> None:
    embedder = SentenceTransformersEmbedder("acme/asymmetric").load()
    (model,) = fake_sentence_transformers
    model.prompts = {"query": "query: ", "document": "passage: "}
    await embed_query(embedder, "q")
    await embed_documents(embedder, ["d"])
    assert [call["prompt_name"] for call in model.encodes] == ["query", "document"]


async def test_sentence_transformers_load_and_dimensions(fake_sentence_transformers: list[Any]) -> None:
    embedder = SentenceTransformersEmbedder("acme/tiny", dimensions=4)
    assert embedder.dimensions == 4 and not embedder.loaded  # declared: no load to answer
    assert await embedder.aload() is embedder and embedder.loaded
    lazy = SentenceTransformersEmbedder("acme/other")
    assert lazy.dimensions == 4 and lazy.loaded  # asked before loading: loads
    wrong = SentenceTransformersEmbedder("acme/tiny", dimensions=384)
    with pytest.raises(EmbeddingError, match=r"makes 4-dimensional vectors, not the 384 declared"):
        await embed_documents(wrong, ["x"])


async def test_embedder_identity_loads_off_the_loop(fake_sentence_transformers: list[Any]) -> None:
    embedder = SentenceTransformersEmbedder("acme/tiny")
    assert await embedder_identity(embedder) == ("sentence-transformers:acme/tiny", 4)
    assert embedder.loaded
    assert await embedder_identity(FakeEmbedder(8)) == ("fake:8", 8)
    with pytest.raises(EmbeddingError, match="dimensions must be a positive integer"):
        await embedder_identity(Scripted(dimensions=0))


async def test_embedder_identity_wraps_a_failed_load(fake_sentence_transformers: list[Any]) -> None:
    embedder = SentenceTransformersEmbedder("acme/tiny", dimensions=8)
    with pytest.raises(EmbeddingError, match=r"'sentence-transformers:acme/tiny': loading the model failed"):
        await embedder_identity(embedder)


def test_sentence_transformers_names(
    fake_sentence_transformers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SentenceTransformersEmbedder(tmp_path).name == f"sentence-transformers:{tmp_path}"
    assert SentenceTransformersEmbedder("x", name="mine:v2").name == "mine:v2"
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    monkeypatch.setattr(local, "bundled_model_path", lambda name: bundle if name == "all-MiniLM-L6-v2" else None)
    for spelling in ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", str(bundle)]:
        embedder = SentenceTransformersEmbedder(spelling)
        assert embedder.name == "sentence-transformers:all-MiniLM-L6-v2", spelling
        embedder.load()
        assert fake_sentence_transformers[-1].source == str(bundle)  # the bundled copy, never the hub


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"dimensions": 0}, {"model_name_or_path": " "}])
def test_sentence_transformers_refuses_bad_options(
    fake_sentence_transformers: list[Any], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError):
        SentenceTransformersEmbedder(**{"model_name_or_path": "acme/tiny", **kwargs})


def test_importing_embedders_imports_no_model_library() -> None:
    """The base install needs neither sentence-transformers nor torch: not even parsing the string form loads them."""
    code = (
        "import sys\n"
        "from sqlspec_adk.memory.embedders import embedder_from_string, SentenceTransformersEmbedder\n"
        "try:\n"
        "    embedder_from_string('sentence-transformers:all-MiniLM-L6-v2')\n"
        "except Exception:\n"
        "    pass\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'numpy') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# --- vectors as bytes -----------------------------------------------------------------------------------------


def test_vector_bytes_round_trip() -> None:
    vector = [0.0, 1.0, -2.5, 0.125, 3.4028234663852886e38, -1e-30]
    blob = vector_bytes(vector)
    assert isinstance(blob, bytes) and len(blob) == 4 * len(vector)
    assert vector_from_bytes(blob) == [struct.unpack("<f", struct.pack("<f", value))[0] for value in vector]
    assert vector_from_bytes(blob)[:4] == [0.0, 1.0, -2.5, 0.125]  # exact where float32 holds the value
    assert vector_bytes([1.0]) == b"\x00\x00\x80\x3f"  # little-endian IEEE 754 single precision
    assert vector_from_bytes(memoryview(blob)) == vector_from_bytes(bytearray(blob)) == vector_from_bytes(blob)
    assert vector_bytes([]) == b"" and vector_from_bytes(b"") == []
    rounded = vector_from_bytes(vector_bytes([0.1]))[0]
    assert rounded != 0.1 and rounded == pytest.approx(0.1, rel=1e-7)


async def test_stored_vectors_score_like_the_originals() -> None:
    embedder = FakeEmbedder(64)
    query, fact = await embed_documents(embedder, [QUESTION, FACT])
    assert dot(vector_from_bytes(vector_bytes(query)), vector_from_bytes(vector_bytes(fact))) == pytest.approx(
        dot(query, fact), abs=1e-6
    )


@pytest.mark.parametrize("vector", [[float("nan")], [float("inf"), 0.0], [1e39]])
def test_vector_bytes_refuses_what_float32_cannot_hold(vector: list[float]) -> None:
    with pytest.raises(ValueError):
        vector_bytes(vector)


def test_vector_from_bytes_refuses_misaligned_blobs() -> None:
    with pytest.raises(ValueError, match="multiple of 4 bytes, got 5"):
        vector_from_bytes(b"\x00" * 5)


def test_cosine_and_dot() -> None:
    assert cosine([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [0.0, 3.0]) == pytest.approx(0.0)
    assert cosine([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(-1.0)
    assert cosine([0.0, 0.0], [1.0, 0.0]) == 0.0
    assert cosine([3.0, 4.0], [4.0, 3.0]) == pytest.approx(24 / 25)
    unit = normalize([3.0, 4.0])
    assert dot(unit, normalize([4.0, 3.0])) == pytest.approx(cosine([3.0, 4.0], [4.0, 3.0]))
    with pytest.raises(ValueError, match="different lengths"):
        cosine([1.0], [1.0, 0.0])
