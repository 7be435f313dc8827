"""Spanner dialect and adapter checks without a Spanner instance or emulator.

(1) Every statement the dialect renders (its parts, schema version 1 and the
teardown), and every statement the adapter sent in these tests, parses with
sqlglot's ``bigquery`` dialect: sqlglot has no Spanner dialect and BigQuery is
its GoogleSQL. The search-index statements (TOKENLIST column, CREATE/DROP
SEARCH INDEX) are Spanner-only syntax sqlglot cannot represent; they are
checked textually. (2) A recording fake client (tests/spanner/fake_spanner.py)
checks, per store operation, the statements, the parameters and their types,
the transaction boundaries the engine drives on a session (read-write
transactions for writes, snapshots for reads), the schema API for DDL, and
what the engine does with aborted transactions (a fresh run). The live
emulator suite is separate.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.platform import time as platform_time
from google.api_core import exceptions
from google.cloud import spanner
from google.cloud.spanner_v1.database_sessions_manager import DatabaseSessionsManager
from google.cloud.spanner_v1.session import Session
from google.cloud.spanner_v1.snapshot import Snapshot
from google.cloud.spanner_v1.transaction import Transaction
from sqlglot import exp

from sqlspec_adk.adapters._spanner import classify_spanner
from sqlspec_adk.adapters.spanner import SpannerADKArtifactStore, SpannerADKMemoryStore, SpannerADKStore, SpannerConfig
from sqlspec_adk.dialects.spanner import DATABASE_DIALECT, SpannerDialect, index_text, index_token
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import v0001_initial, v0002_lookups_and_vectors
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import COMPONENTS, LATEST_VERSION
from sqlspec_adk.migrations.teardown import drop_statements, drop_tables
from sqlspec_adk.paramstyle import named_at
from sqlspec_adk.records import ArtifactKey, ArtifactWrite, Expected
from sqlspec_adk.settings import ADKConfig
from tests.helpers import event
from tests.oracle.test_oracle import memory_entry
from tests.spanner import fake_spanner
from tests.spanner.fake_spanner import FakeClient, SpannerRecorder

SEARCH_DDL = re.compile(
    r"^(ALTER TABLE `\w+` ADD COLUMN IF NOT EXISTS search_tokens TOKENLIST "
    r"AS \(TOKENIZE_FULLTEXT\(search_text\)\) HIDDEN"
    r"|CREATE SEARCH INDEX `\w+` ON `\w+` \(search_tokens\)"
    r"|DROP SEARCH INDEX IF EXISTS `\w+`"
    r"|ALTER TABLE `\w+` ADD COLUMN IF NOT EXISTS embedding ARRAY<FLOAT32>)$"
)
SENT: list[str] = []
EVENT_INSERT = "INSERT INTO `adk_event`"
SESSION_BUMP = "UPDATE `adk_session`"


def assert_parses(sql: str) -> None:
    text = re.sub(r"@p\d+", "?", sql)
    if SEARCH_DDL.match(text):
        return
    assert not isinstance(sqlglot.parse_one(text, read="bigquery"), exp.Command), text


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[SpannerRecorder]:
    rec = SpannerRecorder()
    monkeypatch.setattr(FakeClient, "recorder", rec, raising=False)
    monkeypatch.setattr(spanner, "Client", FakeClient)
    monkeypatch.setattr(platform_time, "get_time", lambda: 2.5)
    rec.answer("SELECT (SELECT state FROM", [(None, None)])  # scoped state: none stored
    yield rec
    SENT.extend(entry[1] for entry in rec.log if entry[0] in ("execute", "executemany", "ddl"))


def build(store_class: Any, *, migrated: bool = True, checked: bool = True, **adk: Any) -> Any:
    connection = {"project": "p", "instance_id": "i", "database_id": "d"}
    config = SpannerConfig(connection_config=connection, extension_config={"adk": adk})
    config.googlesql_checked = checked  # the first operation of a config reads the database's dialect
    if migrated:
        mark_current(config)  # the fake holds no schema to check
    return store_class(config)


def words(recorder: SpannerRecorder) -> list[str]:
    out = []
    for entry in recorder.log:
        if entry[0] in ("execute", "executemany", "ddl"):
            out.append(("DDL " if entry[0] == "ddl" else "") + entry[1].split(" ", 1)[0])
        elif entry[0] in ("begin", "commit", "rollback", "snapshot"):
            out.append(entry[0])
    return out


def sent(recorder: SpannerRecorder) -> list[tuple[str, Any, Any]]:
    return [(entry[1], entry[2], entry[3]) for entry in recorder.log if entry[0] == "execute"]


async def append(store: Any, revision: int = 3) -> int:
    appended = event("hi", delta={"app:a": 1}, timestamp=9.5)
    expected = Expected(revision=revision, update_time=5.0)
    result = await store.append_event(app_name="a", user_id="u", session_id="s", expected=expected, event=appended)
    return int(result.revision)


def v2_ddl(dialect: SpannerDialect) -> list[str]:
    return [sql for part in COMPONENTS for sql in v0002_lookups_and_vectors.statements(dialect, part)]


def all_ddl(dialect: SpannerDialect) -> list[str]:
    """Versions 1 and 2, every component."""
    return [sql for part in v0001_initial.COMPONENTS for sql in v0001_initial.statements(dialect, part)] + v2_ddl(
        dialect
    )


# ----------------------------------------------------------------- dialect
@pytest.mark.parametrize("owner", [None, "tenant_id INT64 NOT NULL"])
def test_every_rendered_statement_parses(owner: str | None) -> None:
    dialect = SpannerDialect(ADKConfig.from_mapping({"owner_id_column": owner}))
    ddl = all_ddl(dialect)
    for sql in [*dialect.statements(), *ddl, *(stmt.sql for stmt in drop_statements(dialect))]:
        assert_parses(sql)
    text = "\n".join(ddl)
    assert "ON CONFLICT" not in text and "DEFAULT" not in "\n".join(ddl[: -len(v2_ddl(dialect))])
    assert "commit_time TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = TRUE)" in text
    # No key or index leads with a timestamp or counter (hotspots).
    for columns in re.findall(r"(?:PRIMARY KEY|ON `\w+`) \((\w+)", text):
        # The owner index leads with the owner column: an owner id, neither a timestamp nor a counter.
        assert columns in ("meta_key", "app_name", "id", "search_tokens", "tenant_id"), columns
    for sql in dialect.statements():
        assert "ON CONFLICT" not in sql and "RETURNING" not in sql and " FROM dual" not in sql


def test_named_placeholders_leave_quoted_text_alone() -> None:
    assert named_at("SELECT '?' FROM t WHERE a = ? AND b = ?") == "SELECT '?' FROM t WHERE a = @p1 AND b = @p2"


def test_a_connection_needs_instance_and_database() -> None:
    with pytest.raises(ConfigError, match="database_id"):
        SpannerConfig(connection_config={"project": "p", "instance_id": "i"})


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (exceptions.Aborted("contention"), ErrorKind.ROLLED_BACK),
        (exceptions.NotFound("Transaction not found: 3"), ErrorKind.ROLLED_BACK),  # the emulator, displaced
        (exceptions.FailedPrecondition("Invalid transaction ID. Transaction ID must be >= 9"), ErrorKind.ROLLED_BACK),
        (exceptions.FailedPrecondition("Duplicate name in schema: adk_memory_search_idx."), ErrorKind.EXISTS),
        (exceptions.AlreadyExists("Row [a] in table t already exists"), ErrorKind.DUPLICATE),
        (exceptions.ServiceUnavailable("unavailable"), ErrorKind.LOST),
        (exceptions.DeadlineExceeded("deadline"), ErrorKind.LOST),
        (exceptions.NotFound("Session not found: projects/p/..."), ErrorKind.UNSENT),
        (exceptions.NotFound("Table not found: t"), None),
        (exceptions.PermissionDenied("no"), None),
        (ValueError("not a driver error"), None),
    ],
)
def test_errors_are_classified(error: BaseException, kind: ErrorKind | None) -> None:
    assert classify_spanner(error) is kind


@pytest.mark.parametrize(
    ("fake", "real", "calls"),
    [
        (fake_spanner.FakeSession, Session, {"transaction": {}, "snapshot": {"multi_use": True}}),
        (fake_spanner.FakeSnapshot, Snapshot, {"execute_sql": {"sql": "", "params": {}, "param_types": {}}}),
        (
            fake_spanner.FakeTransaction,
            Transaction,
            {
                "execute_sql": {"sql": "", "params": {}, "param_types": {}},
                "execute_update": {"dml": "", "params": {}, "param_types": {}},
                "batch_update": {"statements": []},
                "commit": {},
                "rollback": {},
            },
        ),
        (fake_spanner.FakeSessionsManager, DatabaseSessionsManager, {"get_session": {"transaction_type": None}}),
    ],
)
def test_the_fake_has_the_client_calls_the_adapter_makes(fake: type, real: type, calls: dict[str, Any]) -> None:
    """The adapter's calls exist on google-cloud-spanner's own classes with these arguments (and on the fake)."""
    for name, arguments in calls.items():
        inspect.signature(getattr(real, name)).bind(None, **arguments)
        inspect.signature(getattr(fake, name)).bind(None, **arguments)


# ------------------------------------------------------ recorded operations
async def test_create_tables_applies_ddl_outside_any_open_transaction(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore, migrated=False)
    recorder.ddl_errors["CREATE SEARCH INDEX"] = exceptions.FailedPrecondition("Duplicate name in schema: x")
    assert await store.create_tables() == LATEST_VERSION
    seen = words(recorder)
    # The metadata table, then the lease row (read, taken), ..., the lease given back.
    assert seen[:6] == ["begin", "DDL CREATE", "begin", "SELECT", "INSERT", "commit"]
    assert seen[-3:] == ["begin", "DELETE", "commit"]
    pending = False  # a statement ran in the open transaction and is not committed yet
    for word in seen:
        assert not (word.startswith("DDL") and pending), seen  # Spanner refuses DDL beside an open transaction
        if word in ("begin", "snapshot", "commit", "rollback"):
            pending = False  # a new transaction (or snapshot) on a checked-out session, or the end of one
        pending = pending or word in ("SELECT", "INSERT", "UPDATE", "DELETE")
    ddl = [entry[1] for entry in recorder.log if entry[0] == "ddl"]
    assert any(sql.startswith("CREATE SEARCH INDEX") for sql in ddl)
    # One session per step (the lease-serialized upgrade runs each statement on its own), every one put back.
    checked_out = [entry[1] for entry in recorder.log if entry[0] == "get_session"]
    assert set(checked_out) == {"READ_WRITE", "READ_ONLY"} and len(checked_out) == seen.count("begin") + 1
    assert len(checked_out) == sum(entry[0] == "put_session" for entry in recorder.log)
    recorder.log.clear()
    recorder.ddl_errors["CREATE TABLE"] = exceptions.PermissionDenied("no")
    with pytest.raises(exceptions.PermissionDenied):
        await store.create_tables()
    assert "commit" not in words(recorder) and recorder.log[-1] == ("put_session",)


async def test_a_config_reads_the_database_dialect_once(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore, checked=False)
    recorder.answer("information_schema.database_options", [("GOOGLE_STANDARD_SQL",)])
    await store.get_scoped_state(app_name="a", user_id="u")
    await store.get_scoped_state(app_name="a", user_id="u")
    assert [sql for sql, _, _ in sent(recorder)].count(DATABASE_DIALECT) == 1
    assert words(recorder)[:2] == ["snapshot", "SELECT"]


async def test_a_postgresql_dialect_database_is_refused(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore, checked=False)
    recorder.answer("information_schema.database_options", [("POSTGRESQL",)])
    with pytest.raises(ConfigError, match="needs a GoogleSQL database"):
        await store.get_scoped_state(app_name="a", user_id="u")
    assert [sql for sql, _, _ in sent(recorder)] == [DATABASE_DIALECT]  # nothing else was sent


def test_an_owner_column_of_another_family_is_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match="GoogleSQL calls it INT64"):
        build(SpannerADKStore, owner_id_column="tenant_id INTEGER NOT NULL")
    with pytest.raises(ConfigError, match="no column type 'VARCHAR'"):
        build(SpannerADKStore, owner_id_column="tenant_id VARCHAR(64)")
    assert build(SpannerADKStore, owner_id_column="tenant_id STRING(64) NOT NULL") is not None


async def test_drop_tables_goes_through_the_schema_api(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    await drop_tables(store.config)
    seen = words(recorder)
    assert seen[0] == "begin" and all(word.startswith("DDL DROP") for word in seen[1:]), seen
    first = next(entry[1] for entry in recorder.log if entry[0] == "ddl")
    assert first.startswith("DROP SEARCH INDEX IF EXISTS")  # Spanner refuses to drop an indexed table


async def test_create_session_inserts_if_absent(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    await store.create_session(app_name="a", user_id="u", session_id="s", state={"k": 1})
    (sql, params, types), *_ = sent(recorder)
    columns = "app_name, user_id, id, state, create_time, update_time, revision"
    assert sql.startswith(f"INSERT INTO `adk_session` ({columns}) SELECT n.app_name,")
    assert "WHERE NOT EXISTS (SELECT 1 FROM `adk_session` AS t WHERE t.app_name = n.app_name" in sql
    assert params == {"p1": "a", "p2": "u", "p3": "s", "p4": '{"k":1}', "p5": 2.5, "p6": 2.5}
    assert types["p5"] == spanner.param_types.FLOAT64 and types["p1"] == spanner.param_types.STRING
    assert words(recorder) == ["begin", "INSERT", "SELECT", "commit"]
    recorder.log.clear()
    recorder.answer("INSERT INTO `adk_session`", 0)
    with pytest.raises(AlreadyExistsError):
        await store.create_session(app_name="a", user_id="u", session_id="s", state={})
    assert words(recorder) == ["begin", "INSERT", "rollback"]


async def test_append_event_is_one_read_write_transaction(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer("SELECT state FROM `adk_app_state`", [('{"old":1}',)])
    assert await append(store) == 4
    assert words(recorder) == ["begin", "UPDATE", "INSERT", "SELECT", "UPDATE", "commit"]
    statements = sent(recorder)
    assert statements[0][0].startswith(SESSION_BUMP) and statements[0][1]["p5"] == 3
    assert statements[1][0].endswith("@p10, PENDING_COMMIT_TIMESTAMP())") and statements[1][1]["p4"] == 4
    assert statements[1][1]["p10"] is False and statements[1][2]["p10"] == spanner.param_types.BOOL  # compaction
    assert statements[1][2]["p4"] == spanner.param_types.INT64
    assert statements[3][1] == {"p1": '{"old":1,"a":1}', "p2": 9.5, "p3": "a"}


async def test_aborted_commit_runs_the_operation_again(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.commit_errors.append(exceptions.Aborted("scripted abort at commit"))
    assert await append(store) == 4
    attempt = ["begin", "UPDATE", "INSERT", "SELECT", "INSERT", "commit"]
    assert words(recorder) == [*attempt, *attempt]  # an aborted commit needs no rollback


async def test_aborted_statement_runs_the_operation_again_from_the_start(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    aborts = [exceptions.Aborted("wounded")]
    recorder.answer(EVENT_INSERT, lambda params: aborts.pop() if aborts else 1)
    assert await append(store) == 4
    assert words(recorder) == [
        *("begin", "UPDATE", "INSERT", "rollback"),
        *("begin", "UPDATE", "INSERT", "SELECT", "INSERT", "commit"),
    ]


async def test_retry_that_sees_another_writer_is_stale(recorder: SpannerRecorder) -> None:
    """The winner committed revision 4 before our retry: the fresh run's own revision check fails."""
    store = build(SpannerADKStore)
    bumped = [0, 1]
    recorder.answer("`adk_session`", [(4, 6.0, "{}", None, None)])  # the stored row, read after a missed bump
    recorder.answer(SESSION_BUMP, lambda params: bumped.pop())
    recorder.commit_errors.append(exceptions.Aborted("scripted abort at commit"))
    with pytest.raises(StaleSessionError):
        await append(store)
    seen = words(recorder)
    assert seen.count("begin") == 2 and seen.count("commit") == 1 and seen[-1] == "rollback"


async def test_retried_save_reads_the_next_version(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKArtifactStore)
    versions = [[(1,)], [(0,)]]  # another writer took version 0 before our retry
    recorder.answer("COALESCE(MAX(version) + 1, 0)", lambda params: versions.pop())
    recorder.commit_errors.append(exceptions.Aborted("scripted abort at commit"))
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f", session_id="s")
    write = ArtifactWrite("inline", "text/plain", None, "file:///x", "{}", 1.0, 1, "c")
    assert await store.save_artifact_version(key, write) == 1
    inserts = [params for sql, params, _ in sent(recorder) if sql.startswith("INSERT INTO `adk_artifact`")]
    assert [params["p5"] for params in inserts] == [0, 1]
    assert inserts[0]["p8"] is None and sent(recorder)[1][2]["p8"] == spanner.param_types.STRING  # display_name


async def test_reads_use_one_snapshot(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer("FROM `adk_session` s WHERE", [('{"k":1}', 1.0, 2.0, 1, None, None)])
    recorder.answer("FROM `adk_event`", [("e1", 1, 1.0, event("x").model_dump_json())])
    snapshot = await store.get_session(app_name="a", user_id="u", session_id="s", num_recent_events=5)
    assert snapshot is not None and len(snapshot["events"]) == 1
    assert words(recorder) == ["snapshot", "SELECT", "SELECT"]
    assert [entry[1] for entry in recorder.log if entry[0] == "snapshot"] == [{"multi_use": True}]
    assert [entry[1] for entry in recorder.log if entry[0] == "get_session"] == ["READ_ONLY"]
    assert recorder.log[-1] == ("put_session",)


async def test_search_uses_search_and_score_on_quoted_tokens(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    recorder.answer("SEARCH(search_tokens", [("i", "s", "e1", "user", 1.0, '{"parts":[{"text":"x"}]}', None)])
    found = await store.search_memory(app_name="a", user_id="u", query='-x OR "y" AROUND(3) 東京')
    assert [record["event_id"] for record in found] == ["e1"]
    sql, params, _ = sent(recorder)[-1]
    assert "WHERE SEARCH(search_tokens, @p1)" in sql and "ORDER BY SCORE(search_tokens, @p4) DESC" in sql
    # Tokens outside ASCII letters and digits go in their ASCII spelling (the emulator parses no other).
    assert params["p1"] == params["p4"] == '"x" OR "or" OR "y" OR "around" OR "3" OR "qxogjnlb" OR "qxoelkkm"'
    assert index_token("東") == "qxogjnlb" and index_text(" x 東 ") == " x qxogjnlb "
    assert words(recorder) == ["snapshot", "SELECT"]  # SEARCH is not allowed in read-write transactions


async def test_memory_fallback_uses_like_without_escape_clause(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore, memory_use_fts=False)
    await store.search_memory(app_name="a", user_id="u", query="50% off")
    sql, params, _ = sent(recorder)[-1]
    assert "SEARCH" not in sql and "search_text LIKE @p1" in sql and "ESCAPE" not in sql
    assert params["p1"] == "% 50 %" and params["p2"] == "% off %"


async def test_add_memory_updates_then_inserts_missing_rows(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    await store.add_memory(app_name="a", user_id="u", memories=[memory_entry("m1", "hi"), memory_entry("m2", "x")])
    batches = [entry for entry in recorder.log if entry[0] == "executemany"]
    assert [batch[1].split(" ", 1)[0] for batch in batches] == ["UPDATE", "INSERT"]
    assert [row["p10"] for row in batches[0][2]] == ["m1", "m2"]  # the event id, after the vector (p7)
    assert "WHERE NOT EXISTS (SELECT 1 FROM `adk_memory` AS t WHERE t.id = n.id)" in batches[1][1]
    assert words(recorder) == ["begin", "UPDATE", "INSERT", "commit"]


async def test_null_parameters_are_typed_as_string(recorder: SpannerRecorder) -> None:
    """An untyped NULL would be INT64 to Spanner, which the STRING column custom_metadata refuses."""
    store = build(SpannerADKMemoryStore)
    await store.add_events_to_memory(app_name="a", user_id="u", events=[event("hello", id="e1")], session_id="s")
    _, _, rows, types = next(entry for entry in recorder.log if entry[0] == "executemany")
    assert rows[0]["p9"] is None and types[0]["p9"] == spanner.param_types.STRING  # custom_metadata
    assert types[0]["p7"] == spanner.param_types.FLOAT64 and all(value is not None for value in types[0].values())


async def test_failed_batch_rolls_back(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    recorder.answer("INSERT INTO `adk_memory`", SimpleNamespace(code=9, message="constraint"))
    with pytest.raises(exceptions.FailedPrecondition, match="constraint"):
        await store.add_events_to_memory(app_name="a", user_id="u", events=[event("hello", id="e1")], session_id="s")
    assert words(recorder)[-1] == "rollback"


async def test_aborted_batch_runs_again(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    statuses = [SimpleNamespace(code=10, message="aborted")]
    recorder.answer("INSERT INTO `adk_memory`", lambda params: statuses.pop() if statuses else None)
    await store.add_events_to_memory(app_name="a", user_id="u", events=[event("hello", id="e1")], session_id="s")
    assert words(recorder) == ["begin", "INSERT", "rollback", "begin", "INSERT", "commit"]


async def test_connection_lost_during_commit_is_not_retried(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.commit_errors.append(exceptions.ServiceUnavailable("connection reset"))
    with pytest.raises(exceptions.ServiceUnavailable) as raised:
        await append(store)
    assert any("may or may not have committed" in note for note in raised.value.__notes__)
    assert words(recorder).count("commit") == 1


async def test_close_pool_closes_the_client(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    await store.get_scoped_state(app_name="a", user_id="u")
    await store.config.close_pool()
    assert recorder.log[:2] == [("client", {"project": "p"}), ("instance", "i")] and recorder.log[-1] == ("close",)


def test_everything_sent_parses() -> None:
    """Runs last in this module: every statement the fake received parses as GoogleSQL (or is search DDL)."""
    assert len(SENT) > 20
    for sql in SENT:
        assert_parses(sql)
