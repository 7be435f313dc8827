"""Small helpers shared by the contract tests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.genai import types

from benchmarks.counting import intercept
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt


def raw_op(sql: str, params: Any = (), fetch: Fetch = Fetch.ALL, *, write: bool = False) -> Operation[Any]:
    """An operation running one statement (``?`` placeholders), for checks straight against storage."""

    def build() -> Generator[Stmt, Any, Any]:
        return (yield Stmt(sql, params, fetch))

    return Operation("raw", build, write)


async def raw(config: Any, sql: str, params: Any = (), fetch: Fetch = Fetch.ALL, *, write: bool = False) -> Any:
    """Run one statement on ``config`` (sync or async) in its own transaction and return its result."""
    return await config.arun(raw_op(sql, params, fetch, write=write))


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
    """Counts the statements of every operation a store's config runs."""

    def __init__(self, store: Any) -> None:
        self.count = 0
        self.restore = intercept(store.config, lambda op, operation: self._counted(op))

    def _counted(self, op: Op[Any]) -> Op[Any]:
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


def drive_sync(op: Op[Any], execute: Any) -> Any:
    """Run a dialect operation by hand, ``execute(stmt)`` answering each statement (no engine, no driver)."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(execute(stmt))
    except StopIteration as stop:
        return stop.value
