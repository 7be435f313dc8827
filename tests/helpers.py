"""Small helpers shared by the contract tests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.genai import types

from sqlspec_adk.protocol import Fetch, Op, Stmt


def raw(sql: str, params: tuple[Any, ...] = (), fetch: Fetch = Fetch.ALL) -> Op[Any]:
    """An operation running one statement (``?`` placeholders), for checks straight against storage."""

    def op() -> Generator[Stmt, Any, Any]:
        return (yield Stmt(sql, params, fetch))

    return op()


def event(
    text: str | None = None,
    *,
    author: str = "user",
    delta: dict[str, Any] | None = None,
    timestamp: float | None = None,
    invocation_id: str = "inv-1",
    **kwargs: Any,
) -> Event:
    """An ADK event with optional text content and state delta."""
    content = (
        types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]) if text else None
    )
    made = Event(
        author=author,
        invocation_id=invocation_id,
        content=content,
        actions=EventActions(state_delta=dict(delta or {})),
        **kwargs,
    )
    if timestamp is not None:
        made.timestamp = timestamp
    return made


class StatementCounter:
    """Counts the statements of every operation a store runs (wraps ``store.arun``)."""

    def __init__(self, store: Any) -> None:
        self.count = 0
        self._store = store
        self._original = store.arun

        async def counting_arun(op: Op[Any], *, write: bool) -> Any:
            return await self._original(self._wrap(op), write=write)

        store.arun = counting_arun

    def _wrap(self, op: Op[Any]) -> Op[Any]:
        try:
            stmt = next(op)
            while True:
                self.count += 1
                result = yield stmt
                stmt = op.send(result)
        except StopIteration as stop:
            return stop.value

    def reset(self) -> None:
        self.count = 0

    def restore(self) -> None:
        self._store.arun = self._original
