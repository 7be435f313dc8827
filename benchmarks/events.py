"""Deterministic ADK events and session states for the session workloads.

Events look like an agent conversation: alternating user and model turns with a
few hundred characters of text; every fourth event carries a session-scoped
``state_delta`` (so appends exercise the state path too).
"""

from __future__ import annotations

import time
import uuid

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.genai import types

__all__ = ["make_event", "make_history", "session_state"]

_SENTENCES = (
    "Could you look up the opening hours of the museum near the central station?",
    "The museum opens at nine and closes at six; on Thursdays it stays open until nine in the evening.",
    "Great, and is there a discount for students or people over sixty-five?",
    "Students with a valid card pay half price, and visitors over sixty-five enter for free on weekdays.",
    "Please add a reminder for Thursday at seven so I do not forget to buy the tickets online.",
    "Done: a reminder for Thursday at 19:00 titled 'buy museum tickets'. Anything else for the trip?",
)


def make_event(index: int, *, invocation_id: str, timestamp: float | None = None) -> Event:
    """The ``index``-th event of a conversation (fresh id; ``timestamp`` defaults to now)."""
    is_user = index % 2 == 0
    text = " ".join(_SENTENCES[(index + offset) % len(_SENTENCES)] for offset in range(3))
    actions = EventActions(state_delta={"turn": index, "last_topic": "museum"}) if index % 4 == 3 else EventActions()
    return Event(
        id=str(uuid.uuid4()),
        invocation_id=invocation_id,
        author="user" if is_user else "concierge",
        content=types.Content(role="user" if is_user else "model", parts=[types.Part(text=f"[{index}] {text}")]),
        actions=actions,
        timestamp=time.time() if timestamp is None else timestamp,
    )


def make_history(count: int, *, end: float | None = None) -> list[Event]:
    """``count`` events with increasing timestamps ending a little before ``end`` (default: now)."""
    end = time.time() - 1.0 if end is None else end
    return [
        make_event(index, invocation_id=f"inv-{index // 2}", timestamp=end - (count - index) * 0.001)
        for index in range(count)
    ]


def session_state(index: int) -> dict[str, object]:
    """A small, typical session state (no app:/user: keys: those are a different cost path)."""
    return {"locale": "en-GB", "channel": "web", "visits": index, "topic": f"topic-{index % 17}"}
