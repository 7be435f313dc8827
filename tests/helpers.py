"""Small helpers shared by the contract tests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.genai import types

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
    """Counts the statements of every operation a store's config runs (wraps ``config.arun``)."""

    def __init__(self, store: Any) -> None:
        self.count = 0
        self._config = store.config
        self._original = store.config.arun

        async def counting_arun(operation: Operation[Any]) -> Any:
            counted = Operation(operation.name, lambda: self._wrap(operation.build()), operation.write, operation.table)
            return await self._original(counted)

        self._config.arun = counting_arun

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
        self._config.arun = self._original


def drive_sync(op: Op[Any], execute: Any) -> Any:
    """Run a dialect operation by hand, ``execute(stmt)`` answering each statement (no engine, no driver)."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(execute(stmt))
    except StopIteration as stop:
        return stop.value
