"""Oracle's per-backend options (issue 18), checked without an Oracle server: the DDL schema version 3 renders.

Nothing here ran on Oracle. Each rendered statement is checked two ways:

- sqlglot's ``oracle`` dialect parses it where it can. With sqlglot 30.x that is the query inside the
  ``oracle_json_storage`` check block, the ``DROP INDEX`` inside the Oracle Text drop block, and the
  ``partition_day`` virtual column without its ``VIRTUAL`` keyword (sqlglot knows ``GENERATED ALWAYS AS``,
  not ``VIRTUAL``). It cannot parse ``INMEMORY`` / ``NO INMEMORY``, ``ROW STORE COMPRESS`` / ``NOCOMPRESS``,
  ``ENABLE ROW MOVEMENT``, ``MODIFY PARTITION BY ... ONLINE UPDATE INDEXES``, the Oracle Text index, nor
  PL/SQL blocks: those are matched whole against exact patterns (:data:`SHAPES`).
- Exact statement lists per option and per change of option (``statements_since``): only the clauses the
  option asks for, on the tables configuration.md names, and the refusal where Oracle cannot change a table
  in place (partitioning turned off). The recording fake (fake_oracledb.py) checks what ``create_tables``
  sends: a new database, an option changed on a database that recorded other options, a failed check.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import oracledb
import pytest
import sqlglot
from google.adk.platform import time as platform_time
from sqlglot import exp

from sqlspec_adk.adapters.oracledb import (
    OracledbAsyncADKStore,
    OracledbAsyncConfig,
    OracledbSyncADKStore,
    OracledbSyncConfig,
)
from sqlspec_adk.dialects.oracle import OracleDialect
from sqlspec_adk.errors import MigrationError
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.migrations import v0003_backend_options as v3
from sqlspec_adk.migrations.runner import COMPONENTS, LATEST_VERSION, options_signature
from sqlspec_adk.settings import ADKConfig
from tests.oracle.fake_oracledb import AsyncPool, Recorder, SyncPool, ora_error

TABLE = r'"[A-Z0-9_]+"(?:\."[A-Z0-9_]+")?'
INDEX = r'"[A-Z0-9_]+"'
#: The statements sqlglot cannot parse, each matched whole.
SHAPES = [
    re.compile(rf"ALTER TABLE {TABLE} (?:NO )?INMEMORY"),
    re.compile(rf"ALTER TABLE {TABLE} (?:ROW STORE COMPRESS (?:BASIC|ADVANCED)|NOCOMPRESS)"),
    re.compile(rf"ALTER TABLE {TABLE} ENABLE ROW MOVEMENT"),
    re.compile(
        rf"ALTER TABLE {TABLE} MODIFY PARTITION BY HASH \(app_name, user_id\) PARTITIONS \d+ ONLINE UPDATE INDEXES"
    ),
    re.compile(
        rf'ALTER TABLE {TABLE} MODIFY PARTITION BY RANGE \("PARTITION_DAY"\) INTERVAL \(\d+\) '
        r"\(PARTITION p0 VALUES LESS THAN \(0\)\) ONLINE UPDATE INDEXES"
    ),
    re.compile(
        rf"CREATE INDEX {INDEX} ON {TABLE} \(search_text\) INDEXTYPE IS CTXSYS\.CONTEXT "
        r"PARAMETERS \('STOPLIST CTXSYS\.EMPTY_STOPLIST SYNC \(ON COMMIT\)'\)"
    ),
]
DROP_BLOCK = re.compile(
    r"BEGIN EXECUTE IMMEDIATE '(?P<drop>DROP INDEX [^']+)'; "
    r"EXCEPTION WHEN OTHERS THEN IF SQLCODE <> -1418 THEN RAISE; END IF; END;"
)
JSON_BLOCK = re.compile(
    r"DECLARE found VARCHAR2\(300\); BEGIN (?P<query>SELECT .+? INTO found FROM all_tab_columns WHERE .+?); "
    r"IF found IS NOT NULL THEN RAISE_APPLICATION_ERROR\(-20180, '(?P<message>[^']+)' \|\| found \|\| "
    r"'(?P<advice>[^']+)'\); END IF; END;"
)
VIRTUAL_DAY = re.compile(
    rf'ALTER TABLE {TABLE} ADD \("PARTITION_DAY" NUMBER\(10\) GENERATED ALWAYS AS \(.+\) VIRTUAL\)'
)


def dialect(version: str = "23.4.0.24.5", **adk: Any) -> OracleDialect:
    found = OracleDialect(ADKConfig.from_mapping(adk))
    found.observe_server_version(version)
    return found


def rendered(found: OracleDialect, recorded: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Version 3's statements per component, from the options in ``recorded`` (None: a new database)."""
    return {part: v3.statements_since(found, part, recorded or {}) for part in COMPONENTS}


def parsed(sql: str) -> exp.Expression | None:
    """sqlglot's statement for ``sql``, or None where it cannot represent it (a Command, or an error)."""
    try:
        tree = sqlglot.parse_one(sql, read="oracle")
    except sqlglot.errors.ParseError:
        return None
    return None if isinstance(tree, exp.Command) else tree


def check(sql: str) -> None:
    """``sql`` parses with sqlglot, or has one of the known shapes with its parseable parts parsed."""
    if parsed(sql) is not None:
        return
    if block := JSON_BLOCK.fullmatch(sql):
        assert isinstance(parsed(block["query"]), exp.Select), block["query"]
    elif block := DROP_BLOCK.fullmatch(sql):
        assert isinstance(parsed(block["drop"]), exp.Drop), block["drop"]
    elif VIRTUAL_DAY.fullmatch(sql):
        tree = parsed(sql.removesuffix(" VIRTUAL)") + ")")
        assert isinstance(tree, exp.Alter), sql
        column = tree.find(exp.ColumnDef)
        assert column is not None and column.name == "PARTITION_DAY"
        day = column.find(exp.Cast)
        # CAST(FLOOR(<time column> / 86400) AS NUMBER(10)): whole days since the epoch.
        assert day is not None and day.to.sql("oracle") == "NUMBER(10)"
        assert isinstance(day.this, exp.Floor) and isinstance(day.this.this, exp.Div)
        assert day.this.this.expression.sql() == "86400"
    else:
        assert any(shape.fullmatch(sql) for shape in SHAPES), sql


# ---------------------------------------------------------------- each option on a new database
def test_defaults_render_nothing_and_record_nothing() -> None:
    found = dialect()
    assert rendered(found) == {"sessions": [], "memory": [], "artifacts": []}
    assert all(v3.schema_options(found, part) == {} for part in COMPONENTS)


def test_inmemory_alters_the_session_event_and_memory_tables() -> None:
    found = rendered(dialect(oracle_inmemory=True))
    assert found == {
        "sessions": ['ALTER TABLE "ADK_SESSION" INMEMORY', 'ALTER TABLE "ADK_EVENT" INMEMORY'],
        "memory": ['ALTER TABLE "ADK_MEMORY" INMEMORY'],
        "artifacts": [],
    }
    for sql in (*found["sessions"], *found["memory"]):
        check(sql)


@pytest.mark.parametrize("method", ["basic", "advanced"])
def test_compression_is_row_store_compress_of_the_method(method: str) -> None:
    found = rendered(dialect(oracle_compression=method))
    clause = f"ROW STORE COMPRESS {method.upper()}"
    assert found == {
        "sessions": [f'ALTER TABLE "ADK_SESSION" {clause}', f'ALTER TABLE "ADK_EVENT" {clause}'],
        "memory": [f'ALTER TABLE "ADK_MEMORY" {clause}'],
        "artifacts": [],
    }
    for sql in (*found["sessions"], *found["memory"]):
        check(sql)
        assert "INMEMORY" not in sql and "PARTITION" not in sql


def text_index_drop() -> str:
    return (
        "BEGIN EXECUTE IMMEDIATE 'DROP INDEX \"ADK_MEMORY_FTS_IDX\"'; "
        "EXCEPTION WHEN OTHERS THEN IF SQLCODE <> -1418 THEN RAISE; END IF; END;"
    )


def text_index(table: str = '"ADK_MEMORY"') -> str:
    return (
        f'CREATE INDEX "ADK_MEMORY_FTS_IDX" ON {table} (search_text) INDEXTYPE IS CTXSYS.CONTEXT '
        "PARAMETERS ('STOPLIST CTXSYS.EMPTY_STOPLIST SYNC (ON COMMIT)')"
    )


@pytest.mark.parametrize(("adk", "partitions"), [({}, 16), ({"oracle_hash_partitions": 8}, 8)])
def test_hash_partitioning_converts_the_tables_online(adk: dict[str, Any], partitions: int) -> None:
    found = rendered(dialect(oracle_partitioning="hash", **adk))
    scheme = f"MODIFY PARTITION BY HASH (app_name, user_id) PARTITIONS {partitions} ONLINE UPDATE INDEXES"
    assert found == {
        "sessions": [f'ALTER TABLE "ADK_SESSION" {scheme}', f'ALTER TABLE "ADK_EVENT" {scheme}'],
        # Online conversion does not take a domain index: the Oracle Text index is dropped, then made again.
        "memory": [text_index_drop(), f'ALTER TABLE "ADK_MEMORY" {scheme}', text_index()],
        "artifacts": [],
    }
    for sql in (*found["sessions"], *found["memory"]):
        check(sql)


@pytest.mark.parametrize(("adk", "days"), [({}, 30), ({"oracle_range_interval_days": 7}, 7)])
def test_range_partitioning_is_by_whole_days_of_each_tables_time(adk: dict[str, Any], days: int) -> None:
    found = rendered(dialect(oracle_partitioning="range", **adk))
    scheme = (
        f'MODIFY PARTITION BY RANGE ("PARTITION_DAY") INTERVAL ({days}) (PARTITION p0 VALUES LESS THAN (0)) '
        "ONLINE UPDATE INDEXES"
    )

    def steps(table: str, time: str) -> list[str]:
        return [
            f'ALTER TABLE "{table}" ADD ("PARTITION_DAY" NUMBER(10) GENERATED ALWAYS AS '
            f"(CAST(FLOOR({time} / 86400) AS NUMBER(10))) VIRTUAL)",
            f'ALTER TABLE "{table}" ENABLE ROW MOVEMENT',
        ]

    memory = steps("ADK_MEMORY", "timestamp")
    assert found == {
        "sessions": [
            *steps("ADK_SESSION", "create_time"),
            f'ALTER TABLE "ADK_SESSION" {scheme}',
            *steps("ADK_EVENT", "timestamp"),
            f'ALTER TABLE "ADK_EVENT" {scheme}',
        ],
        "memory": [*memory, text_index_drop(), f'ALTER TABLE "ADK_MEMORY" {scheme}', text_index()],
        "artifacts": [],
    }
    for sql in (*found["sessions"], *found["memory"]):
        check(sql)


def test_without_full_text_search_the_memory_table_is_partitioned_alone() -> None:
    found = rendered(dialect(oracle_partitioning="hash", memory_use_fts=False))
    assert found["memory"] == [
        'ALTER TABLE "ADK_MEMORY" MODIFY PARTITION BY HASH (app_name, user_id) PARTITIONS 16 ONLINE UPDATE INDEXES'
    ]


def test_a_schema_qualifies_the_tables_and_the_text_index_keeps_version_1s_name() -> None:
    """Version 1 makes every index unqualified (in the current schema, wherever its table is): the drop before
    repartitioning names that same index, not one in the tables' schema."""
    found = dialect(schema="app", oracle_partitioning="hash", oracle_inmemory=True)
    memory = v3.statements(found, "memory")
    created = [sql for sql in v0001_initial.statements(found, "memory") if "CTXSYS.CONTEXT" in sql]
    assert memory[0] == 'ALTER TABLE "APP"."ADK_MEMORY" INMEMORY'
    assert memory[1] == text_index_drop()  # DROP INDEX "ADK_MEMORY_FTS_IDX", as version 1 created it
    assert memory[3] == created[0] == text_index('"APP"."ADK_MEMORY"')
    for sql in memory:
        check(sql)


def test_options_together_render_in_a_fixed_order() -> None:
    found = rendered(dialect(oracle_inmemory=True, oracle_compression="advanced", oracle_partitioning="hash"))
    assert [sql.split(" ", 3)[3] for sql in found["sessions"]] == [
        "INMEMORY",
        "INMEMORY",
        "ROW STORE COMPRESS ADVANCED",
        "ROW STORE COMPRESS ADVANCED",
        "MODIFY PARTITION BY HASH (app_name, user_id) PARTITIONS 16 ONLINE UPDATE INDEXES",
        "MODIFY PARTITION BY HASH (app_name, user_id) PARTITIONS 16 ONLINE UPDATE INDEXES",
    ]


# ---------------------------------------------------------------- JSON storage
@pytest.mark.parametrize(("version", "kind"), [("19.23.0.0.0", "CLOB CHECK (state IS JSON)"), ("21.3.0.0.0", "JSON")])
@pytest.mark.parametrize("storage", ["auto", "json", "clob"])
def test_state_columns_follow_the_server_version_whatever_the_storage_key(
    version: str, kind: str, storage: str
) -> None:
    """configuration.md: the table DDL (version 1) does not read oracle_json_storage; the version decides."""
    created = "\n".join(v0001_initial.statements(dialect(version, oracle_json_storage=storage), "sessions"))
    assert f"state {kind} NOT NULL" in created
    assert "event_data CLOB CHECK (event_data IS JSON) NOT NULL" in created


def test_auto_json_storage_checks_nothing() -> None:
    assert rendered(dialect(oracle_json_storage="auto")) == {"sessions": [], "memory": [], "artifacts": []}


@pytest.mark.parametrize(("storage", "expected"), [("json", "JSON"), ("clob", "CLOB")])
def test_json_or_clob_storage_adds_a_check_naming_the_columns(storage: str, expected: str) -> None:
    found = rendered(dialect(oracle_json_storage=storage))
    columns = {
        "sessions": [("ADK_SESSION", "STATE"), ("ADK_APP_STATE", "STATE"), ("ADK_USER_STATE", "STATE")],
        "memory": [("ADK_MEMORY", "CUSTOM_METADATA")],
        "artifacts": [("ADK_ARTIFACT", "CUSTOM_METADATA")],
    }
    for part, pairs in columns.items():
        (block,) = found[part]  # the check only: no other clause
        check(block)
        match = JSON_BLOCK.fullmatch(block)
        assert match is not None
        query = match["query"]
        assert f"data_type <> '{expected}'" in query
        assert "owner = SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')" in query
        for table, column in pairs:
            assert f"(table_name = '{table}' AND column_name = '{column}')" in query
        assert (
            match["message"] == f"sqlspec-adk: oracle_json_storage={storage} applies when the tables are created, and "
        )
        assert "keep the storage the tables were made with (oracle_json_storage=auto)" in match["advice"]


def test_the_json_check_reads_the_configured_schema() -> None:
    (block,) = v3.statements(dialect(schema="app", oracle_json_storage="json"), "artifacts")
    assert "WHERE owner = 'APP' AND" in block
    check(block)


# ---------------------------------------------------------------- changing an option on an existing database
def since(now: dict[str, Any], before: dict[str, Any]) -> dict[str, list[str]]:
    """Version 3's statements from the options ``before`` recorded to ``now`` configured (both adk mappings)."""
    recorded = {part: json.loads(options_signature(dialect(**before), part)) for part in COMPONENTS}
    found = dialect(**now)
    return {part: v3.statements_since(found, part, recorded[part]) for part in COMPONENTS}


def test_an_unchanged_option_renders_nothing() -> None:
    adk = {"oracle_inmemory": True, "oracle_compression": "basic", "oracle_partitioning": "hash"}
    assert since(adk, adk) == {"sessions": [], "memory": [], "artifacts": []}


def test_inmemory_off_again_is_no_inmemory() -> None:
    found = since({}, {"oracle_inmemory": True})
    assert found["sessions"] == ['ALTER TABLE "ADK_SESSION" NO INMEMORY', 'ALTER TABLE "ADK_EVENT" NO INMEMORY']
    assert found["memory"] == ['ALTER TABLE "ADK_MEMORY" NO INMEMORY'] and found["artifacts"] == []
    for sql in found["sessions"]:
        check(sql)


@pytest.mark.parametrize(
    ("before", "now", "clause"),
    [
        ("basic", "advanced", "ROW STORE COMPRESS ADVANCED"),
        ("advanced", "basic", "ROW STORE COMPRESS BASIC"),
        ("advanced", "none", "NOCOMPRESS"),
    ],
)
def test_compression_changes_apply_to_blocks_written_from_then_on(before: str, now: str, clause: str) -> None:
    """A plain ALTER TABLE (no MOVE): configuration.md says existing rows stay as stored."""
    found = since({"oracle_compression": now}, {"oracle_compression": before})
    assert found["sessions"] == [f'ALTER TABLE "ADK_SESSION" {clause}', f'ALTER TABLE "ADK_EVENT" {clause}']
    assert found["memory"] == [f'ALTER TABLE "ADK_MEMORY" {clause}']
    assert not any("MOVE" in sql for sql in found["sessions"])


def test_a_new_partition_count_converts_the_tables_again() -> None:
    found = since(
        {"oracle_partitioning": "hash", "oracle_hash_partitions": 32},
        {"oracle_partitioning": "hash", "oracle_hash_partitions": 16},
    )
    scheme = "MODIFY PARTITION BY HASH (app_name, user_id) PARTITIONS 32 ONLINE UPDATE INDEXES"
    assert found["sessions"] == [f'ALTER TABLE "ADK_SESSION" {scheme}', f'ALTER TABLE "ADK_EVENT" {scheme}']
    assert found["memory"] == [text_index_drop(), f'ALTER TABLE "ADK_MEMORY" {scheme}', text_index()]


def test_hash_to_range_adds_the_day_column_and_converts() -> None:
    found = since({"oracle_partitioning": "range"}, {"oracle_partitioning": "hash"})
    assert [sql.split(" ", 4)[3] for sql in found["sessions"]] == ["ADD", "ENABLE", "MODIFY"] * 2
    assert "PARTITION BY RANGE" in found["sessions"][2]
    for sql in found["sessions"]:
        check(sql)


@pytest.mark.parametrize("before", [{"oracle_partitioning": "hash"}, {"oracle_partitioning": "range"}])
def test_partitioning_cannot_be_turned_off_again(before: dict[str, Any]) -> None:
    with pytest.raises(MigrationError, match=r"Oracle does not turn a partitioned table back into a plain one"):
        since({}, before)


def test_other_options_change_without_repartitioning() -> None:
    found = since({"oracle_partitioning": "hash", "oracle_inmemory": True}, {"oracle_partitioning": "hash"})
    assert found["sessions"] == ['ALTER TABLE "ADK_SESSION" INMEMORY', 'ALTER TABLE "ADK_EVENT" INMEMORY']
    assert found["memory"] == ['ALTER TABLE "ADK_MEMORY" INMEMORY']


# ---------------------------------------------------------------- what create_tables sends (recording fake)
MODES = {
    "async": (OracledbAsyncConfig, OracledbAsyncADKStore),
    "sync": (OracledbSyncConfig, OracledbSyncADKStore),
}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(oracledb, "create_pool", lambda **kw: SyncPool(rec, **kw))
    monkeypatch.setattr(oracledb, "create_pool_async", lambda **kw: AsyncPool(rec, **kw))
    monkeypatch.setattr(platform_time, "get_time", lambda: 10.5)
    return rec


@pytest.fixture(params=sorted(MODES))
def mode(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    return MODES[request.param]


async def create_tables(mode: tuple[Any, ...], **adk: Any) -> int:
    config = mode[0](
        connection_config={"user": "adk", "password": "pw", "dsn": "db/free"}, extension_config={"adk": adk}
    )
    result = mode[1](config).create_tables()
    return int(await result if inspect.isawaitable(result) else result)


def recorded_state(before: dict[str, Any], version: int = LATEST_VERSION) -> list[tuple[str, str]]:
    """The metadata rows of a database at ``version`` whose tables were made with the options ``before``."""
    found = dialect(**before)
    rows = [("schema_version", str(version))]
    for part in COMPONENTS:
        rows += [(f"schema_version:{part}", str(version)), (f"schema_options:{part}", options_signature(found, part))]
    return rows


def records(recorder: Recorder) -> dict[str, list[str]]:
    """The values each metadata key was set to (the runner's UPDATE; the fake counts it as one row), in order."""
    found: dict[str, list[str]] = {}
    for sql, params in recorder.statements():
        if sql.startswith('UPDATE "ADK_INTERNAL_METADATA" SET meta_value = :1 WHERE meta_key = :2'):
            found.setdefault(params[1], []).append(params[0])
    return found


def contains_run(sent: list[str], expected: list[str]) -> bool:
    """``expected`` is sent as one run of consecutive statements."""
    return any(sent[start : start + len(expected)] == expected for start in range(len(sent) - len(expected) + 1))


async def test_a_new_database_gets_each_components_options_after_its_tables(
    recorder: Recorder, mode: tuple[Any, ...]
) -> None:
    adk = {"oracle_inmemory": True, "oracle_compression": "basic", "oracle_partitioning": "hash"}
    assert await create_tables(mode, **adk) == LATEST_VERSION
    sent = [sql for sql, _ in recorder.statements()]
    expected = rendered(dialect(**adk))
    for part in ("sessions", "memory"):
        assert contains_run(sent, expected[part]), part
    # After the component's tables: version 1's CREATE TABLE comes first.
    assert sent.index('ALTER TABLE "ADK_SESSION" INMEMORY') > min(
        index for index, sql in enumerate(sent) if sql.startswith('CREATE TABLE "ADK_SESSION"')
    )
    # The options are recorded with the component, so the next run finds nothing changed.
    assert records(recorder)["schema_options:sessions"] == [options_signature(dialect(**adk), "sessions")]
    assert not any('"ADK_ARTIFACT" INMEMORY' in sql or '"ADK_APP_STATE" ROW' in sql for sql in sent)


async def test_an_option_changed_on_an_existing_database_sends_only_the_change(
    recorder: Recorder, mode: tuple[Any, ...]
) -> None:
    before = {"oracle_compression": "basic"}
    now = {"oracle_compression": "advanced", "oracle_inmemory": True}
    recorder.answer("SELECT meta_key, meta_value FROM", recorded_state(before))
    assert await create_tables(mode, **now) == LATEST_VERSION
    sent = [sql for sql, _ in recorder.statements()]
    alters = [sql for sql in sent if sql.startswith("ALTER TABLE") and "ADD (" not in sql]
    assert alters == [
        'ALTER TABLE "ADK_SESSION" INMEMORY',
        'ALTER TABLE "ADK_EVENT" INMEMORY',
        'ALTER TABLE "ADK_SESSION" ROW STORE COMPRESS ADVANCED',
        'ALTER TABLE "ADK_EVENT" ROW STORE COMPRESS ADVANCED',
        'ALTER TABLE "ADK_MEMORY" INMEMORY',
        'ALTER TABLE "ADK_MEMORY" ROW STORE COMPRESS ADVANCED',
    ]
    # The artifact component's options did not change: none of its versions runs again.
    assert not any('"ADK_ARTIFACT"' in sql for sql in sent)


async def test_partitioning_turned_off_is_refused_before_any_ddl(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    recorder.answer("SELECT meta_key, meta_value FROM", recorded_state({"oracle_partitioning": "range"}))
    with pytest.raises(MigrationError, match="keep oracle_partitioning"):
        await create_tables(mode)
    sent = [sql for sql, _ in recorder.statements()]
    assert not any(sql.startswith(("ALTER", "BEGIN", "DECLARE")) for sql in sent)
    assert sent[-1].startswith('DELETE FROM "ADK_INTERNAL_METADATA" WHERE meta_key = :1')  # the lease given back


async def test_a_storage_mismatch_fails_the_upgrade_and_records_no_version(
    recorder: Recorder, mode: tuple[Any, ...]
) -> None:
    recorder.version = "19.23.0.0.0"  # CLOB state columns
    recorder.answer("DECLARE found", ora_error(20180))
    with pytest.raises(oracledb.DatabaseError):
        await create_tables(mode, oracle_json_storage="json")
    (check_block,) = [sql for sql, _ in recorder.statements() if sql.startswith("DECLARE")]
    assert "data_type <> 'JSON'" in check_block
    # Versions 1 and 2 of the sessions are recorded, 3 is not (its check failed), nor are the options.
    assert records(recorder) == {"schema_version:sessions": ["1", "2"]}
