"""Driving a plan of steps: a generator that yields a step and gets back its result, or its error.

The memory search (operations and embedder calls) and the migration runner
(operations and sleeps) are such plans; each says how to take one of its
steps, and this module runs the loop once per mode. A step's error is thrown
into the plan, which re-raises what it does not handle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["drive_plan_async", "drive_plan_sync"]

S = TypeVar("S")
T = TypeVar("T")


def drive_plan_sync(plan: Generator[S, Any, T], take: Callable[[S], Any]) -> T:
    """Run ``plan`` on the calling thread, each step through ``take``; return the plan's value."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(result)
        except StopIteration as stop:
            done: T = stop.value
            return done
        result, error = None, None
        try:
            result = take(step)
        except BaseException as failure:  # handed to the plan (a cancellation too: it re-raises it)
            error = failure


async def drive_plan_async(plan: Generator[S, Any, T], take: Callable[[S], Awaitable[Any]]) -> T:
    """:func:`drive_plan_sync` from async code: each step's ``take`` is awaited on this loop."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(result)
        except StopIteration as stop:
            done: T = stop.value
            return done
        result, error = None, None
        try:
            result = await take(step)
        except BaseException as failure:
            error = failure
