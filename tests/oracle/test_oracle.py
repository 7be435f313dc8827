"""Oracle dialect and ``oracledb`` adapter checks without an Oracle server.

(1) Every statement the dialect renders, and every statement the adapter sent
in these tests, parses with sqlglot's ``oracle`` dialect (the Oracle Text
index DDL is the one statement sqlglot cannot represent; it is checked
textually). (2) A recording fake pool (tests/oracle/fake_oracledb.py) checks,
per store operation, the statements, their parameters and the transaction
boundaries, on the async and the sync config alike. None of this ran against
a live Oracle server.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import oracledb
import pytest
import sqlglot
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from sqlglot import exp

from sqlspec_adk.adapters.oracledb import (
    OracledbAsyncADKArtifactStore,
    OracledbAsyncADKMemoryStore,
    OracledbAsyncADKStore,
    OracledbAsyncConfig,
    OracledbSyncADKArtifactStore,
    OracledbSyncADKMemoryStore,
    OracledbSyncADKStore,
    OracledbSyncConfig,
)
from sqlspec_adk.adapters.oracledb.config import output_type_handler
from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactWrite
from sqlspec_adk.dialects.oracle import OracleDialect, plain_json, to_colon_params
from tests.helpers import event
from tests.oracle.fake_oracledb import AsyncPool, Recorder, SyncPool, ora_error

CTX_INDEX = re.compile(
    r'^CREATE INDEX "[A-Z0-9_]+" ON "[A-Z0-9_]+" \(search_text\) INDEXTYPE IS CTXSYS\.CONTEXT '
    r"PARAMETERS \('STOPLIST CTXSYS\.EMPTY_STOPLIST SYNC \(ON COMMIT\)'\)$"
)
SENT: list[str] = []  # every statement the fake received in this module, for the parse check at the end

MODES = {
    "async": (OracledbAsyncConfig, OracledbAsyncADKStore, OracledbAsyncADKMemoryStore, OracledbAsyncADKArtifactStore),
    "sync": (OracledbSyncConfig, OracledbSyncADKStore, OracledbSyncADKMemoryStore, OracledbSyncADKArtifactStore),
}


def assert_parses(sql: str) -> None:
    """``sql`` (``?`` or ``:n`` placeholders) parses as a real Oracle statement, not sqlglot's Command fallback."""
    text = re.sub(r":\d+", "?", sql)
    if CTX_INDEX.match(text):
        return
    parsed = sqlglot.parse_one(text, read="oracle")
    assert not isinstance(parsed, exp.Command), text


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    rec = Recorder()
    monkeypatch.setattr(oracledb, "create_pool", lambda **kw: SyncPool(rec, **kw))
    monkeypatch.setattr(oracledb, "create_pool_async", lambda **kw: AsyncPool(rec, **kw))
    yield rec
    SENT.extend(sql for sql, _ in rec.statements())


@pytest.fixture(params=sorted(MODES))
def mode(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    return MODES[request.param]


def build(mode: tuple[Any, ...], index: int, **adk: Any) -> Any:
    config = mode[0](
        connection_config={"user": "adk", "password": "pw", "dsn": "db/free"}, extension_config={"adk": adk}
    )
    return mode[index](config)


def batch(recorder: Recorder) -> tuple[Any, ...]:
    """The one executemany call of the log."""
    (entry,) = [entry for entry in recorder.log if entry[0] == "executemany"]
    return entry


def transaction_of(recorder: Recorder) -> list[str]:
    return recorder.events()


# ----------------------------------------------------------------- dialect
@pytest.mark.parametrize("version", ["19.23.0.0.0", "23.4.0.24.5"])
@pytest.mark.parametrize("owner", [None, "tenant_id NUMBER(10) NOT NULL"])
def test_every_rendered_statement_parses(version: str, owner: str | None) -> None:
    dialect = OracleDialect(ADKConfig.from_mapping({"owner_id_column": owner}))
    dialect.observe_server_version(version)
    statements = [*dialect.statements(), *dialect.memory_statements(), *dialect.artifact_statements()]
    statements += list(dialect.drop_tables())  # type: ignore[arg-type]
    for sql in statements:
        assert_parses(sql if isinstance(sql, str) else sql.sql)
    assert sum(bool(CTX_INDEX.match(sql)) for sql in statements if isinstance(sql, str)) == 2  # ddl + memory list


def test_json_storage_follows_server_version() -> None:
    dialect = OracleDialect(ADKConfig())
    dialect.observe_server_version("19.23.0.0.0")
    old = "\n".join(dialect.all_ddl())
    assert "state CLOB CHECK (state IS JSON) NOT NULL" in old and " JSON NOT NULL" not in old
    dialect.observe_server_version("21.3.0.0.0")
    new = "\n".join(dialect.all_ddl())
    assert "state JSON NOT NULL" in new
    # Event and memory content are IS JSON checked CLOBs on every version: read back as the exact text written.
    for ddl in (old, new):
        assert "event_data CLOB CHECK (event_data IS JSON) NOT NULL" in ddl
        assert "content_json CLOB CHECK (content_json IS JSON)" in ddl
        assert "timestamp BINARY_DOUBLE NOT NULL" in ddl
        assert "IF NOT EXISTS" not in ddl and "ON CONFLICT" not in ddl and "LIMIT" not in ddl


def test_identifiers_follow_oracle_rules() -> None:
    dialect = OracleDialect(ADKConfig.from_mapping({"session_table": "my_sessions", "schema": "app"}))
    assert dialect.session_table == '"APP"."MY_SESSIONS"'
    assert dialect.index_name("x" * 63 + "_session", "list_idx") == '"' + ("X" * 63 + "_SESSION_LIST_IDX") + '"'
    long_name = dialect.index_name("t" * 63, "s" * 80)
    assert len(long_name) == 130  # 128 characters plus the quotes
    for sql in dialect.all_ddl():
        for name in re.findall(r'"([^"]+)"', sql):
            assert name == name.upper() and len(name.encode()) <= 128


def test_colon_placeholders_leave_quoted_text_alone() -> None:
    assert to_colon_params("SELECT '?' FROM t WHERE a = ? AND b = ?") == "SELECT '?' FROM t WHERE a = :1 AND b = :2"


def test_native_json_numbers_come_back_as_int_and_float() -> None:
    value = {"a": decimal.Decimal("3"), "b": [decimal.Decimal("0.1"), decimal.Decimal("1E+2")], "c": "x"}
    assert plain_json(value) == {"a": 3, "b": [0.1, 100.0], "c": "x"}
    assert type(plain_json(decimal.Decimal("3"))) is int


def test_output_type_handler_fetches_clob_as_text() -> None:
    made: list[tuple[Any, dict[str, Any]]] = []
    cursor = SimpleNamespace(arraysize=50, var=lambda kind, **kw: made.append((kind, kw)) or kind)
    assert output_type_handler(cursor, SimpleNamespace(type_code=oracledb.DB_TYPE_CLOB)) is oracledb.DB_TYPE_LONG
    output_type_handler(cursor, SimpleNamespace(type_code=oracledb.DB_TYPE_JSON))
    assert made[-1][1]["outconverter"] is plain_json
    assert output_type_handler(cursor, SimpleNamespace(type_code=oracledb.DB_TYPE_NUMBER)) is None


# ------------------------------------------------------ recorded operations
async def test_create_tables_skips_existing_objects_only(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("CREATE TABLE", ora_error(955))
    recorder.answer("CREATE INDEX", ora_error(1408))
    assert await store.arun(store.op_create_tables(), write=True) == 1
    words = transaction_of(recorder)
    assert words[0] == "acquire" and words[-2:] == ["commit", "release"]
    assert "SET" not in words  # a write transaction is not read-only
    recorder.log.clear()
    recorder.answer("CREATE TABLE", ora_error(1031))  # insufficient privileges is not "already there"
    with pytest.raises(oracledb.DatabaseError):
        await store.arun(store.op_create_tables(), write=True)
    assert transaction_of(recorder)[-2:] == ["rollback", "release"]


async def test_create_session_is_one_merge_then_state_read(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("FROM dual", [(None, None)])
    await store.arun(
        store.op_create_session(app_name="app", user_id="u", session_id="s", state={"k": 1}, now=10.5), write=True
    )
    sent = recorder.statements()
    assert sent[0][0].startswith('MERGE INTO "ADK_SESSION" t USING (SELECT :1 AS app_name')
    assert "WHEN MATCHED" not in sent[0][0]
    assert sent[0][1] == ["app", "u", "s", '{"k":1}', 10.5, 10.5]
    assert transaction_of(recorder) == ["acquire", "MERGE", "SELECT", "commit", "release"]


@pytest.mark.parametrize("outcome", [0, ora_error(1)], ids=["key-present", "lost-insert-race"])
async def test_duplicate_session_is_already_exists(recorder: Recorder, mode: tuple[Any, ...], outcome: Any) -> None:
    store = build(mode, 1)
    recorder.answer('MERGE INTO "ADK_SESSION"', outcome)
    with pytest.raises(AlreadyExistsError):
        await store.arun(
            store.op_create_session(app_name="app", user_id="u", session_id="s", state={}, now=1.0), write=True
        )
    assert transaction_of(recorder) == ["acquire", "MERGE", "rollback", "release"]


async def test_append_event_is_one_transaction_with_locked_state_merges(
    recorder: Recorder, mode: tuple[Any, ...]
) -> None:
    store = build(mode, 1)
    recorder.answer("SELECT revision, update_time, state", [(3, 5.0, {"k": 1})])
    recorder.answer('FROM "ADK_APP_STATE" WHERE app_name = :1 FOR UPDATE', [({"old": True},)])
    recorder.answer('FROM "ADK_USER_STATE" WHERE app_name = :1 AND user_id = :2 FOR UPDATE', [])
    appended = event("hi", delta={"k": 2, "app:a": 1, "user:u": "x"}, timestamp=7.25)
    revision = await store.arun(
        store.op_append_event(
            app_name="app", user_id="u", session_id="s", expected_revision=3, expected_update_time=5.0, event=appended
        ),
        write=True,
    )
    assert revision == 4
    assert transaction_of(recorder) == [
        "acquire",
        *("SELECT", "UPDATE", "INSERT"),
        *("MERGE", "SELECT", "UPDATE"),
        *("MERGE", "SELECT", "UPDATE"),
        *("commit", "release"),
    ]
    sent = recorder.statements()
    assert sent[1][0].endswith("revision = :6") and sent[1][1][0] == '{"k":2}' and sent[1][1][-1] == 3
    assert sent[2][0].startswith('INSERT INTO "ADK_EVENT"') and sent[2][1][3] == 4 and sent[2][1][7] == 7.25
    assert sent[5][1] == ['{"old":true,"a":1}', 7.25, "app"]
    assert sent[8][1] == ['{"u":"x"}', 7.25, "app", "u"]


async def test_stale_append_writes_nothing(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer('UPDATE "ADK_SESSION"', 0)  # a concurrent writer moved the revision
    recorder.answer("SELECT revision FROM", [(4,)])  # the session exists: stale, not missing
    with pytest.raises(StaleSessionError):
        await store.arun(
            store.op_append_event(
                app_name="a", user_id="u", session_id="s", expected_revision=3, expected_update_time=5.0, event=event()
            ),
            write=True,
        )
    # No session-state change: the revision-checked UPDATE runs first, the row is read only when it missed.
    assert transaction_of(recorder) == ["acquire", "UPDATE", "SELECT", "rollback", "release"]


async def test_reads_run_in_a_read_only_transaction(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer('FROM "ADK_SESSION" s WHERE', [({"k": 1}, 1.0, 2.0, 4, None, {"u": 1})])
    recorder.answer('FROM "ADK_EVENT"', [("e2", 2, 2.0, event("b").model_dump_json()), ("e1", 1, 1.0, "{}")])
    snapshot = await store.arun(
        store.op_get_session(app_name="a", user_id="u", session_id="s", num_recent_events=2), write=False
    )
    assert snapshot is not None and [e["id"] for e in snapshot["events"]] == ["e1", "e2"]
    assert transaction_of(recorder) == ["acquire", "SET", "SELECT", "SELECT", "commit", "release"]
    events_sql, params = recorder.statements()[2]
    assert events_sql.endswith("ORDER BY seq DESC FETCH FIRST :4 ROWS ONLY") and params == ["a", "u", "s", 2]


async def test_long_text_is_bound_as_clob(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("FROM dual", [(None, None)])
    await store.arun(
        store.op_create_session(app_name="a", user_id="u", session_id="s", state={"big": "x" * 20_000}, now=1.0),
        write=True,
    )
    sizes = [entry[1] for entry in recorder.log if entry[0] == "sizes"]
    assert sizes == [(None, None, None, oracledb.DB_TYPE_CLOB, None, None)]


async def test_memory_search_uses_contains_on_escaped_tokens(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    recorder.answer("CONTAINS(search_text", [("id1", "s", "e1", "user", 1.0, '{"parts":[{"text":"x"}]}', None)])
    query = 'near( "AND" {x} OR 100% _ ? café'
    found = await store.arun(store.op_search(app_name="a", user_id="u", query=query), write=False)
    assert [record["event_id"] for record in found] == ["e1"]
    sql, params = recorder.statements()[-1]
    assert "CONTAINS(search_text, :1, 1) > 0" in sql and "ORDER BY SCORE(1) DESC" in sql
    assert params[0] == "{near} ACCUM {and} ACCUM {x} ACCUM {or} ACCUM {100} ACCUM {cafe}"
    assert params[1:] == ["a", "u", 20]
    for text in ("near(", '"AND"', "100%", "café"):
        assert text not in sql


async def test_memory_fallback_search_is_like(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2, memory_use_fts=False)
    await store.arun(store.op_search(app_name="a", user_id="u", query="50%_off"), write=False)
    sql, params = recorder.statements()[-1]
    assert "CONTAINS" not in sql and "LIKE :1 ESCAPE '!'" in sql and sql.endswith("FETCH FIRST :5 ROWS ONLY")
    assert params[:2] == ["% 50 %", "% off %"]


def memory_entry(memory_id: str, text: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, author="user", content=types.Content(role="user", parts=[types.Part(text=text)]))


async def test_add_memory_merges_a_batch(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    await store.arun(
        store.op_add_memories(
            app_name="a", user_id="u", memories=[memory_entry("m1", "hello"), memory_entry("m2", "x")]
        ),
        write=True,
    )
    # Insert-if-absent first (a lost insert race is not an error), then the replacing MERGE,
    # which then only ever updates: no unique-key race on either statement.
    keep, replace = [entry for entry in recorder.log if entry[0] == "executemany"]
    assert keep[1].startswith('MERGE INTO "ADK_MEMORY" t') and "WHEN MATCHED" not in keep[1]
    assert keep[3] == {"batcherrors": True}
    kind, sql, rows, options = replace
    assert kind == "executemany" and sql.startswith('MERGE INTO "ADK_MEMORY" t') and "WHEN MATCHED THEN UPDATE" in sql
    assert [row[4] for row in rows] == ["m1", "m2"] and options == {"batcherrors": False}
    assert transaction_of(recorder) == ["acquire", "MERGE", "MERGE", "commit", "release"]


async def test_event_memory_ignores_lost_races_but_not_other_errors(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    events = [event("hello there", id="e1"), event("again", id="e2")]
    recorder.answer('MERGE INTO "ADK_MEMORY"', [SimpleNamespace(code=1, offset=1)])
    await store.arun(store.op_add_events(app_name="a", user_id="u", events=events, session_id="s"), write=True)
    assert batch(recorder)[3] == {"batcherrors": True} and "WHEN MATCHED" not in batch(recorder)[1]
    assert transaction_of(recorder)[-2:] == ["commit", "release"]
    recorder.log.clear()
    recorder.answer('MERGE INTO "ADK_MEMORY"', [SimpleNamespace(code=2290, offset=0, message="check violated")])
    with pytest.raises(oracledb.DatabaseError):
        await store.arun(store.op_add_events(app_name="a", user_id="u", events=events, session_id="s"), write=True)
    assert transaction_of(recorder)[-2:] == ["rollback", "release"]


async def test_artifact_version_is_allocated_and_merged(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 3)
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    write = ArtifactWrite("inline", "text/plain", None, "file:///x/0", "{}", 1.0, 3, "abc")
    recorder.answer("COALESCE(MAX(version) + 1, 0)", [(2,)])
    assert await store.arun(store.op_save_version(key, write), write=True) == 2
    sql, params = recorder.statements()[1]
    assert sql.startswith('MERGE INTO "ADK_ARTIFACT" t') and "WHEN MATCHED" not in sql
    assert params[:5] == ["a", "u", "s", "f.txt", 2]
    assert transaction_of(recorder) == ["acquire", "SELECT", "MERGE", "commit", "release"]


async def test_close_pool_closes_the_driver_pool(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("FROM dual", [(None, None)])
    await store.arun(store.op_get_scoped_state(app_name="a", user_id="u"), write=False)
    config = store.config
    assert config.dialect.native_json is True  # 23ai, from the connection's version
    if config.is_async:
        await config.close_pool()
    else:
        config.close_pool()
    assert ("close", True) in recorder.log
    assert recorder.log[0] == ("create_pool", {"user": "adk", "password": "pw", "dsn": "db/free"})


def test_everything_sent_parses() -> None:
    """Runs last in this module: every statement the fakes received parses as Oracle SQL."""
    assert len(SENT) > 20
    for sql in SENT:
        assert_parses(sql)
