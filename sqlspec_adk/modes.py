"""Calling a sync or an async store method from async code, typed either way.

Services take either kind of store. :func:`call` awaits an async method and
runs a sync one on a worker thread, so the event loop never blocks: a sync
store whose writes batch (group commit on) on the library's own threads
(:mod:`sqlspec_adk.engine.threads`), any other on asyncio's default executor; mypy sees
the method's own parameters and return type in both cases.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, Union, overload

from sqlspec_adk.engine.threads import thread_runner

__all__ = ["call"]

P = ParamSpec("P")
T = TypeVar("T")


@overload
async def call(method: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


# The union form, not a bare ``Callable[P, T]``: a union of an async and a sync
# store's bound methods would otherwise match with T = coroutine | result.
@overload
async def call(
    method: Union[Callable[P, Coroutine[Any, Any, T]], Callable[P, T]], /, *args: P.args, **kwargs: P.kwargs
) -> T: ...


async def call(method: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> Any:
    """``await method(...)`` for an async method; a sync one runs on a worker thread (see the module)."""
    if inspect.iscoroutinefunction(method):
        return await method(*args, **kwargs)
    config = getattr(getattr(method, "__self__", None), "config", None)
    return await thread_runner(config)(method, *args, **kwargs)
