"""Spanner-only checks on the Cloud Spanner emulator (tests/spanner_emulator.py): schema changes, dialects.

The contract, reliability and CLI suites run on the emulator through the
``spanner`` entry of tests/backends.py; these cover what only Spanner has: DDL
through the schema API (twice, after lost version records, from two upgrades at
once, beside running writers), teardown of every index version 2 adds, and the
refusal of a PostgreSQL-dialect database before anything is written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from google.cloud import spanner

from sqlspec_adk.adapters.spanner import SpannerADKMemoryStore, SpannerADKStore, SpannerConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import LATEST_VERSION, drop_tables, upgrade
from sqlspec_adk.service import SQLSpecSessionService
from tests import spanner_emulator
from tests.helpers import event


@pytest.fixture
def connection(spanner_emulator_running: Any, tmp_path: Path) -> Any:
    found = spanner_emulator.connection(tmp_path)
    yield found
    spanner_emulator.discard(tmp_path)


def database(connection: dict[str, Any]) -> Any:
    client = spanner.Client(project=connection["project"])
    return client.instance(connection["instance_id"]).database(connection["database_id"])


def schema(connection: dict[str, Any]) -> list[str]:
    handle = database(connection)
    handle.reload()
    return list(handle.ddl_statements)


def config(connection: dict[str, Any], **adk: Any) -> SpannerConfig:
    return SpannerConfig(connection_config=connection, extension_config={"adk": adk})


async def test_create_tables_twice_and_after_the_version_records_are_lost(connection: dict[str, Any]) -> None:
    """Every statement runs through the schema API outside any transaction; none fails when its object is
    there already, the search index included (it has no IF NOT EXISTS)."""
    first = config(connection)
    assert await SpannerADKMemoryStore(first).create_tables() == LATEST_VERSION
    created = schema(connection)
    assert any("search_idx" in sql for sql in created) and any("compaction" in sql for sql in created)
    second = config(connection)
    assert await SpannerADKStore(second).create_tables() == LATEST_VERSION
    assert schema(connection) == created

    def forget(transaction: Any) -> None:
        transaction.execute_update("DELETE FROM adk_internal_metadata WHERE TRUE")

    database(connection).run_in_transaction(forget)
    third = config(connection)
    assert await SpannerADKMemoryStore(third).create_tables() == LATEST_VERSION  # every statement runs again
    assert schema(connection) == created
    for each in (first, second, third):
        await each.close_pool()


async def test_two_upgrades_at_once_serialize_on_the_lease_row(connection: dict[str, Any]) -> None:
    configs = [config(connection) for _ in range(2)]
    reached = await asyncio.gather(*(SpannerADKStore(each).create_tables() for each in configs))
    assert reached == [LATEST_VERSION, LATEST_VERSION]
    service = SQLSpecSessionService(SpannerADKStore(configs[0]))
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    await service.append_event(session, event("works"))
    for each in configs:
        await each.close_pool()


async def test_schema_changes_beside_running_writers(connection: dict[str, Any]) -> None:
    """The emulator refuses a schema change while a read-write transaction runs: the step is retried, and
    the writers lose nothing."""
    writers = config(connection, memory_use_fts=False)
    service = SQLSpecSessionService(SpannerADKStore(writers))
    await service.store.create_tables()
    await service.create_session(app_name="a", user_id="u", session_id="s")
    stop = asyncio.Event()

    async def write() -> int:
        count = 0
        while not stop.is_set():
            current = await service.get_session(app_name="a", user_id="u", session_id="s")
            assert current is not None
            await service.append_event(current, event(f"n{count}", delta={"user:n": count}))
            count += 1
        return count

    async def change_schema() -> int:
        try:
            # Switching full-text search on re-applies the memory DDL: the TOKENLIST column and the index.
            return await SpannerADKMemoryStore(config(connection, memory_use_fts=True)).create_tables()
        finally:
            stop.set()

    written, reached = await asyncio.gather(write(), change_schema())
    assert reached == LATEST_VERSION and any("search_idx" in sql for sql in schema(connection))
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None and len(loaded.events) == written and loaded.state["user:n"] == written - 1
    await writers.close_pool()


async def test_version_2_backfills_the_compaction_flag_of_stored_events(connection: dict[str, Any]) -> None:
    """A database at version 1 with events in it: the upgrade's DML (JSON_QUERY over the stored text) marks
    exactly the compaction events, and the session goes on."""
    old = config(connection)
    assert await upgrade(old, target=1) == 1
    compaction = '{"actions":{"compaction":{"start_timestamp":1.0,"end_timestamp":2.0}},"id":"c","author":"a"}'

    def seed(transaction: Any) -> None:
        transaction.execute_update(
            "INSERT INTO adk_session (app_name, user_id, id, state, update_time, create_time, revision) "
            "VALUES ('a', 'u', 's', '{}', 3.0, 1.0, 2)"
        )
        for seq, (eid, data) in enumerate((("e", '{"id":"e","author":"a"}'), ("c", compaction)), start=1):
            transaction.execute_update(
                "INSERT INTO adk_event (app_name, user_id, session_id, seq, id, timestamp, event_data, commit_time) "
                "VALUES ('a', 'u', 's', @seq, @id, 2.0, @data, PENDING_COMMIT_TIMESTAMP())",
                params={"seq": seq, "id": eid, "data": data},
                param_types={"seq": spanner.param_types.INT64, "id": spanner.param_types.STRING}
                | {"data": spanner.param_types.STRING},
            )

    database(connection).run_in_transaction(seed)
    assert await SpannerADKStore(config(connection)).create_tables() == LATEST_VERSION
    with database(connection).snapshot() as snapshot:
        flags = dict(snapshot.execute_sql("SELECT id, compaction FROM adk_event"))
    assert flags == {"e": False, "c": True}
    await old.close_pool()


async def test_drop_tables_removes_every_index_then_create_tables_starts_over(connection: dict[str, Any]) -> None:
    owned = config(connection, owner_id_column="tenant_id INT64")
    assert await SpannerADKMemoryStore(owned).create_tables() == LATEST_VERSION
    assert any("owner_idx" in sql for sql in schema(connection))
    await drop_tables(owned)
    assert schema(connection) == []
    assert (
        await SpannerADKMemoryStore(config(connection, owner_id_column="tenant_id INT64")).create_tables()
        == LATEST_VERSION
    )
    await owned.close_pool()


async def test_a_postgresql_dialect_database_is_refused_before_anything_is_written(
    spanner_emulator_running: Any, tmp_path: Path
) -> None:
    connection = spanner_emulator.connection(tmp_path, spanner_emulator.POSTGRESQL)
    try:
        refused = config(connection)
        with pytest.raises(ConfigError, match=r"uses the POSTGRESQL dialect.*needs a GoogleSQL database"):
            await SpannerADKStore(refused).create_tables()
        with pytest.raises(ConfigError, match="GoogleSQL"):
            await SpannerADKStore(config(connection)).get_session(app_name="a", user_id="u", session_id="s")
        assert schema(connection) == []
        await refused.close_pool()
    finally:
        spanner_emulator.discard(tmp_path)
