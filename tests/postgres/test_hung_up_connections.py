"""A pooled connection the server has hung up on is dropped at checkout, before anything is sent on it.

So a call after a restart or a terminated backend never meets the dead
connection: it needs no retry, which matters for a lone autocommit write (a
failure on its statement is ambiguous, so the engine does not retry it). The
tests switch retries off (``classify`` answers None) to show the call never
failed; and a live pooled connection is kept, not replaced on every call.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg
import pytest

from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt
from tests.conftest import Backend
from tests.postgres.conftest import connection_for
from tests.postgres.test_pool_recovery import backends, terminate

#: psqlpy exposes no socket: its own pool drops connections its runtime has seen close.
CHECKED = ("asyncpg", "psycopg_async", "psycopg_sync", "cockroach_asyncpg", "cockroach_psycopg")


def backend_pid() -> Op[int]:
    """A lone statement of a write: sent without BEGIN, and not retried after a lost connection."""
    row = yield Stmt("SELECT pg_backend_pid()", (), Fetch.ONE, alone=True)
    return int(row[0])


async def run(config: Any, build: Any) -> Any:
    return await config.arun(Operation("probe", build, True))


async def test_dead_pooled_connection_is_dropped_unused(pg: Backend, admin: psycopg.Connection[Any]) -> None:
    if pg.name not in CHECKED:
        pytest.skip(f"{pg.name}: no socket to check; its pool detects closed connections itself")
    name = f"adk-hangup-{uuid.uuid4().hex[:10]}"
    # One pooled connection, so "the same backend twice" means the live connection was kept.
    config = pg.spec.classes()[0](
        connection_config=connection_for(pg.spec, pg.tmp_path, name),
        pool_config={"min_size": 1, "max_size": 1},
        extension_config={"adk": pg.tables},
    )
    try:
        first = await run(config, backend_pid)
        assert await run(config, backend_pid) == first, "a live pooled connection was replaced"

        config.classify = lambda error: None  # no retries at all: the call must not fail
        # Blocking on purpose: the event loop gets no chance to read the server's goodbye first.
        assert terminate(admin, name) == 1
        deadline = time.monotonic() + 10
        while backends(admin, name) and time.monotonic() < deadline:
            time.sleep(0.02)  # noqa: ASYNC251 - blocking on purpose (see above)
        assert backends(admin, name) == 0
        second = await run(config, backend_pid)
        assert second != first
        assert await run(config, backend_pid) == second
    finally:
        await pg.close_config(config)
