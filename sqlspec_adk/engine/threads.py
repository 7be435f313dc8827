"""The worker threads that run batching sync stores' calls for async code (services, ``arun``).

Not asyncio's default executor: that one has ``min(32, cpus + 4)`` threads (6
on a 2-core machine) shared with everything else in the process, so at most
six sync appends can wait on one group commit at a time, and a batch never
holds more (benchmark W1c: the sync ``sqlite`` adapter at 32 concurrent
sessions reached 888 events/s against 1,982 for ``aiosqlite``). A caller of a
sync store mostly waits (on the database, a pooled connection or its batch's
COMMIT), so this pool has :data:`MAX_THREADS` threads, started only as calls
need them. Only configs with group commit on a file database use it (see
:func:`sqlspec_adk.modes.call`): a server pool gains nothing past its
connections. Each call runs in a copy of the caller's context, as
:func:`asyncio.to_thread` does, so tracing spans nest under the caller's.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

__all__ = ["MAX_THREADS", "submit", "thread_runner", "to_thread"]

T = TypeVar("T")

#: At most this many sync calls run at once; more wait for a thread (a batch forms from the calls
#: that are waiting, so this bounds a sync store's batches as the group's own cap does).
MAX_THREADS = 64

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="sqlspec-adk")
        return _executor


def submit(func: Callable[..., T], /, *args: Any) -> Future[T]:
    """Start ``func(*args)`` on one of the library's worker threads (a group commit's writer, which runs
    batches as long as some wait: on asyncio's default executor it would hold a thread other calls need)."""
    return _pool().submit(func, *args)


async def to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` on one of the library's worker threads, in a copy of the current context."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), partial(context.run, func, *args, **kwargs))


def thread_runner(config: object) -> Callable[..., Awaitable[Any]]:
    """How a call of a store on ``config`` leaves the event loop: :func:`to_thread` for a sync config whose
    group commit has one slot (a file database: more waiting callers, larger batches),
    :func:`asyncio.to_thread` for any other.

    A server pool gains nothing past its connections: 32 threads queued on 5 connections measured a
    third slower than the default executor (``pymysql`` 934 against 1,396 events/s, ``psycopg`` sync
    1,380 against 2,156), where the sync ``sqlite`` adapter at 32 sessions went from 1,750 to 2,647.
    """
    group = getattr(config, "group_commit", None) if getattr(config, "is_async", True) is False else None
    return to_thread if group is not None and group.slots == 1 else asyncio.to_thread
