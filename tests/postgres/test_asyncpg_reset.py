"""asyncpg: no reset query on release, and still nothing of one call leaks into the next."""

from __future__ import annotations

import pytest

from sqlspec_adk.adapters.asyncpg import AsyncpgConfig
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt
from tests.backends import ADAPTERS, PG_DSN, require_server

ASYNCPG = next(spec for spec in ADAPTERS if spec.name == "asyncpg")


def in_transaction_then_fail() -> Op[None]:
    yield Stmt("SELECT 1", (), Fetch.ONE)
    raise RuntimeError("fails inside the transaction")


def backend_pid() -> Op[int]:
    row = yield Stmt("SELECT pg_backend_pid()", (), Fetch.ONE)
    return int(row[0])


async def test_release_sends_no_reset_query_and_a_failed_transaction_is_rolled_back() -> None:
    require_server(ASYNCPG)
    config = AsyncpgConfig(connection_config={"dsn": PG_DSN}, pool_config={"min_size": 1, "max_size": 1})
    try:
        pid = await config.arun(Operation("pid", backend_pid, False))
        pool = await config.pool()
        proxy = await pool.acquire()
        protocol = proxy._con._protocol
        sent_before = protocol.queries_count
        await pool.release(proxy)
        assert protocol.queries_count == sent_before, "release sent a reset query"
        with pytest.raises(RuntimeError):
            await config.arun(Operation("fail", in_transaction_then_fail, True))
        # The same connection comes back, outside the failed transaction.
        proxy = await pool.acquire()
        try:
            assert not proxy.is_in_transaction()
            assert await proxy.fetchval("SELECT pg_backend_pid()") == pid
        finally:
            await pool.release(proxy)
    finally:
        await config.close_pool()


async def test_a_reset_in_pool_config_wins() -> None:
    require_server(ASYNCPG)
    calls: list[object] = []

    async def reset(connection: object) -> None:
        calls.append(connection)

    config = AsyncpgConfig(connection_config={"dsn": PG_DSN}, pool_config={"max_size": 1, "reset": reset})
    try:
        await config.arun(Operation("pid", backend_pid, False))
        assert len(calls) == 1
    finally:
        await config.close_pool()
