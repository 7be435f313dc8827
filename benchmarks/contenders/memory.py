"""W5 contenders: this library's ``SQLSpecMemoryService`` per adapter and search mode, ADK's
``SqliteMemoryService`` and ``InMemoryMemoryService``. All return at most :data:`MAX_RESULTS` entries per search.

A search mode (:class:`MemoryMode`) is ``lexical`` (no key set: the library's
default), or ``semantic``/``hybrid`` with an embedder, set through
``extension_config["adk"]["memory_search_mode"]`` and ``["memory_embedder"]``.
The harness resolves an embedder's string form once per run through the
library's own ``resolve_embedder`` and hands every contender the same object,
so a local model loads once and its own time per query can be measured beside
the search (:meth:`OursMemory.embed_query_ns`). A library that refuses the keys
(a ``ConfigError`` naming them) gets its mode rows skipped with a note.
"""

from __future__ import annotations

import abc
import importlib
import importlib.util
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from google.adk.events.event import Event
from google.adk.memory.base_memory_service import BaseMemoryService

from benchmarks.contenders.adapters import Adapter, available_adapters, close_config, make_config
from benchmarks.contenders.base import APP, Endpoint, Family, Spec, counter_for
from sqlspec_adk.modes import call

__all__ = [
    "DEFAULT_MODES",
    "LEXICAL",
    "MAX_RESULTS",
    "MEMORY_USER",
    "MODE_ADAPTERS",
    "QUICK_MODES",
    "MemoryContender",
    "MemoryMode",
    "memory_specs",
    "parse_modes",
]

#: Results per search for every contender (ADK's SqliteMemoryService defaults to 50, this library to 20).
MAX_RESULTS = 20
MEMORY_USER = "u-memory"


@dataclass(frozen=True, slots=True)
class MemoryMode:
    """A search mode of this library; ``embedder`` is an embedder's string form (None for lexical)."""

    mode: str
    embedder: str | None = None

    @property
    def lexical(self) -> bool:
        return self.mode == "lexical" and self.embedder is None

    @property
    def settings(self) -> dict[str, Any]:
        """The ``extension_config["adk"]`` keys of this mode (none for the default lexical search)."""
        if self.lexical:
            return {}
        settings: dict[str, Any] = {"memory_search_mode": self.mode}
        if self.embedder is not None:
            settings["memory_embedder"] = self.embedder
        return settings

    @property
    def tag(self) -> str:
        return "lexical" if self.lexical else f"{self.mode} ({self.embedder})" if self.embedder else self.mode

    @property
    def slug(self) -> str:
        if self.lexical:
            return ""
        embedder = (self.embedder or "none").replace(":", "-").replace("/", "-")
        return f"-{self.mode}-{embedder}"


LEXICAL = MemoryMode("lexical")
MINILM = "sentence-transformers:all-MiniLM-L6-v2"
#: Full runs: lexical everywhere; semantic and hybrid with the real model (all-MiniLM-L6-v2) and the library's
#: fake embedder (plumbing only: it knows a few synonym groups, no meaning) on :data:`MODE_ADAPTERS`.
DEFAULT_MODES = (
    LEXICAL,
    MemoryMode("semantic", MINILM),
    MemoryMode("hybrid", MINILM),
    MemoryMode("hybrid", "fake:384"),
)
#: CI: no model download or load, the fake embedder only.
QUICK_MODES = (LEXICAL, MemoryMode("semantic", "fake:384"), MemoryMode("hybrid", "fake:384"))
#: The adapter of each family that runs the non-lexical modes (an embedder's cost is per call, not per driver).
MODE_ADAPTERS = {"sqlite": "aiosqlite", "postgres": "asyncpg", "mysql": "asyncmy", "duckdb": "duckdb"}


def parse_modes(text: str) -> tuple[MemoryMode, ...]:
    """``lexical,hybrid=fake:384,semantic=sentence-transformers:all-MiniLM-L6-v2`` as modes."""
    modes = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        mode, _, embedder = item.partition("=")
        if mode not in ("lexical", "semantic", "hybrid"):
            raise ValueError(f"unknown memory search mode {mode!r} (lexical, semantic, hybrid)")
        modes.append(MemoryMode(mode, embedder or None))
    return tuple(modes)


_EMBEDDERS: dict[str, Any] = {}


def resolved_embedder(text: str) -> Any:
    """The embedder ``text`` names, resolved once per run by the library (``resolve_embedder``), or ``text``
    itself when the installed library has no resolver (it is then passed to the config as a string)."""
    if text in _EMBEDDERS:
        return _EMBEDDERS[text]
    if text.startswith("sentence-transformers:"):
        # The model must come from a package or a local path (issue 15): never wait on a hub here.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    name = "sqlspec_adk.memory.embedders"
    resolver = getattr(importlib.import_module(name), "resolve_embedder", None) if _has(name) else None
    value = resolver(text) if resolver is not None else text
    _EMBEDDERS[text] = value
    return value


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


class MemoryContender(abc.ABC):
    spec: Spec
    service: BaseMemoryService

    async def open(self) -> None:
        """Create tables."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    async def settle(self) -> str | None:
        """Bring the store to the state the database reaches on its own soon after a bulk load; say what ran."""
        return None

    async def add(self, session_id: str, events: list[Event]) -> None:
        await self.service.add_events_to_memory(app_name=APP, user_id=MEMORY_USER, events=events, session_id=session_id)

    async def search(self, query: str) -> list[str]:
        """Texts of the results, best first."""
        response = await self.service.search_memory(app_name=APP, user_id=MEMORY_USER, query=query)
        texts = []
        for memory in response.memories:
            parts = memory.content.parts or [] if memory.content else []
            texts.append(" ".join(part.text or "" for part in parts))
        return texts


class OursMemory(MemoryContender):
    def __init__(self, adapter: Adapter, mode: MemoryMode, endpoint: Endpoint) -> None:
        from sqlspec_adk.memory.service import SQLSpecMemoryService

        settings = dict(mode.settings)
        if mode.embedder is not None:
            # Refused keys fail in make_config below, before any model is loaded.
            make_config(adapter, endpoint, memory_max_results=MAX_RESULTS, **settings)
            settings["memory_embedder"] = resolved_embedder(mode.embedder)
        self.mode = mode
        self.embedder: Any = settings.get("memory_embedder")
        self.config = make_config(adapter, endpoint, memory_max_results=MAX_RESULTS, **settings)
        self.store: Any = adapter.classes()[2](self.config)
        self.service = SQLSpecMemoryService(self.store)

    async def embed_query_ns(self, texts: Sequence[str]) -> list[int] | None:
        """The embedder's own time for each query, embedded once on its own (None: no embedder object)."""
        embedder = self.embedder
        if embedder is None or isinstance(embedder, str):
            return None
        embed = getattr(embedder, "embed_query", None) or embedder.embed
        await embed([texts[0]])  # a lazy model loads here, not in the first timing
        timings = []
        for text in texts:
            start = time.perf_counter_ns()
            await embed([text])
            timings.append(time.perf_counter_ns() - start)
        return timings

    async def open(self) -> None:
        await call(self.store.create_tables)

    async def settle(self) -> str | None:
        from sqlspec_adk.protocol import Op, Stmt, operation

        dialect = self.store.dialect
        if dialect.family != "postgresql":
            return None

        def analyze() -> Op[None]:
            # Autovacuum analyzes a table within about a minute of a bulk load; until then the
            # planner has no statistics and scans the (app, user) index instead of the GIN index.
            yield Stmt(f"ANALYZE {dialect.memory_table}", ())

        await self.config.arun(operation("analyze", analyze, write=True))
        return "ANALYZE"

    async def close(self) -> None:
        await close_config(self.config)


class AdkSqliteMemory(MemoryContender):
    def __init__(self, endpoint: Endpoint) -> None:
        from google.adk.memory._sqlite_memory_service import SqliteMemoryService

        self.service = SqliteMemoryService(str(endpoint.path / "memory.db"), max_results=MAX_RESULTS)

    async def close(self) -> None:
        await self.service.close()  # type: ignore[attr-defined]


class AdkInMemoryMemory(MemoryContender):
    def __init__(self, endpoint: Endpoint) -> None:
        from google.adk.memory.in_memory_memory_service import InMemoryMemoryService

        self.service = InMemoryMemoryService()


def memory_specs(family: Family, modes: Sequence[MemoryMode] = (LEXICAL,)) -> list[Spec]:
    """Every memory contender of ``family``: this library per adapter (lexical) and, on the family's
    :data:`MODE_ADAPTERS` entry, per other mode of ``modes``; ADK's services."""
    if family == "memory":
        return [
            Spec(
                "adk-memory-inmemory", "ceiling", "memory", "-", "ADK InMemoryMemoryService", AdkInMemoryMemory, "none"
            )
        ]
    specs = []
    counter = counter_for(family)
    for adapter in available_adapters():
        if adapter.family != family:
            continue
        for mode in modes:
            if not mode.lexical and adapter.name != MODE_ADAPTERS.get(family):
                continue
            specs.append(
                Spec(
                    f"ours-memory-{adapter.name}{mode.slug}",
                    "ours",
                    adapter.family,
                    adapter.name,
                    f"sqlspec-adk {adapter.name}" + ("" if mode.lexical else f" {mode.tag}"),
                    partial(OursMemory, adapter, mode),
                    counter,
                    settings=mode.settings,
                    variant=mode.tag,
                )
            )
    if family == "sqlite":
        specs.append(
            Spec(
                "adk-memory-sqlite", "adk", "sqlite", "aiosqlite", "ADK SqliteMemoryService", AdkSqliteMemory, "sqlite"
            )
        )
    return specs
