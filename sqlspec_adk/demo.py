"""An offline ADK agent for the demo and the end-to-end tests.

``ScriptedLlm`` needs no network and no API key: for a user message it calls
the ``remember`` tool with the message text, and after the tool answers it
replies with text. The tool writes session, ``user:`` and ``app:`` state and
saves an artifact, so one turn exercises every store.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents.llm_agent import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.tools.tool_context import ToolContext
from google.genai import types

__all__ = ["ScriptedLlm", "build_agent", "remember"]


class ScriptedLlm(BaseLlm):
    """A deterministic model: tool call for user text, text reply after the tool."""

    model: str = "scripted-offline"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        last = llm_request.contents[-1] if llm_request.contents else None
        parts = last.parts or [] if last else []
        response = next((p.function_response for p in parts if p.function_response), None)
        if response is not None:
            result = response.response or {}
            text = f"Noted '{result.get('note', '')}'. I now remember {result.get('count', 0)} note(s)."
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))
            return
        note = " ".join(p.text for p in parts if p.text) or "(empty)"
        call = types.FunctionCall(name="remember", args={"note": note})
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(function_call=call)]))


async def remember(note: str, tool_context: ToolContext) -> dict[str, Any]:
    """Remember a note: session, user and app state, plus an artifact holding all notes."""
    notes = [*tool_context.state.get("user:notes", []), note]
    tool_context.state["user:notes"] = notes
    tool_context.state["turns"] = tool_context.state.get("turns", 0) + 1
    tool_context.state["app:total_notes"] = tool_context.state.get("app:total_notes", 0) + 1
    tool_context.state["temp:last_note"] = note
    version = await tool_context.save_artifact(
        "notes.txt", types.Part(inline_data=types.Blob(mime_type="text/plain", data="\n".join(notes).encode("utf-8")))
    )
    return {"note": note, "count": len(notes), "artifact_version": version}


def build_agent() -> LlmAgent:
    """The demo agent: a scripted model and one tool."""
    return LlmAgent(
        name="notebook",
        model=ScriptedLlm(),
        instruction="Remember what the user says.",
        tools=[remember],
    )
