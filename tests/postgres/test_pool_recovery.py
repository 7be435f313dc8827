"""A dropped connection or a restarted server does not break the next store call.

Every backend of the store's pool is killed from another session
(``pg_terminate_backend``); the next call of each kind (read, one-statement
write, multi-statement transaction) must still succeed, once per adapter. The
restart test runs on a private cluster the tests start (``scratch_postgres``),
so it runs on every run without disturbing the shared server.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
from google.adk.sessions.base_session_service import GetSessionConfig

from sqlspec_adk.migrations import drop_tables
from sqlspec_adk.modes import call
from sqlspec_adk.service import SQLSpecSessionService
from tests.backends import PG_DSN
from tests.conftest import Backend
from tests.helpers import event
from tests.postgres.conftest import connection_for

APP = "app"
USER = "alice"


def terminate(admin: psycopg.Connection[Any], application_name: str) -> int:
    """Kill every backend tagged ``application_name``; return how many."""
    row = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (application_name,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def backends(admin: psycopg.Connection[Any], application_name: str) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
    ).fetchone()
    assert row is not None
    return int(row[0])


async def tagged_service(pg: Backend, name: str) -> SQLSpecSessionService:
    config = pg.config(connection_config=connection_for(pg.spec, pg.tmp_path, name))
    service: SQLSpecSessionService = await pg.sessions(config)
    return service


async def test_terminated_backends_do_not_break_the_next_calls(pg: Backend, admin: psycopg.Connection[Any]) -> None:
    name = f"adk-kill-{uuid.uuid4().hex[:10]}"
    service = await tagged_service(pg, name)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="s1", state={"n": 0})
    await service.append_event(session, event("first", delta={"n": 1, "app:hits": 1}))

    # A read after every pooled backend died.
    assert terminate(admin, name) >= 1
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="s1")
    assert loaded is not None and loaded.state["n"] == 1 and len(loaded.events) == 1

    # A one-statement write (append_event) after every pooled backend died.
    assert terminate(admin, name) >= 1
    await service.append_event(loaded, event("second", delta={"n": 2, "app:hits": 2}))

    # A multi-statement transaction (schema upgrade) after every pooled backend died.
    assert terminate(admin, name) >= 1
    assert await call(service.store.create_tables) >= 1

    # And a listing, then the data is all there: nothing was applied twice.
    assert terminate(admin, name) >= 1
    listed = await service.list_sessions(app_name=APP, user_id=USER)
    assert [s.id for s in listed.sessions] == ["s1"]
    final = await service.get_session(app_name=APP, user_id=USER, session_id="s1", config=GetSessionConfig())
    assert final is not None
    assert [e.content.parts[0].text for e in final.events if e.content] == ["first", "second"]
    assert final.state == {"n": 2, "app:hits": 2}


async def test_close_pool_then_reuse(pg: Backend, admin: psycopg.Connection[Any]) -> None:
    name = f"adk-close-{uuid.uuid4().hex[:10]}"
    service = await tagged_service(pg, name)
    await service.create_session(app_name=APP, user_id=USER, session_id="c1")
    assert backends(admin, name) >= 1
    await pg.close_config(service.store.config)
    for _ in range(100):  # pg_stat_activity lags a closed socket by a moment
        if not backends(admin, name):
            break
        await asyncio.sleep(0.05)
    assert backends(admin, name) == 0, "close_pool left connections open"
    # The config opens a new pool on its next use.
    assert await service.get_session(app_name=APP, user_id=USER, session_id="c1") is not None


async def test_restarted_server_does_not_break_the_next_calls(pg: Backend, scratch_postgres: Any) -> None:
    """On a private cluster the test starts (never the shared server): a clean restart between calls."""
    connection = {
        key: scratch_postgres.dsn if value == PG_DSN else value
        for key, value in pg.spec.connection(pg.tmp_path).items()
    }
    config = pg.config(connection_config=connection)
    service = await pg.sessions(config)
    try:
        session = await service.create_session(app_name=APP, user_id=USER, session_id="r1")
        await service.append_event(session, event("before", delta={"k": 1}))
        await asyncio.to_thread(scratch_postgres.restart, "fast")
        loaded = await service.get_session(app_name=APP, user_id=USER, session_id="r1")
        assert loaded is not None and loaded.state == {"k": 1}
        await asyncio.to_thread(scratch_postgres.restart, "fast")
        await service.append_event(loaded, event("after", delta={"k": 2}))
        again = await service.get_session(app_name=APP, user_id=USER, session_id="r1")
        assert again is not None and again.state == {"k": 2} and len(again.events) == 2
    finally:
        await drop_tables(config)
