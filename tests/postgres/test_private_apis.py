"""The private third-party API the PostgreSQL adapters use, pinned: this fails loudly if it goes away.

asyncpg exposes no public socket, and its termination listener fires only once
the event loop has read the server's goodbye; the hung-up check at checkout
(:mod:`sqlspec_adk.adapters._postgres`) needs the socket before that, so
:class:`~sqlspec_adk.adapters.asyncpg.AsyncpgConfig` reads
``Connection._transport`` (tested with asyncpg 0.32.0). psycopg's socket is
public (``PGconn.socket``); psqlpy has none and is not checked.
"""

from __future__ import annotations

import socket

import asyncpg

from sqlspec_adk.adapters.asyncpg import AsyncpgConfig
from tests.backends import ADAPTERS, PG_DSN, require_server

ASYNCPG = next(spec for spec in ADAPTERS if spec.name == "asyncpg")


def test_asyncpg_connections_still_have_a_transport_slot() -> None:
    assert "_transport" in asyncpg.connection.Connection.__slots__, (
        f"asyncpg {asyncpg.__version__} dropped Connection._transport: AsyncpgConfig.hung_up needs another way "
        "to reach the connection's socket"
    )


async def test_a_pooled_asyncpg_connection_gives_its_socket_through_the_transport() -> None:
    require_server(ASYNCPG)
    config = AsyncpgConfig(connection_config={"dsn": PG_DSN}, pool_config={"min_size": 1, "max_size": 1})
    try:
        connection = await config.acquire(True)
        try:
            sock = connection._transport.get_extra_info("socket")
            assert sock is not None and sock.fileno() >= 0, "asyncpg's transport no longer gives its socket"
            assert sock.type == socket.SOCK_STREAM
            assert config.hung_up(connection) is False  # a live idle connection is not taken for a dead one
        finally:
            await config.release(connection, False)
    finally:
        await config.close_pool()
