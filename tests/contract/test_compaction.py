"""``skip_compacted_events``: the model sees exactly what it sees from the full session, from fewer rows.

An ADK ``App`` with an ``EventsCompactionConfig`` (sliding window, a
deterministic summarizer) runs the offline scripted agent for several turns,
once over a service loading every event and once over a service loading only
the compaction events and the events no compaction covers. ADK's own request
processors build each model call's contents; a recording model keeps them,
and the two runs must have sent the model the same contents, call for call.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from google.adk.apps.app import App, EventsCompactionConfig
from google.adk.apps.base_events_summarizer import BaseEventsSummarizer
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions, EventCompaction
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.genai import types

from sqlspec_adk.demo import ScriptedLlm, build_agent

APP = "compacting_app"
TURNS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]


class RecordingLlm(ScriptedLlm):
    """The scripted model, keeping the contents of every request it answers (function call ids left out)."""

    calls: ClassVar[list[Any]] = []

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        self.calls.append([_normalized(content) for content in llm_request.contents])
        async for response in super().generate_content_async(llm_request, stream):
            yield response


def _normalized(content: types.Content) -> Any:
    dumped = content.model_dump(mode="json", exclude_none=True)
    for part in dumped.get("parts", []):
        for kind in ("function_call", "function_response"):
            part.get(kind, {}).pop("id", None)  # fresh ids per run; the pairing is what matters
    return dumped


class CountingSummarizer(BaseEventsSummarizer):
    """A deterministic summary: which texts the compacted events held."""

    async def maybe_summarize_events(self, *, events: list[Event]) -> Event | None:
        if not events:
            return None
        texts = [p.text for e in events if e.content for p in e.content.parts or [] if p.text]
        summary = types.Content(role="model", parts=[types.Part(text="summary: " + ",".join(t[:8] for t in texts))])
        compaction = EventCompaction(
            start_timestamp=events[0].timestamp, end_timestamp=events[-1].timestamp, compacted_content=summary
        )
        return Event(author="user", actions=EventActions(compaction=compaction))


async def _run(backend: Any, *, skip: bool) -> tuple[list[Any], Any]:
    config = backend.config()
    sessions = await backend.sessions(config)
    sessions.skip_compacted_events = skip
    artifacts = await backend.artifacts(config)
    agent = build_agent()
    agent.model = RecordingLlm()
    RecordingLlm.calls = []
    compacting = EventsCompactionConfig(summarizer=CountingSummarizer(), compaction_interval=2, overlap_size=0)
    # Each run its own app (app: and user: state are per app): the runs must not see each other's notes.
    app_name = f"{APP}_{'skip' if skip else 'full'}"
    app = App(name=app_name, root_agent=agent, events_compaction_config=compacting)
    runner = Runner(app=app, session_service=sessions, artifact_service=artifacts)
    session = await sessions.create_session(app_name=app_name, user_id="u", session_id="s")
    for text in TURNS:
        message = types.Content(role="user", parts=[types.Part(text=text)])
        async for _ in runner.run_async(user_id="u", session_id=session.id, new_message=message):
            pass
    return list(RecordingLlm.calls), sessions


async def test_the_model_sees_the_same_history_from_fewer_rows(backend: Any) -> None:
    full_calls, full = await _run(backend, skip=False)
    skipped_calls, skipping = await _run(backend, skip=True)
    assert len(full_calls) == 2 * len(TURNS)
    assert skipped_calls == full_calls
    everything = await full.get_session(app_name=f"{APP}_full", user_id="u", session_id="s")
    fewer = await skipping.get_session(app_name=f"{APP}_skip", user_id="u", session_id="s")
    loaded_in_full = await full.get_session(app_name=f"{APP}_skip", user_id="u", session_id="s")
    compactions = [e for e in everything.events if e.actions.compaction]
    assert len(compactions) >= 2, "the sliding window compacted nothing: the test would prove nothing"
    assert len(fewer.events) < len(loaded_in_full.events) == len(everything.events)
    stored_compactions = [e.id for e in loaded_in_full.events if e.actions.compaction]
    assert [e.id for e in fewer.events if e.actions.compaction] == stored_compactions
    # The skipped events are exactly raw events inside a compacted range.
    kept = {e.id for e in fewer.events}
    ranges = [
        (e.actions.compaction.start_timestamp, e.actions.compaction.end_timestamp)
        for e in loaded_in_full.events
        if e.actions.compaction
    ]
    for event in loaded_in_full.events:
        if event.id not in kept:
            assert event.actions.compaction is None
            assert any(start <= event.timestamp <= end for start, end in ranges)
    assert fewer.state == loaded_in_full.state
