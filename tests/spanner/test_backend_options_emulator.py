"""Spanner's per-backend options and retention policies (issue 18, schema version 3) on the Cloud Spanner emulator.

What the emulator (tests/spanner_emulator.py) accepted and these tests run live: ``spanner_shard_count`` (the
stored generated ``shard_id`` column and its ``(shard_id, <time>)`` index, added to tables that hold rows),
``retention_events_days`` / ``retention_memory_days`` / ``retention_artifacts_days`` (a stored generated
``retention_ts`` and a row deletion policy), each turned on, changed and off again on an existing database by
``migrate upgrade`` or ``create_tables``, an upgrade interrupted after its statements completed by the next
one, and ``drop_tables`` afterwards. The emulator keeps the policies but does not delete by them within a
test, so what is checked is the policy and its column: the rows a policy would delete are the ones ``prune``
deletes by default.

What it refused: ``ALTER TABLE ... SET OPTIONS`` and ``ALTER INDEX ... SET OPTIONS`` (a parse error for every
option; it has no locality groups either), so ``spanner_table_options`` / ``spanner_index_options`` are
checked by their rendered text here (and sqlglot's GoogleSQL parse), never run.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from google.adk.memory.memory_entry import MemoryEntry
from google.api_core import exceptions
from google.cloud import spanner
from google.genai import types
from sqlglot import exp

from sqlspec_adk.adapters._spanner import classify_spanner
from sqlspec_adk.adapters.spanner import (
    SpannerADKArtifactStore,
    SpannerADKMemoryStore,
    SpannerADKStore,
    SpannerConfig,
)
from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.dialects.spanner import SpannerDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION, drop_tables
from sqlspec_adk.migrations import v0003_backend_options as v3
from sqlspec_adk.migrations.runner import COMPONENTS
from sqlspec_adk.migrations.teardown import drop_statements
from sqlspec_adk.service import SQLSpecSessionService
from sqlspec_adk.settings import ADKConfig
from tests import spanner_emulator
from tests.cli.adk_fixtures import cli
from tests.cli.test_prune_doctor import _aged_data
from tests.helpers import event

DAY = 86_400.0
#: Per table: the key the shard column hashes and the time column its index follows (configuration.md).
SHARDED = {
    "adk_session": ("FARM_FINGERPRINT(id)", "update_time"),
    "adk_event": ("FARM_FINGERPRINT(id)", "timestamp"),
    "adk_memory": ("FARM_FINGERPRINT(id)", "timestamp"),
    "adk_artifact": ("FARM_FINGERPRINT(CONCAT(user_id, '/', scope, '/', filename))", "create_time"),
}
#: Per table with a policy: the column ``prune`` compares, which ``retention_ts`` is made from.
RETAINED = {"adk_event": "timestamp", "adk_memory": "timestamp", "adk_artifact": "create_time"}


# ---------------------------------------------------------------- helpers
@pytest.fixture
def connection(spanner_emulator_running: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield spanner_emulator.connection(tmp_path)
    spanner_emulator.discard(tmp_path)


def database(connection: dict[str, Any]) -> Any:
    client = spanner.Client(project=connection["project"])
    return client.instance(connection["instance_id"]).database(connection["database_id"])


def ddl(connection: dict[str, Any]) -> list[str]:
    """The schema as the database reports it (``get_database_ddl``)."""
    handle = database(connection)
    handle.reload()
    return list(handle.ddl_statements)


def query(connection: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with database(connection).snapshot() as snapshot:
        return [tuple(row) for row in snapshot.execute_sql(sql)]


def generated(connection: dict[str, Any], column: str) -> dict[str, str]:
    """Per table, the generation expression of its stored ``column`` (INFORMATION_SCHEMA.COLUMNS)."""
    rows = query(
        connection,
        "SELECT table_name, generation_expression, is_stored FROM information_schema.columns "
        f"WHERE table_schema = '' AND column_name = '{column}'",
    )
    assert all(stored == "YES" for _, _, stored in rows)
    return {table: expression for table, expression, _ in rows}


def shard_indexes(connection: dict[str, Any]) -> dict[str, list[str]]:
    """Per table, the key columns of its shard index, in order (INFORMATION_SCHEMA.INDEX_COLUMNS)."""
    rows = query(
        connection,
        "SELECT table_name, column_name FROM information_schema.index_columns WHERE table_schema = '' "
        "AND index_name LIKE '%_shard_idx' ORDER BY table_name, ordinal_position",
    )
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def policies(connection: dict[str, Any]) -> dict[str, str]:
    """Per table, its row deletion policy (INFORMATION_SCHEMA.TABLES)."""
    rows = query(
        connection,
        "SELECT table_name, row_deletion_policy_expression FROM information_schema.tables "
        "WHERE table_schema = '' AND row_deletion_policy_expression IS NOT NULL",
    )
    return dict(rows)


def config(connection: dict[str, Any], **adk: Any) -> SpannerConfig:
    return SpannerConfig(connection_config=connection, extension_config={"adk": adk})


def uri(tmp_path: Path, **params: Any) -> str:
    query_text = "&".join(f"{key}={value}" for key, value in params.items())
    storage = (tmp_path / "artifacts").as_uri()
    return f"{spanner_emulator.uri(tmp_path)}?artifact_storage_uri={storage}" + (f"&{query_text}" if params else "")


def text(value: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=value)])


def expected_shards(count: int) -> dict[str, str]:
    return {table: f"ABS(MOD({key}, {count}))" for table, (key, _) in SHARDED.items()}


def expected_retention() -> dict[str, str]:
    return {table: f"TIMESTAMP_MICROS(CAST({source} * 1000000 AS INT64))" for table, source in RETAINED.items()}


# ---------------------------------------------------------------- rendered only: options, and the fixes
def googlesql(**adk: Any) -> SpannerDialect:
    return SpannerDialect(ADKConfig.from_mapping(adk))


def test_table_and_index_options_render_set_options_on_the_librarys_objects() -> None:
    found = googlesql(
        spanner_table_options={"locality_group": "cold"}, spanner_index_options={"locality_group": "cold"}
    )
    sessions = v3.statements(found, "sessions")
    tables = ("adk_session", "adk_event", "adk_app_state", "adk_user_state")
    assert sessions == [
        *(f"ALTER TABLE `{table}` SET OPTIONS (locality_group = 'cold')" for table in tables),
        *(
            f"ALTER INDEX `{index}` SET OPTIONS (locality_group = 'cold')"
            for index in ("adk_session_list_idx", "adk_event_id_uq", "adk_event_compaction_idx")
        ),
    ]
    assert v3.statements(found, "memory") == [
        "ALTER TABLE `adk_memory` SET OPTIONS (locality_group = 'cold')",
        *(
            f"ALTER INDEX `{index}` SET OPTIONS (locality_group = 'cold')"
            for index in ("adk_memory_event_uq", "adk_memory_scope_idx", "adk_memory_session_idx")
        ),
    ]
    # No secondary index on the artifact table without owner_id_column or spanner_shard_count.
    assert v3.statements(found, "artifacts") == ["ALTER TABLE `adk_artifact` SET OPTIONS (locality_group = 'cold')"]
    for part in COMPONENTS:
        for sql in v3.statements(found, part):
            assert isinstance(sqlglot.parse_one(sql, read="bigquery"), exp.Alter), sql


def test_options_removed_later_are_set_to_null_and_new_shard_indexes_get_every_option() -> None:
    before = {"spanner_table_options": {"a": "1", "b": "TRUE"}, "spanner_index_options": {"c": "'x'"}}
    found = googlesql(spanner_table_options={"a": 2}, spanner_index_options={"c": "x"}, spanner_shard_count=4)
    artifacts = v3.statements_since(found, "artifacts", before)
    assert artifacts == [
        "ALTER TABLE `adk_artifact` ADD COLUMN IF NOT EXISTS shard_id INT64 AS "
        "(ABS(MOD(FARM_FINGERPRINT(CONCAT(user_id, '/', scope, '/', filename)), 4))) STORED",
        "CREATE INDEX IF NOT EXISTS `adk_artifact_shard_idx` ON `adk_artifact` (shard_id, create_time)",
        "ALTER TABLE `adk_artifact` SET OPTIONS (a = 2, b = NULL)",
        # The index options did not change, but the shard index is new: it gets them all.
        "ALTER INDEX `adk_artifact_shard_idx` SET OPTIONS (c = 'x')",
    ]


def test_an_age_change_adds_the_policy_before_replacing_it() -> None:
    """REPLACE fails where a table has no policy: ADD comes first (already done when there is one)."""
    found = v3.statements_since(
        googlesql(retention_events_days=60), "sessions", {"spanner_ttl_days": {"adk_event": 30}}
    )
    assert found == [
        "ALTER TABLE `adk_event` ADD COLUMN IF NOT EXISTS retention_ts TIMESTAMP AS "
        "(TIMESTAMP_MICROS(CAST(timestamp * 1000000 AS INT64))) STORED",
        "ALTER TABLE `adk_event` ADD ROW DELETION POLICY (OLDER_THAN(retention_ts, INTERVAL 60 DAY))",
        "ALTER TABLE `adk_event` REPLACE ROW DELETION POLICY (OLDER_THAN(retention_ts, INTERVAL 60 DAY))",
    ]


@pytest.mark.parametrize(
    "error",
    [
        exceptions.InvalidArgument(
            "Cannot create ROW DELETION POLICY because there is already one on column named retention_ts in table t."
        ),
        exceptions.InvalidArgument("ROW DELETION POLICY does not exist on table t."),
        exceptions.NotFound("Column not found in table t: shard_id"),
    ],
)
def test_a_repeated_schema_change_counts_as_done(error: BaseException) -> None:
    """The emulator's words for a policy added again, a policy or a column dropped again."""
    assert classify_spanner(error) is ErrorKind.EXISTS


def test_a_missing_table_or_a_wrong_column_is_still_an_error() -> None:
    assert classify_spanner(exceptions.NotFound("Table not found: nope")) is None
    refused = "Cannot create ROW DELETION POLICY because there is no column named nope in table t."
    assert classify_spanner(exceptions.InvalidArgument(refused)) is None


def test_teardown_drops_the_shard_indexes_before_their_tables() -> None:
    found = [stmt.sql for stmt in drop_statements(googlesql())]
    for table in SHARDED:
        drop = f"DROP INDEX IF EXISTS `{table}_shard_idx`"
        assert found.index(drop) < found.index(f"DROP TABLE IF EXISTS `{table}`")


# ---------------------------------------------------------------- live on the emulator
async def test_shard_count_adds_its_column_and_index_and_the_services_still_work(
    connection: dict[str, Any], tmp_path: Path
) -> None:
    sharded = config(connection, spanner_shard_count=8)
    assert await SpannerADKStore(sharded).create_tables() == LATEST_VERSION
    assert generated(connection, "shard_id") == expected_shards(8)
    assert shard_indexes(connection) == {table: ["shard_id", time] for table, (_, time) in SHARDED.items()}

    sessions = SQLSpecSessionService(SpannerADKStore(sharded))
    now = time.time()
    for number in range(3):
        session = await sessions.create_session(app_name="a", user_id="u", session_id=f"s{number}")
        for age in (40, 20, 0):
            await sessions.append_event(session, event(f"n{number} {age}", timestamp=now - age * DAY))
    listed = await sessions.list_sessions(app_name="a", user_id="u")
    assert sorted(found.id for found in listed.sessions) == ["s0", "s1", "s2"]
    loaded = await sessions.get_session(app_name="a", user_id="u", session_id="s1")
    assert loaded is not None and [len(loaded.events)] == [3]
    shards = [row[0] for row in query(connection, "SELECT shard_id FROM adk_event")]
    assert len(shards) == 9 and set(shards) <= set(range(8)) and len(set(shards)) > 1

    memory = SQLSpecMemoryService(SpannerADKMemoryStore(sharded))
    await memory.add_memory(
        app_name="a", user_id="u", memories=[MemoryEntry(id="m1", content=text("the harbour lighthouse"))]
    )
    await memory.add_session_to_memory(loaded)
    found = await memory.search_memory(app_name="a", user_id="u", query="lighthouse")
    assert [entry.id for entry in found.memories] == ["m1"]

    artifacts = SQLSpecArtifactService(SpannerADKArtifactStore(sharded), (tmp_path / "blobs").as_uri())
    for body in ("v0", "v1"):
        await artifacts.save_artifact(app_name="a", user_id="u", filename="f.txt", artifact=types.Part(text=body))
    assert await artifacts.list_versions(app_name="a", user_id="u", filename="f.txt") == [0, 1]
    part = await artifacts.load_artifact(app_name="a", user_id="u", filename="f.txt")
    assert part is not None and part.text == "v1"
    assert all(row[0] in range(8) for row in query(connection, "SELECT shard_id FROM adk_artifact"))

    # Retention reads the same rows with the column there.
    assert await sessions.delete_events_before(before=now - 30 * DAY) == 3
    assert await sessions.delete_idle_sessions(before=time.time() + 1, app_name="elsewhere") == 0
    loaded = await sessions.get_session(app_name="a", user_id="u", session_id="s1")
    assert loaded is not None and len(loaded.events) == 2
    await sharded.close_pool()


def due(connection: dict[str, Any], ages: dict[str, int]) -> dict[str, int]:
    """Per table with a policy, the rows past its age: what ``OLDER_THAN(retention_ts, INTERVAL n DAY)`` deletes."""
    return {
        table: query(
            connection,
            f"SELECT COUNT(*) FROM {table} "
            f"WHERE retention_ts < TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {days} DAY)",
        )[0][0]
        for table, days in ages.items()
    }


async def test_retention_days_are_row_deletion_policies_on_what_prune_compares(
    connection: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Turned on for a database with rows, by ``migrate upgrade``: the policies' rows are the ones ``prune``
    deletes by the same settings (events by ADK timestamp, memory by entry timestamp, artifacts by creation
    time). Sessions get no policy (the events' foreign key references them): idle sessions stay with prune."""
    await _aged_data(uri(tmp_path))
    ages = {"retention_events_days": 30, "retention_memory_days": 365, "retention_artifacts_days": 1}
    target = uri(tmp_path, **ages)
    assert await cli(["migrate", "upgrade", target]) == 0
    assert policies(connection) == {
        "adk_event": "OLDER_THAN(retention_ts, INTERVAL 30 DAY)",
        "adk_memory": "OLDER_THAN(retention_ts, INTERVAL 365 DAY)",
        "adk_artifact": "OLDER_THAN(retention_ts, INTERVAL 1 DAY)",
    }
    assert generated(connection, "retention_ts") == expected_retention()
    assert "ROW DELETION POLICY (OLDER_THAN(retention_ts, INTERVAL 30 DAY))" in "\n".join(ddl(connection))

    # Memory and artifacts still write and read with their policy (events: see the next test).
    options = config(connection, **ages)
    memory = SQLSpecMemoryService(SpannerADKMemoryStore(options))
    await memory.add_memory(app_name="app", user_id="u", memories=[MemoryEntry(id="m", content=text("lighthouse"))])
    assert [
        entry.id for entry in (await memory.search_memory(app_name="app", user_id="u", query="lighthouse")).memories
    ] == ["m"]
    artifacts = SQLSpecArtifactService(SpannerADKArtifactStore(options), (tmp_path / "artifacts").as_uri())
    await artifacts.save_artifact(app_name="app", user_id="u", filename="g.txt", artifact=types.Part(text="g"))
    loaded = await artifacts.load_artifact(app_name="app", user_id="u", filename="g.txt")
    assert loaded is not None and loaded.text == "g"
    # One artifact version made ten days ago: the stored column follows its creation time.
    database(connection).run_in_transaction(
        lambda txn: txn.execute_update(
            f"UPDATE adk_artifact SET create_time = create_time - {10 * DAY} WHERE version = 0"
        )
    )
    tables = {"adk_event": 30, "adk_memory": 365, "adk_artifact": 1}
    # 120, 100, 50, 40 and 35 days; the 400-day entry; the aged version (f.txt's and g.txt's version 0).
    assert due(connection, tables) == {"adk_event": 5, "adk_memory": 1, "adk_artifact": 2}

    assert await cli(["prune", target, "--dry-run"]) == 0  # the ages: the URI's retention_* settings
    counted = {what: int(number) for number, what in re.findall(r"would delete (\d+) (.+)", capsys.readouterr().out)}
    assert counted == {
        "old event(s)": due(connection, tables)["adk_event"],
        "memory entr(y/ies)": due(connection, tables)["adk_memory"],
        "artifact version(s)": due(connection, tables)["adk_artifact"],
    }
    assert await cli(["prune", target]) == 0
    capsys.readouterr()
    assert due(connection, tables) == {"adk_event": 0, "adk_memory": 0, "adk_artifact": 0}
    sessions = SQLSpecSessionService(SpannerADKStore(options))
    live = await sessions.get_session(app_name="app", user_id="u", session_id="live")
    assert live is not None and len(live.events) == 1  # the 1-day event

    # A policy deletes the row only (prune deletes its content too): the content is then an orphan blob,
    # which artifact gc finds and deletes (configuration.md).
    database(connection).run_in_transaction(lambda txn: txn.execute_update("DELETE FROM adk_artifact WHERE TRUE"))
    assert await cli(["artifacts", "gc", target, "--grace", "0"]) == 1
    assert "orphan blobs (no row, older than 0s): 1" in capsys.readouterr().out  # f.txt's version 1, pruned not
    assert await cli(["artifacts", "gc", target, "--grace", "0", "--delete"]) == 0
    assert "deleted 1" in capsys.readouterr().out
    await options.close_pool()


async def test_appends_with_an_events_policy(connection: dict[str, Any]) -> None:
    """Stays xfailed on an emulator older than 1.5.35 (gcloud 528.0.0's): it fails every UPDATE whose subquery
    reads a table with a stored generated column its own table lacks (an internal ZETASQL_RET_CHECK,
    GoogleCloudPlatform/cloud-spanner-emulator#171 and #194), and the append's revision update checks the
    event id against the events. Cloud Spanner runs that statement; this test passes on a fixed emulator."""
    options = config(connection, retention_events_days=30)
    service = SQLSpecSessionService(SpannerADKStore(options))
    await service.store.create_tables()
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    try:
        await service.append_event(session, event("kept", timestamp=time.time()))
    except exceptions.InternalServerError as error:
        await options.close_pool()
        if "resolver_dml" not in str(error):
            raise
        pytest.xfail(f"this emulator fails the append's UPDATE with an events policy: {str(error)[:120]}")
    await service.append_event(session, event("more", delta={"k": 1}, timestamp=time.time()))
    loaded = await service.get_session(app_name="a", user_id="u", session_id="s")
    assert loaded is not None and len(loaded.events) == 2 and loaded.state["k"] == 1
    assert due(connection, {"adk_event": 30}) == {"adk_event": 0}
    await options.close_pool()


async def test_options_turned_on_changed_and_off_on_an_existing_database(
    connection: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = config(connection)
    sessions = SQLSpecSessionService(SpannerADKStore(plain))
    await sessions.store.create_tables()
    now = time.time()
    for number in range(4):
        session = await sessions.create_session(app_name="a", user_id="u", session_id=f"s{number}")
        await sessions.append_event(session, event("old", timestamp=now - 90 * DAY))
        await sessions.append_event(session, event("new", timestamp=now))
    before = ddl(connection)

    # On, with migrate upgrade: the generated columns are filled for the rows already there.
    assert await cli(["migrate", "upgrade", uri(tmp_path, spanner_shard_count=4, retention_events_days=30)]) == 0
    assert generated(connection, "shard_id") == expected_shards(4)
    assert generated(connection, "retention_ts") == {"adk_event": expected_retention()["adk_event"]}
    assert policies(connection) == {"adk_event": "OLDER_THAN(retention_ts, INTERVAL 30 DAY)"}
    rows = query(connection, "SELECT shard_id, retention_ts IS NOT NULL FROM adk_event")
    assert len(rows) == 8 and all(shard in range(4) and filled for shard, filled in rows)
    upgraded = ddl(connection)
    assert await cli(["migrate", "upgrade", uri(tmp_path, spanner_shard_count=4, retention_events_days=30)]) == 0
    assert ddl(connection) == upgraded  # nothing changed: nothing re-applied
    capsys.readouterr()

    # Changed, with create_tables: the column is made again with the new count; the policy takes the new age.
    changed = config(connection, spanner_shard_count=8, retention_events_days=60)
    assert await SpannerADKStore(changed).create_tables() == LATEST_VERSION
    assert generated(connection, "shard_id") == expected_shards(8)
    assert policies(connection) == {"adk_event": "OLDER_THAN(retention_ts, INTERVAL 60 DAY)"}
    assert shard_indexes(connection) == {table: ["shard_id", time] for table, (_, time) in SHARDED.items()}
    assert all(row[0] in range(8) for row in query(connection, "SELECT shard_id FROM adk_session"))

    # Off again: a URI without the keys sets them back to their defaults (configuration.md).
    assert await cli(["migrate", "upgrade", uri(tmp_path)]) == 0
    assert generated(connection, "shard_id") == {} and generated(connection, "retention_ts") == {}
    assert policies(connection) == {} and shard_indexes(connection) == {}
    assert ddl(connection) == before
    loaded = await sessions.get_session(app_name="a", user_id="u", session_id="s3")
    assert loaded is not None and len(loaded.events) == 2
    for each in (plain, changed):
        await each.close_pool()


async def test_an_options_upgrade_interrupted_after_its_statements_completes_on_the_next_run(
    connection: dict[str, Any],
) -> None:
    """Killed after its statements, before its records: the next run renders the same change over a schema that
    has it already. A policy added again, and a policy or column dropped again, count as done."""
    steps = [
        {},
        {"spanner_shard_count": 8, "retention_events_days": 30, "retention_memory_days": 30},
        {"spanner_shard_count": 4, "retention_events_days": 60},
        {},
    ]
    assert await SpannerADKStore(config(connection)).create_tables() == LATEST_VERSION
    for before, now in itertools.pairwise(steps):
        recorded = dict(query(connection, "SELECT meta_key, meta_value FROM adk_internal_metadata"))
        assert await SpannerADKStore(config(connection, **now)).create_tables() == LATEST_VERSION
        reached = ddl(connection)

        def forget(transaction: Any) -> None:
            for part in COMPONENTS:
                key = f"schema_options:{part}"
                transaction.execute_update(
                    "UPDATE adk_internal_metadata SET meta_value = @value WHERE meta_key = @key",
                    params={"value": recorded[key], "key": key},
                    param_types={"value": spanner.param_types.STRING, "key": spanner.param_types.STRING},
                )

        database(connection).run_in_transaction(forget)
        assert await SpannerADKStore(config(connection, **now)).create_tables() == LATEST_VERSION, (before, now)
        assert ddl(connection) == reached, (before, now)


async def test_drop_tables_removes_the_shard_indexes_and_the_policies(connection: dict[str, Any]) -> None:
    options = config(connection, spanner_shard_count=4, retention_events_days=7, retention_artifacts_days=7)
    assert await SpannerADKMemoryStore(options).create_tables() == LATEST_VERSION
    await drop_tables(options)
    assert ddl(connection) == []
    assert await SpannerADKStore(config(connection, spanner_shard_count=4)).create_tables() == LATEST_VERSION
    await options.close_pool()


async def test_the_emulator_refuses_table_options_and_the_database_upgrades_without_them(
    connection: dict[str, Any],
) -> None:
    """The emulator parses no ``ALTER TABLE|INDEX ... SET OPTIONS``: the upgrade stops there, records neither
    version 3 nor the options, and one without them completes."""
    refused = config(connection, spanner_table_options={"locality_group": "cold"})
    with pytest.raises(exceptions.InvalidArgument, match=r"Error parsing Spanner DDL statement: ALTER TABLE"):
        await SpannerADKStore(refused).create_tables()
    recorded = dict(query(connection, "SELECT meta_key, meta_value FROM adk_internal_metadata"))
    assert recorded.get("schema_version:sessions") == "2" and "schema_options:sessions" not in recorded
    change = "ALTER INDEX adk_session_list_idx SET OPTIONS (locality_group = 'cold')"
    with pytest.raises(exceptions.InvalidArgument, match=r"Error parsing Spanner DDL statement: ALTER INDEX"):
        database(connection).update_ddl([change]).result(60)
    plain = config(connection)
    assert await SpannerADKStore(plain).create_tables() == LATEST_VERSION
    service = SQLSpecSessionService(SpannerADKStore(plain))
    session = await service.create_session(app_name="a", user_id="u", session_id="s")
    await service.append_event(session, event("works"))
    for each in (refused, plain):
        await each.close_pool()
