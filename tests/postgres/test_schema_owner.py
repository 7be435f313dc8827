"""The ``schema`` option (tables in a named schema, created if missing) and ``owner_id_column``
with a real foreign key to a tenants table, NOT NULL, filled through the service's ``owner_id``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.modes import call
from sqlspec_adk.service import SQLSpecSessionService
from tests.conftest import Backend
from tests.helpers import event

APP = "app"
USER = "alice"


@pytest.fixture
def schema(admin: psycopg.Connection[Any]) -> Iterator[str]:
    """A schema name that does not exist yet; dropped with everything in it afterwards."""
    name = f"adk_{uuid.uuid4().hex[:10]}"
    yield name
    admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def tenants(admin: psycopg.Connection[Any]) -> Iterator[str]:
    """A tenants table with ids 7 and 8 (in public); dropped (with dependent keys) afterwards."""
    name = f"tenants_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE TABLE "{name}" (id INTEGER PRIMARY KEY, label TEXT NOT NULL)')
    admin.execute(f"INSERT INTO \"{name}\" VALUES (7, 'seven'), (8, 'eight')")
    yield name
    admin.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')


def tables_in(admin: psycopg.Connection[Any], schema: str) -> set[str]:
    rows = admin.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
    return {row[0] for row in rows.fetchall()}


async def test_schema_is_created_and_holds_every_table(
    pg: Backend, admin: psycopg.Connection[Any], schema: str
) -> None:
    assert schema not in {row[0] for row in admin.execute("SELECT nspname FROM pg_namespace").fetchall()}
    service = await pg.sessions(schema=schema)
    await pg.memory_store(service.store.config)
    await pg.artifact_store(service.store.config)
    # The configured tables, and the memory revision table version 5 names after the memory table.
    expected = {pg.tables[key] for key in pg.tables} | {pg.tables["memory_table"] + "_rev"}
    assert tables_in(admin, schema) == expected
    assert not expected & tables_in(admin, "public")

    session = await service.create_session(app_name=APP, user_id=USER, state={"k": 1, "app:a": 2, "user:u": 3})
    await service.append_event(session, event("hi", delta={"k": 2, "app:a": 4}))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert loaded is not None and loaded.state == {"k": 2, "app:a": 4, "user:u": 3}
    listed = await service.list_sessions(app_name=APP)
    assert [s.id for s in listed.sessions] == [session.id]
    stored = admin.execute(f'SELECT count(*) FROM "{schema}"."{pg.tables["events_table"]}"').fetchone()
    assert stored == (1,)
    # Running the schema upgrade again is a no-op.
    assert await call(service.store.create_tables) >= 1


async def test_owner_id_column_has_a_real_foreign_key(
    pg: Backend, admin: psycopg.Connection[Any], tenants: str
) -> None:
    owner = f'tenant_id INTEGER NOT NULL REFERENCES "{tenants}" (id)'
    store = await pg.session_store(owner_id_column=owner)
    session_table = pg.tables["session_table"]

    seven = SQLSpecSessionService(store, owner_id=7)
    session = await seven.create_session(app_name=APP, user_id=USER, session_id="s7")
    await seven.append_event(session, event("hello", delta={"x": 1}))
    row = admin.execute(f'SELECT tenant_id FROM "{session_table}" WHERE id = %s', ("s7",)).fetchone()
    assert row == (7,)

    by_user = SQLSpecSessionService(store, owner_id=lambda app, user: 8 if user == "bob" else 7)
    await by_user.create_session(app_name=APP, user_id="bob", session_id="s8")
    assert admin.execute(f'SELECT tenant_id FROM "{session_table}" WHERE id = %s', ("s8",)).fetchone() == (8,)

    # The foreign key is enforced by the database: no such tenant, no session.
    with pytest.raises(Exception, match="foreign key"):
        await SQLSpecSessionService(store, owner_id=999).create_session(app_name=APP, user_id=USER, session_id="x")
    # NOT NULL: a service without owner_id cannot create sessions in this table.
    with pytest.raises(Exception, match="null"):
        await SQLSpecSessionService(store).create_session(app_name=APP, user_id=USER, session_id="y")
    assert await seven.get_session(app_name=APP, user_id=USER, session_id="x") is None
    assert await seven.get_session(app_name=APP, user_id=USER, session_id="y") is None

    constraint = admin.execute(
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass",
        (f'"{session_table}"',),
    ).fetchall()
    assert (f'"{tenants}"',) in constraint or (tenants,) in constraint
    # Deleting a tenant that still owns sessions is refused (no ON DELETE rule given).
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        admin.execute(f'DELETE FROM "{tenants}" WHERE id = 7')


async def test_schema_and_owner_together_with_memory(
    pg: Backend, admin: psycopg.Connection[Any], schema: str, tenants: str
) -> None:
    owner = f'tenant_id INTEGER NOT NULL REFERENCES public."{tenants}" (id)'
    config = pg.config(schema=schema, owner_id_column=owner)
    sessions = SQLSpecSessionService(await pg.session_store(config), owner_id=8)
    session = await sessions.create_session(app_name=APP, user_id=USER, session_id="both")
    await sessions.append_event(session, event("stored in the schema"))
    row = admin.execute(f'SELECT tenant_id FROM "{schema}"."{pg.tables["session_table"]}"').fetchone()
    assert row == (8,)

    memory = await pg.memory_store(config)
    entry = MemoryEntry(id="m1", content=types.Content(role="user", parts=[types.Part(text="tenant owned fact")]))
    await call(memory.add_memory, app_name=APP, user_id=USER, memories=[entry], owner_id=8)
    found = await call(memory.search_memory, app_name=APP, user_id=USER, query="fact")
    assert [record["event_id"] for record in found] == ["m1"]
    memory_row = admin.execute(f'SELECT tenant_id FROM "{schema}"."{pg.tables["memory_table"]}"').fetchone()
    assert memory_row == (8,)
