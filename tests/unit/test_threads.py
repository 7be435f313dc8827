"""The worker threads of sync stores' calls: many at once where writes batch (group commit), in context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

import pytest

from sqlspec_adk.adapters.pymysql import PymysqlConfig
from sqlspec_adk.adapters.sqlite import SqliteConfig
from sqlspec_adk.engine.threads import MAX_THREADS, to_thread
from sqlspec_adk.modes import call

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


class _Store:
    """A sync store's shape as :func:`call` sees it: a bound method whose owner has a ``config``."""

    def __init__(self, config: object, barrier: threading.Barrier | None = None) -> None:
        self.config, self.barrier = config, barrier

    def thread_name(self) -> str:
        if self.barrier is not None:
            self.barrier.wait()
        return threading.current_thread().name


def test_32_calls_of_a_batching_sync_store_run_at_once(tmp_path: Path) -> None:
    """32 calls that each wait for all 32 to be running: asyncio's default pool (6 threads on 2 cores)
    would leave 26 queued behind the barrier and time out."""
    config = SqliteConfig(connection_config={"database": str(tmp_path / "adk.db")})
    assert config.group_commit is not None  # on by default for SQLite
    store = _Store(config, threading.Barrier(32, timeout=30))

    async def main() -> list[str]:
        return await asyncio.gather(*(call(store.thread_name) for _ in range(32)))

    names = asyncio.run(main())
    assert len(set(names)) == 32 and all(name.startswith("sqlspec-adk") for name in names)
    assert MAX_THREADS >= 32


def test_other_sync_calls_keep_asyncios_default_executor() -> None:
    """A server pool gains nothing from more threads than connections, group commit on (its slots are the
    pool's connections) or off."""
    grouped = PymysqlConfig(connection_config={"host": "127.0.0.1"})
    assert grouped.group_commit is not None and grouped.group_commit.slots > 1  # on by default; nothing connects
    alone = PymysqlConfig(connection_config={"host": "127.0.0.1"}, extension_config={"adk": {"group_commit": False}})
    assert alone.group_commit is None
    names = {asyncio.run(call(_Store(config).thread_name)) for config in (grouped, alone, object())}
    assert not any(name.startswith("sqlspec-adk") for name in names)


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
