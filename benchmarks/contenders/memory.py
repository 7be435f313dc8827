"""W5 contenders: this library's ``SQLSpecMemoryService`` per adapter, ADK's ``SqliteMemoryService``
and ``InMemoryMemoryService``. All return at most :data:`MAX_RESULTS` entries per search."""

from __future__ import annotations

import abc
from functools import partial
from typing import Any

from google.adk.events.event import Event
from google.adk.memory.base_memory_service import BaseMemoryService

from benchmarks.contenders.adapters import Adapter, available_adapters, close_config, make_config
from benchmarks.contenders.base import APP, Endpoint, Family, Spec, counter_for
from sqlspec_adk.modes import call

__all__ = ["MAX_RESULTS", "MEMORY_USER", "MemoryContender", "memory_specs"]

#: Results per search for every contender (ADK's SqliteMemoryService defaults to 50, this library to 20).
MAX_RESULTS = 20
MEMORY_USER = "u-memory"


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
    def __init__(self, adapter: Adapter, endpoint: Endpoint) -> None:
        from sqlspec_adk.memory.service import SQLSpecMemoryService

        self.config = make_config(adapter, endpoint, memory_max_results=MAX_RESULTS)
        self.store: Any = adapter.classes()[2](self.config)
        self.service = SQLSpecMemoryService(self.store)

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


def memory_specs(family: Family) -> list[Spec]:
    if family == "memory":
        return [
            Spec(
                "adk-memory-inmemory", "ceiling", "memory", "-", "ADK InMemoryMemoryService", AdkInMemoryMemory, "none"
            )
        ]
    specs = []
    counter = counter_for(family)
    for adapter in available_adapters():
        if adapter.family == family:
            specs.append(
                Spec(
                    f"ours-memory-{adapter.name}",
                    "ours",
                    adapter.family,
                    adapter.name,
                    f"sqlspec-adk {adapter.name}",
                    partial(OursMemory, adapter),
                    counter,
                )
            )
    if family == "sqlite":
        specs.append(
            Spec(
                "adk-memory-sqlite", "adk", "sqlite", "aiosqlite", "ADK SqliteMemoryService", AdkSqliteMemory, "sqlite"
            )
        )
    return specs
