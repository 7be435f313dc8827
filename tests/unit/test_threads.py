"""The worker threads of sync stores' calls: many at once (so a group commit can batch them), in context."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from sqlspec_adk.engine.threads import MAX_THREADS, to_thread
from sqlspec_adk.modes import call

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def test_32_sync_calls_run_at_once() -> None:
    """32 calls that each wait for all 32 to be running: asyncio's default pool (6 threads on 2 cores)
    would leave 26 queued behind the barrier and time out."""
    barrier = threading.Barrier(32, timeout=30)

    def wait_for_all() -> int:
        return barrier.wait()

    async def main() -> list[int]:
        return await asyncio.gather(*(call(wait_for_all) for _ in range(32)))

    assert sorted(asyncio.run(main())) == list(range(32))
    assert MAX_THREADS >= 32


def test_a_call_sees_its_callers_context_and_cannot_change_it() -> None:
    def read_and_set() -> str:
        seen = REQUEST.get()
        REQUEST.set("changed in the worker")
        return seen

    async def main() -> tuple[str, str]:
        REQUEST.set("request-7")
        seen = await to_thread(read_and_set)
        return seen, REQUEST.get()

    assert asyncio.run(main()) == ("request-7", "request-7")


def test_an_exception_reaches_the_caller() -> None:
    def fail(message: str) -> None:
        raise LookupError(message)

    async def main() -> None:
        await to_thread(fail, "no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        asyncio.run(main())
