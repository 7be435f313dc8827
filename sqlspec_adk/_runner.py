"""How the store bases run their operations, written once for sessions, memory and artifacts.

A store base mixes in :class:`AsyncRunner` or :class:`SyncRunner` for ``run`` /
``arun`` and makes each public method from its ``op_*`` builder with
:func:`async_method` or :func:`sync_method`::

    class BaseSyncADKStore(SyncRunner[SC], SessionStoreOps[SC]):
        get_session = sync_method(SessionStoreOps.op_get_session, write=False)

so a method's parameters, defaults and docstring are the builder's, stated
once. The method calls the builder on the store (an override in a subclass is
used), then runs the operation in one transaction: on the calling thread
(``run``), awaited on the async driver (async ``arun``), or on a worker thread
so the event loop never blocks (sync ``arun``). The builder validates its input,
so bad input fails before any connection is touched.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.protocol import Op

__all__ = ["AC", "C", "SC", "AsyncRunner", "SyncRunner", "async_method", "sync_method"]

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=DatabaseConfig)
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig)


class AsyncRunner(Generic[AC]):
    """``arun`` for a store over an async driver."""

    config: AC

    async def arun(self, op: Op[T], *, write: bool) -> T:
        """Run an operation in one transaction."""
        return await self.config.run(op, write=write)


class SyncRunner(Generic[SC]):
    """``run`` and ``arun`` for a store over a sync driver; ``arun`` keeps it off the event loop."""

    config: SC

    def run(self, op: Op[T], *, write: bool) -> T:
        """Run an operation in one transaction on the calling thread."""
        return self.config.run(op, write=write)

    async def arun(self, op: Op[T], *, write: bool) -> T:
        """Run an operation in one transaction on a worker thread."""
        return await asyncio.to_thread(self.config.run, op, write=write)


def async_method(
    build: Callable[Concatenate[Any, P], Op[T]], *, write: bool
) -> Callable[Concatenate[AsyncRunner[Any], P], Coroutine[Any, Any, T]]:
    """An async method that builds its operation with ``build`` and awaits ``arun`` on it."""
    name = build.__name__

    async def method(self: AsyncRunner[Any], /, *args: P.args, **kwargs: P.kwargs) -> T:
        op: Callable[P, Op[T]] = getattr(self, name)
        return await self.arun(op(*args, **kwargs), write=write)

    return _like(method, build)


def sync_method(
    build: Callable[Concatenate[Any, P], Op[T]], *, write: bool
) -> Callable[Concatenate[SyncRunner[Any], P], T]:
    """A method that builds its operation with ``build`` and runs it on the calling thread (``run``)."""
    name = build.__name__

    def method(self: SyncRunner[Any], /, *args: P.args, **kwargs: P.kwargs) -> T:
        op: Callable[P, Op[T]] = getattr(self, name)
        return self.run(op(*args, **kwargs), write=write)

    return _like(method, build)


def _like(method: F, build: Callable[..., Any]) -> F:
    """Give ``method`` the builder's name (less ``op_``), docstring and signature (returning ``T``, not ``Op[T]``)."""
    method.__name__ = method.__qualname__ = build.__name__.removeprefix("op_")
    method.__module__ = build.__module__
    method.__doc__ = build.__doc__
    signature = inspect.signature(build)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Op[") and returns.endswith("]"):
        returns = returns[3:-1]
    method.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    return method
