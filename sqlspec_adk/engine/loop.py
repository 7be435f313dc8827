"""Drive a plan (:mod:`sqlspec_adk.engine.transaction`) on a sync or an async driver.

The loop is written once, as a coroutine: :func:`run_async` awaits each call;
:func:`run_sync` gives it calls that never suspend and runs it to the end in
one ``send``. A call that raises an ``Exception`` is sent back into the plan as
a :class:`~sqlspec_adk.engine.driver.Failure`; a cancellation or an interrupt
is thrown into the plan, which releases its connection and re-raises.
Releasing a connection is shielded from a cancellation, so a cancelled caller
never leaks a pool slot; a driver whose ``release_suspends`` is false awaits
nothing in its release, so nothing can interrupt it and no task is spent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlspec_adk.engine.driver import AsyncDriver, Failure, SyncDriver
from sqlspec_adk.engine.transaction import Call, Plan

__all__ = ["run_async", "run_sync"]

T = TypeVar("T")


async def _drive(plan: Plan[T], invoke: Callable[[Call], Awaitable[Any]]) -> T:
    send: Callable[[Any], Call] = plan.send
    result: Any = None
    while True:
        try:
            call = send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value
        send = plan.send
        try:
            result = await invoke(call)
        except Exception as error:
            result = Failure(error)
        except BaseException as error:
            send, result = plan.throw, error


def run_sync(driver: SyncDriver[Any], plan: Plan[T]) -> T:
    """Run ``plan`` on a sync driver, on the calling thread."""

    async def invoke(call: Call) -> Any:  # never awaits anything: run_sync steps it by hand
        name, args = call
        if name == "sleep":
            time.sleep(*args)  # noqa: ASYNC251 - not on an event loop
            return None
        return getattr(driver, name)(*args)

    coroutine = _drive(plan, invoke)
    try:
        coroutine.send(None)
    except StopIteration as stop:
        value: T = stop.value
        return value
    coroutine.close()
    raise RuntimeError("a sync plan awaited something")  # pragma: no cover - invoke never suspends


async def run_async(driver: AsyncDriver[Any], plan: Plan[T]) -> T:
    """Run ``plan`` on an async driver."""

    def invoke(call: Call) -> Awaitable[Any]:
        name, args = call
        if name == "sleep":
            return asyncio.sleep(*args)
        if name == "release" and getattr(driver, "release_suspends", True):
            return asyncio.shield(driver.release(*args))
        method: Callable[..., Awaitable[Any]] = getattr(driver, name)
        return method(*args)

    return await _drive(plan, invoke)
