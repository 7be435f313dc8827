"""Oracle dialect and ``oracledb`` adapter checks without an Oracle server.

(1) Every statement the dialect renders (its parts, schema version 1 and the
teardown), and every statement the adapter sent in these tests, parses with
sqlglot's ``oracle`` dialect (the Oracle Text index DDL is the one statement
sqlglot cannot represent; it is checked textually). (2) A recording fake pool
(tests/oracle/fake_oracledb.py) checks, per store operation, the statements,
their parameters and the transaction boundaries, on the async and the sync
config alike, and how the engine's retries play out on Oracle's errors
(deadlock, serialization failure, lost connection). None of this ran against
a live Oracle server.
"""

from __future__ import annotations

import decimal
import inspect
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
from google.adk.platform import time as platform_time
from google.genai import types
from sqlglot import exp

from sqlspec_adk.adapters._oracle import DROP_NOTE, classify_oracle
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
from sqlspec_adk.dialects.oracle import OracleDialect, plain_json
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import LATEST_VERSION
from sqlspec_adk.migrations.teardown import drop_statements, drop_tables
from sqlspec_adk.paramstyle import colon
from sqlspec_adk.records import ArtifactKey, ArtifactWrite, Expected
from sqlspec_adk.settings import ADKConfig
from tests.helpers import event
from tests.oracle.fake_oracledb import AsyncPool, Recorder, SyncPool, once, ora_error

CTX_INDEX = re.compile(
    r'^CREATE INDEX "[A-Z0-9_]+" ON "[A-Z0-9_]+" \(search_text\) INDEXTYPE IS CTXSYS\.CONTEXT '
    r"PARAMETERS \('STOPLIST CTXSYS\.EMPTY_STOPLIST SYNC \(ON COMMIT\)'\)$"
)
SENT: list[str] = []  # every statement the fake received in this module, for the parse check at the end
EVENT_INSERT = 'INSERT INTO "ADK_EVENT"'
SESSION_ROW = "SELECT s.revision, s.update_time, s.state"

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


def all_ddl(dialect: OracleDialect) -> list[str]:
    return [sql for part in v0001_initial.COMPONENTS for sql in v0001_initial.statements(dialect, part)]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    rec = Recorder()
    monkeypatch.setattr(oracledb, "create_pool", lambda **kw: SyncPool(rec, **kw))
    monkeypatch.setattr(oracledb, "create_pool_async", lambda **kw: AsyncPool(rec, **kw))
    monkeypatch.setattr(platform_time, "get_time", lambda: 10.5)
    yield rec
    SENT.extend(sql for sql, _ in rec.statements())


@pytest.fixture(params=sorted(MODES))
def mode(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    return MODES[request.param]


def build(mode: tuple[Any, ...], index: int, *, schema_checked: bool = True, **adk: Any) -> Any:
    """A store on the recording driver; its schema counted as current (no version reads in the log)."""
    config = mode[0](
        connection_config={"user": "adk", "password": "pw", "dsn": "db/free"}, extension_config={"adk": adk}
    )
    if schema_checked:
        mark_current(config)
    return mode[index](config)


async def call(target: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """A store (or config) method, awaited when the mode is async."""
    result = getattr(target, name)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def batch(recorder: Recorder) -> tuple[Any, ...]:
    """The one executemany call of the log."""
    (entry,) = [entry for entry in recorder.log if entry[0] == "executemany"]
    return entry


async def append(store: Any, revision: int = 3, **delta: Any) -> int:
    appended = event("hi", delta=delta, timestamp=7.25)
    expected = Expected(revision=revision, update_time=5.0)
    result = await call(
        store, "append_event", app_name="app", user_id="u", session_id="s", expected=expected, event=appended
    )
    return int(result.revision)


# ----------------------------------------------------------------- dialect
@pytest.mark.parametrize("version", ["19.23.0.0.0", "23.4.0.24.5"])
@pytest.mark.parametrize("owner", [None, "tenant_id NUMBER(10) NOT NULL"])
def test_every_rendered_statement_parses(version: str, owner: str | None) -> None:
    dialect = OracleDialect(ADKConfig.from_mapping({"owner_id_column": owner}))
    dialect.observe_server_version(version)
    ddl = all_ddl(dialect)
    statements = [*dialect.statements(), *ddl, *(stmt.sql for stmt in drop_statements(dialect))]
    for sql in statements:
        assert_parses(sql)
    assert sum(bool(CTX_INDEX.match(sql)) for sql in statements) == 1
    for sql in dialect.statements():
        # Composed from the family's parts: no other family's clauses left to patch.
        assert "LIMIT" not in sql and "ON CONFLICT" not in sql and "RETURNING" not in sql


def test_json_storage_follows_server_version() -> None:
    dialect = OracleDialect(ADKConfig())
    dialect.observe_server_version("19.23.0.0.0")
    old = "\n".join(all_ddl(dialect))
    assert "state CLOB CHECK (state IS JSON) NOT NULL" in old and " JSON NOT NULL" not in old
    dialect.observe_server_version("21.3.0.0.0")
    new = "\n".join(all_ddl(dialect))
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
    assert dialect.sessions.session_table == '"APP"."MY_SESSIONS"'
    assert dialect.index_name("x" * 63 + "_session", "list_idx") == '"' + ("X" * 63 + "_SESSION_LIST_IDX") + '"'
    long_name = dialect.index_name("t" * 63, "s" * 80)
    assert len(long_name) == 130  # 128 characters plus the quotes
    for sql in all_ddl(dialect):
        for name in re.findall(r'"([^"]+)"', sql):
            assert name == name.upper() and len(name.encode()) <= 128


def test_colon_placeholders_leave_quoted_text_alone() -> None:
    assert colon("SELECT '?' FROM t WHERE a = ? AND b = ?") == "SELECT '?' FROM t WHERE a = :1 AND b = :2"


def test_native_json_numbers_come_back_as_int_and_float() -> None:
    value = {"a": decimal.Decimal("3"), "b": [decimal.Decimal("0.1"), decimal.Decimal("1E+2")], "c": "x"}
    assert plain_json(value) == {"a": 3, "b": [0.1, 100.0], "c": "x"}
    assert type(plain_json(decimal.Decimal("3"))) is int
    codec = OracleDialect(ADKConfig()).json
    assert codec.read_state(value) == {"a": 3, "b": [0.1, 100.0], "c": "x"}  # a native JSON column
    assert codec.read_state('{"a":3}') == {"a": 3}  # a 19c CLOB, fetched as text
    assert codec.read(None) is None


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ora_error(1), ErrorKind.DUPLICATE),
        (ora_error(60), ErrorKind.ROLLED_BACK),
        (ora_error(8177), ErrorKind.ROLLED_BACK),
        (ora_error(3113, "DPY-4011"), ErrorKind.LOST),  # thin mode's report of ORA-03113
        (ora_error(3135), ErrorKind.LOST),
        (ora_error(0, "DPY-4011"), ErrorKind.LOST),
        (ora_error(0, "DPY-4024"), ErrorKind.LOST),  # call timeout: the call may have run
        (ora_error(0, "DPI-1080"), ErrorKind.LOST),  # thick mode
        (ora_error(0, "DPY-1001"), ErrorKind.UNSENT),  # not connected
        (ora_error(0, "DPY-6005"), ErrorKind.UNSENT),  # cannot connect
        (ora_error(1033), ErrorKind.UNSENT),  # initialization or shutdown in progress
        (ora_error(955), ErrorKind.EXISTS),
        (ora_error(1408), ErrorKind.EXISTS),
        (ora_error(2275), ErrorKind.EXISTS),
        (ora_error(942), None),  # "table or view does not exist" means done only from a DROP
        (ora_error(1031), None),
        (ora_error(2290), None),
        (ConnectionResetError("reset"), ErrorKind.LOST),
        (ValueError("not a driver error"), None),
    ],
)
def test_errors_are_classified(error: BaseException, kind: ErrorKind | None) -> None:
    assert classify_oracle(error) is kind


def test_missing_object_is_done_only_for_a_drop() -> None:
    error = ora_error(942)
    error.add_note(DROP_NOTE)
    assert classify_oracle(error) is ErrorKind.EXISTS


@pytest.mark.parametrize(
    ("real", "calls"),
    [
        (oracledb.Cursor, {"execute": {"statement": "", "parameters": [], "fetch_lobs": False}}),
        (oracledb.AsyncCursor, {"execute": {"statement": "", "parameters": [], "fetch_lobs": False}}),
        (oracledb.Cursor, {"executemany": {"statement": "", "parameters": [], "batcherrors": True}}),
        (oracledb.AsyncCursor, {"executemany": {"statement": "", "parameters": [], "batcherrors": True}}),
        (oracledb.ConnectionPool, {"acquire": {}, "release": {"connection": None}, "drop": {"connection": None}}),
        (oracledb.AsyncConnectionPool, {"acquire": {}, "release": {"connection": None}, "drop": {"connection": None}}),
        (oracledb.ConnectionPool, {"close": {"force": True}}),
        (oracledb.AsyncConnectionPool, {"close": {"force": True}}),
    ],
)
def test_the_driver_has_the_calls_the_adapter_makes(real: type, calls: dict[str, Any]) -> None:
    """The calls the configs make (and the fake answers) exist on python-oracledb's classes with these arguments."""
    for name, arguments in calls.items():
        inspect.signature(getattr(real, name)).bind(None, **arguments)
    for name in ("transaction_in_progress", "version", "commit", "rollback", "cursor"):
        assert hasattr(oracledb.Connection, name) and hasattr(oracledb.AsyncConnection, name)


# ------------------------------------------------------ recorded operations
async def test_create_tables_skips_existing_objects_only(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("CREATE TABLE", ora_error(955))
    recorder.answer("CREATE INDEX", ora_error(1408))
    assert await call(store, "create_tables") == LATEST_VERSION
    words = recorder.events()
    # The metadata table, then the lease row taken, the recorded state read, every step on its own
    # (DDL commits implicitly), and the lease given back last.
    assert words[:4] == ["acquire", "CREATE", "commit", "release"]
    assert words[4:9] == ["acquire", "SELECT", "MERGE", "commit", "release"]
    assert words[-4:] == ["acquire", "DELETE", "commit", "release"]
    # Only the recorded-state read runs read-only; no write transaction is.
    assert [words[i + 1] for i, word in enumerate(words) if word == "SET"] == ["SELECT"]
    assert words.count("CREATE") > 10 and "ALTER" in words
    recorder.log.clear()
    recorder.answer("CREATE TABLE", ora_error(1031))  # insufficient privileges is not "already there"
    with pytest.raises(oracledb.DatabaseError):
        await call(store, "create_tables")
    # DDL commits implicitly in Oracle: no transaction is open when it fails, nothing to roll back.
    assert recorder.events() == ["acquire", "CREATE", "release"]


async def test_drop_tables_tolerates_missing_tables_only(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("DROP TABLE", ora_error(942))
    await drop_tables(store.config)
    assert [word for word in recorder.events() if word != "DROP"] == ["acquire", "commit", "release"]
    assert all(entry[3] == {"fetch_lobs": False} for entry in recorder.log if entry[0] == "execute")
    recorder.log.clear()
    recorder.answer("CREATE TABLE", ora_error(942))  # from a CREATE, "does not exist" is a real error
    with pytest.raises(oracledb.DatabaseError):
        await call(store, "create_tables")


async def test_create_session_is_one_merge_then_state_read(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("SELECT (SELECT state", [(None, None)])
    await call(store, "create_session", app_name="app", user_id="u", session_id="s", state={"k": 1})
    sent = recorder.statements()
    assert sent[0][0].startswith('MERGE INTO "ADK_SESSION" t USING (SELECT :1 AS app_name')
    assert "WHEN MATCHED" not in sent[0][0] and "0 AS revision FROM dual) n ON (" in sent[0][0]
    assert sent[0][1] == ["app", "u", "s", '{"k":1}', 10.5, 10.5]
    assert sent[1][0].endswith(" FROM dual")
    assert recorder.events() == ["acquire", "MERGE", "SELECT", "commit", "release"]


@pytest.mark.parametrize("outcome", [0, ora_error(1)], ids=["key-present", "lost-insert-race"])
async def test_duplicate_session_is_already_exists(recorder: Recorder, mode: tuple[Any, ...], outcome: Any) -> None:
    store = build(mode, 1)
    recorder.answer('MERGE INTO "ADK_SESSION"', outcome)
    with pytest.raises(AlreadyExistsError):
        await call(store, "create_session", app_name="app", user_id="u", session_id="s", state={})
    words = recorder.events()
    assert words[:2] == ["acquire", "MERGE"] and words[-1] == "release" and "commit" not in words
    assert words.count("acquire") == 1  # an existing session is not retried


async def test_append_event_is_one_transaction_with_locked_state_merges(
    recorder: Recorder, mode: tuple[Any, ...]
) -> None:
    store = build(mode, 1)
    recorder.answer(SESSION_ROW, [(3, 5.0, {"k": 1}, None)])
    recorder.answer('FROM "ADK_APP_STATE" WHERE app_name = :1 FOR UPDATE', [({"old": True},)])
    recorder.answer('FROM "ADK_USER_STATE" WHERE app_name = :1 AND user_id = :2 FOR UPDATE', [])
    assert await append(store, k=2, **{"app:a": 1, "user:u": "x"}) == 4
    assert recorder.events() == [
        "acquire",
        *("SELECT", "UPDATE", "INSERT"),
        *("MERGE", "SELECT", "UPDATE"),
        *("MERGE", "SELECT", "UPDATE"),
        *("commit", "release"),
    ]
    sent = recorder.statements()
    assert sent[1][0].endswith("revision = :6") and sent[1][1][0] == '{"k":2}' and sent[1][1][-1] == 3
    assert sent[2][0].startswith(EVENT_INSERT) and sent[2][1][3] == 4 and sent[2][1][7] == 7.25
    assert sent[3][1] == ["app", "{}", 7.25]  # create the state row if absent
    assert sent[5][1] == ['{"old":true,"a":1}', 7.25, "app"]
    assert sent[8][1] == ['{"u":"x"}', 7.25, "app", "u"]


async def test_stale_append_writes_nothing(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer('UPDATE "ADK_SESSION"', 0)  # a concurrent writer moved the revision
    recorder.answer(SESSION_ROW, [(4, 6.0, "{}", None)])  # the session exists and lacks the event: stale
    with pytest.raises(StaleSessionError):
        await append(store)
    # No session-state change: the revision-checked UPDATE runs first, the row is read only when it missed.
    assert recorder.events() == ["acquire", "UPDATE", "SELECT", "rollback", "release"]


async def test_reads_run_in_a_read_only_transaction(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer('FROM "ADK_SESSION" s WHERE', [({"k": 1}, 1.0, 2.0, 4, None, {"u": 1})])
    recorder.answer('FROM "ADK_EVENT"', [("e2", 2, 2.0, event("b").model_dump_json()), ("e1", 1, 1.0, "{}")])
    snapshot = await call(store, "get_session", app_name="a", user_id="u", session_id="s", num_recent_events=2)
    assert snapshot is not None and [e["id"] for e in snapshot["events"]] == ["e1", "e2"]
    assert recorder.events() == ["acquire", "SET", "SELECT", "SELECT", "commit", "release"]
    assert recorder.statements()[0][0] == "SET TRANSACTION READ ONLY"
    events_sql, params = recorder.statements()[2]
    assert events_sql.endswith("ORDER BY seq DESC FETCH FIRST :4 ROWS ONLY") and params == ["a", "u", "s", 2]


@pytest.mark.parametrize("reported", [True, False], ids=["reported", "not-reported"])
async def test_a_failed_read_ends_its_read_only_transaction(
    recorder: Recorder, mode: tuple[Any, ...], reported: bool
) -> None:
    """Whether or not the driver reports a read-only transaction as in progress, a failed read rolls it
    back: the pooled connection must not carry it into the next (maybe writing) operation."""
    store = build(mode, 1)
    recorder.read_only_reported = reported
    recorder.answer("SELECT (SELECT state", ora_error(1031))
    with pytest.raises(oracledb.DatabaseError):
        await call(store, "get_scoped_state", app_name="a", user_id="u")
    assert recorder.events() == ["acquire", "SET", "SELECT", "rollback", "release"]
    assert not store.config.read_only


async def test_list_sessions_pages_with_fetch_first(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    await call(store, "list_sessions", app_name="a", limit=10)
    sql, params = recorder.statements()[1]
    assert sql.endswith("ORDER BY s.update_time, s.user_id, s.id FETCH FIRST :2 ROWS ONLY") and params == ["a", 11]


async def test_long_text_is_bound_as_clob(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("SELECT (SELECT state", [(None, None)])
    await call(store, "create_session", app_name="a", user_id="u", session_id="s", state={"big": "x" * 20_000})
    sizes = [entry[1] for entry in recorder.log if entry[0] == "sizes"]
    assert sizes == [(None, None, None, oracledb.DB_TYPE_CLOB, None, None)]


async def test_memory_search_uses_contains_on_escaped_tokens(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    recorder.answer("CONTAINS(search_text", [("id1", "s", "e1", "user", 1.0, '{"parts":[{"text":"x"}]}', None)])
    query = 'near( "AND" {x} OR 100% _ ? café'
    found = await call(store, "search_memory", app_name="a", user_id="u", query=query)
    assert [record["event_id"] for record in found] == ["e1"]
    sql, params = recorder.statements()[-1]
    assert "CONTAINS(search_text, :1, 1) > 0" in sql and "ORDER BY SCORE(1) DESC" in sql
    assert sql.endswith("FETCH FIRST :4 ROWS ONLY")
    assert params[0] == "{near} ACCUM {and} ACCUM {x} ACCUM {or} ACCUM {100} ACCUM {cafe}"
    assert params[1:] == ["a", "u", 20]
    for text in ("near(", '"AND"', "100%", "café"):
        assert text not in sql
    assert recorder.events() == ["acquire", "SET", "SELECT", "commit", "release"]


async def test_memory_fallback_search_is_like(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2, memory_use_fts=False)
    await call(store, "search_memory", app_name="a", user_id="u", query="50%_off")
    sql, params = recorder.statements()[-1]
    assert "CONTAINS" not in sql and "LIKE :1 ESCAPE '!'" in sql and sql.endswith("FETCH FIRST :5 ROWS ONLY")
    assert params[:2] == ["% 50 %", "% off %"]


def memory_entry(memory_id: str, text: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, author="user", content=types.Content(role="user", parts=[types.Part(text=text)]))


async def test_add_memory_merges_a_batch(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    recorder.answer("SELECT revision FROM", [(1,)])
    await call(
        store, "add_memory", app_name="a", user_id="u", memories=[memory_entry("m1", "hello"), memory_entry("m2", "x")]
    )
    # Insert-if-absent first (a lost insert race is not an error), then the replacing MERGE,
    # which then only ever updates: no unique-key race on either statement.
    keep, replace = [entry for entry in recorder.log if entry[0] == "executemany"]
    assert keep[1].startswith('MERGE INTO "ADK_MEMORY" t') and "WHEN MATCHED" not in keep[1]
    assert keep[3] == {"batcherrors": True}
    kind, sql, rows, options = replace
    assert kind == "executemany" and sql.startswith('MERGE INTO "ADK_MEMORY" t') and "WHEN MATCHED THEN UPDATE" in sql
    assert [row[4] for row in rows] == ["m1", "m2"] and options == {"batcherrors": False}
    # The revision bump first (create-if-absent, update, read: a replacement may clear a vector).
    assert recorder.events() == ["acquire", "MERGE", "UPDATE", "SELECT", "MERGE", "MERGE", "commit", "release"]


async def test_event_memory_ignores_lost_races_but_not_other_errors(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 2)
    events = [event("hello there", id="e1"), event("again", id="e2")]
    add = {"app_name": "a", "user_id": "u", "events": events, "session_id": "s"}
    recorder.answer('MERGE INTO "ADK_MEMORY"', [SimpleNamespace(code=1, offset=1)])
    await call(store, "add_events_to_memory", **add)
    assert batch(recorder)[3] == {"batcherrors": True} and "WHEN MATCHED" not in batch(recorder)[1]
    assert recorder.events()[-2:] == ["commit", "release"]
    recorder.log.clear()
    recorder.answer('MERGE INTO "ADK_MEMORY"', [SimpleNamespace(code=2290, offset=0, message="check violated")])
    with pytest.raises(oracledb.DatabaseError):
        await call(store, "add_events_to_memory", **add)
    assert recorder.events()[-2:] == ["rollback", "release"]


async def test_artifact_version_is_allocated_and_merged(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 3)
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    write = ArtifactWrite("inline", "text/plain", None, "file:///x/0", "{}", 1.0, 3, "abc")
    recorder.answer("COALESCE(MAX(version) + 1, 0)", [(2,)])
    assert await call(store, "save_artifact_version", key, write) == 2
    sql, params = recorder.statements()[1]
    assert sql.startswith('MERGE INTO "ADK_ARTIFACT" t') and "WHEN MATCHED" not in sql
    assert params[:5] == ["a", "u", "s", "f.txt", 2]
    assert recorder.events() == ["acquire", "SELECT", "MERGE", "commit", "release"]


async def test_lost_artifact_race_reads_the_next_version(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 3)
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    write = ArtifactWrite("inline", "text/plain", None, "file:///x/0", "{}", 1.0, 3, "abc")
    versions = [[(3,)], [(2,)]]
    recorder.answer("COALESCE(MAX(version) + 1, 0)", lambda params: versions.pop())
    recorder.answer('MERGE INTO "ADK_ARTIFACT"', once(ora_error(1)))  # version 2 was taken concurrently
    assert await call(store, "save_artifact_version", key, write) == 3
    assert recorder.events() == ["acquire", "SELECT", "MERGE", "SELECT", "MERGE", "commit", "release"]


async def test_close_pool_closes_the_driver_pool(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer("SELECT (SELECT state", [(None, None)])
    await call(store, "get_scoped_state", app_name="a", user_id="u")
    config = store.config
    assert config.dialect.native_json is True  # 23ai, from the connection's version
    await call(config, "close_pool")
    assert ("close", True) in recorder.log
    assert recorder.log[0] == ("create_pool", {"user": "adk", "password": "pw", "dsn": "db/free"})


async def test_server_version_picks_the_json_column_type(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    recorder.version = "19.23.0.0.0"
    store = build(mode, 1)
    await call(store, "create_tables")
    created = [sql for sql, _ in recorder.statements() if sql.startswith('CREATE TABLE "ADK_SESSION"')]
    assert len(created) == 1 and "state CLOB CHECK (state IS JSON) NOT NULL" in created[0]
    assert store.config.dialect.native_json is False


# ------------------------------------------------------------------ retries
@pytest.mark.parametrize("code", [60, 8177], ids=["deadlock", "cannot-serialize"])
async def test_rolled_back_transaction_runs_again(recorder: Recorder, mode: tuple[Any, ...], code: int) -> None:
    store = build(mode, 1)
    recorder.answer(EVENT_INSERT, once(ora_error(code)))
    assert await append(store) == 4
    assert recorder.events() == [
        *("acquire", "UPDATE", "INSERT", "rollback", "release"),
        *("acquire", "UPDATE", "INSERT", "commit", "release"),
    ]


async def test_retries_stop_after_the_family_limit(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer(EVENT_INSERT, ora_error(60))
    with pytest.raises(oracledb.DatabaseError):
        await append(store)
    attempts = OracleDialect.rules.retry_attempts
    assert recorder.events().count("acquire") == attempts and recorder.events().count("rollback") == attempts
    assert "commit" not in recorder.events()


async def test_lost_connection_mid_transaction_runs_again_elsewhere(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer(EVENT_INSERT, once(ora_error(3113, "DPY-4011")))
    assert await append(store) == 4
    # The broken connection is dropped from the pool, never rolled back or reused.
    assert recorder.events() == [
        *("acquire", "UPDATE", "INSERT", "drop"),
        *("acquire", "UPDATE", "INSERT", "commit", "release"),
    ]
    dropped = [entry[1] for entry in recorder.log if entry[0] == "drop"]
    assert dropped == ["AsyncConnection" if store.config.is_async else "FakeConnection"]


async def test_connection_lost_during_commit_is_not_retried(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.commit_errors.append(ora_error(3135, "DPY-4011"))
    with pytest.raises(oracledb.DatabaseError) as raised:
        await append(store)
    assert any("may or may not have committed" in note for note in raised.value.__notes__)
    assert recorder.events() == ["acquire", "UPDATE", "INSERT", "commit", "drop"]


async def test_unreachable_server_is_retried_at_acquire(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.acquire_errors.append(ora_error(0, "DPY-6005"))
    recorder.answer("SELECT (SELECT state", [(None, None)])
    assert await call(store, "get_scoped_state", app_name="a", user_id="u") == ({}, {})
    assert recorder.events() == ["acquire", "acquire", "SET", "SELECT", "commit", "release"]


async def test_other_errors_are_raised_at_once(recorder: Recorder, mode: tuple[Any, ...]) -> None:
    store = build(mode, 1)
    recorder.answer(EVENT_INSERT, ora_error(1031))
    with pytest.raises(oracledb.DatabaseError):
        await append(store)
    assert recorder.events() == ["acquire", "UPDATE", "INSERT", "rollback", "release"]


def test_everything_sent_parses() -> None:
    """Runs last in this module: every statement the fakes received parses as Oracle SQL."""
    assert len(SENT) > 20
    for sql in SENT:
        assert_parses(sql)
