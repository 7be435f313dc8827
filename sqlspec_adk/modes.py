"""Calling a sync or an async store method from async code, typed either way.

Services take either kind of store. :func:`call` awaits an async method and
runs a sync one on one of the library's worker threads
(:mod:`sqlspec_adk.engine.threads`), so the event loop never blocks; mypy sees
the method's own parameters and return type in both cases.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, Union, overload

from sqlspec_adk.engine.threads import to_thread

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
    """``await method(...)`` for an async method; a sync one runs on a library worker thread."""
    if inspect.iscoroutinefunction(method):
        return await method(*args, **kwargs)
    return await to_thread(method, *args, **kwargs)
