"""Spanner dialect and adapter checks without a Spanner instance or emulator.

(1) Every statement the dialect renders, and every statement the adapter sent
in these tests, parses with sqlglot's ``bigquery`` dialect: sqlglot has no
Spanner dialect and BigQuery is its GoogleSQL. The three search-index
statements (TOKENLIST column, CREATE/DROP SEARCH INDEX) are Spanner-only
syntax sqlglot cannot represent; they are checked textually. (2) A recording
fake client (tests/spanner/fake_spanner.py) checks, per store operation, the
statements, the parameters and their types, the transaction boundaries,
snapshots for reads, the schema API for DDL, and the replay of aborted
transactions. None of this ran against a live Spanner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.api_core import exceptions
from google.cloud import spanner
from sqlglot import exp

from sqlspec_adk.adapters.spanner import SpannerADKArtifactStore, SpannerADKMemoryStore, SpannerADKStore, SpannerConfig
from sqlspec_adk.adapters.spanner.config import TransactionReplayError
from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactWrite
from sqlspec_adk.dialects.spanner import SpannerDialect, to_named_params
from tests.helpers import event
from tests.oracle.test_oracle import memory_entry
from tests.spanner.fake_spanner import FakeClient, SpannerRecorder

SEARCH_DDL = re.compile(
    r"^(ALTER TABLE `\w+` ADD COLUMN IF NOT EXISTS search_tokens TOKENLIST "
    r"AS \(TOKENIZE_FULLTEXT\(search_text\)\) HIDDEN"
    r"|CREATE SEARCH INDEX `\w+` ON `\w+` \(search_tokens\)"
    r"|DROP SEARCH INDEX IF EXISTS `\w+`)$"
)
SENT: list[str] = []
SESSION_ROW = "SELECT revision, update_time, state FROM `adk_session`"


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
    rec.answer("SELECT (SELECT state FROM", [(None, None)])  # scoped state: none stored
    yield rec
    SENT.extend(entry[1] for entry in rec.log if entry[0] in ("execute", "executemany", "ddl"))


def build(store_class: Any, **adk: Any) -> Any:
    connection = {"project": "p", "instance_id": "i", "database_id": "d"}
    return store_class(SpannerConfig(connection_config=connection, extension_config={"adk": adk}))


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


# ----------------------------------------------------------------- dialect
@pytest.mark.parametrize("owner", [None, "tenant_id INT64 NOT NULL"])
def test_every_rendered_statement_parses(owner: str | None) -> None:
    dialect = SpannerDialect(ADKConfig.from_mapping({"owner_id_column": owner}))
    statements = [*dialect.statements(), *dialect.memory_statements(), *dialect.artifact_statements()]
    statements += [stmt.sql for stmt in dialect.drop_tables()]
    statements += [*dialect.scoped_state_sql("app"), *dialect.scoped_state_sql("user"), dialect.memory_update_sql]
    for sql in statements:
        assert_parses(sql)
    ddl = "\n".join(dialect.all_ddl())
    assert "ON CONFLICT" not in ddl and "DEFAULT" not in ddl
    assert "commit_time TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = TRUE)" in ddl
    # No key or index leads with a timestamp or counter (hotspots).
    for columns in re.findall(r"(?:PRIMARY KEY|ON `\w+`) \((\w+)", ddl):
        assert columns in ("meta_key", "app_name", "id", "search_tokens"), columns


def test_named_placeholders_leave_quoted_text_alone() -> None:
    assert to_named_params("SELECT '?' FROM t WHERE a = ? AND b = ?") == "SELECT '?' FROM t WHERE a = @p1 AND b = @p2"


# ------------------------------------------------------ recorded operations
async def test_create_tables_applies_ddl_outside_the_transaction(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    recorder.ddl_errors["CREATE SEARCH INDEX"] = exceptions.FailedPrecondition("Duplicate name in schema: x")
    assert await store.arun(store.op_create_tables(), write=True) == 1
    assert words(recorder)[:3] == ["begin", "DDL CREATE", "SELECT"]
    assert words(recorder)[-2:] == ["INSERT", "commit"]
    ddl = [entry[1] for entry in recorder.log if entry[0] == "ddl"]
    assert any(sql.startswith("CREATE SEARCH INDEX") for sql in ddl)
    recorder.log.clear()
    recorder.ddl_errors["CREATE TABLE"] = exceptions.PermissionDenied("no")
    with pytest.raises(exceptions.PermissionDenied):
        await store.arun(store.op_create_tables(), write=True)
    assert words(recorder)[-1] == "rollback"


async def test_create_session_inserts_if_absent(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    await store.arun(
        store.op_create_session(app_name="a", user_id="u", session_id="s", state={"k": 1}, now=2.5), write=True
    )
    (sql, params, types), *_ = sent(recorder)
    columns = "app_name, user_id, id, state, create_time, update_time, revision"
    assert sql.startswith(f"INSERT INTO `adk_session` ({columns})")
    assert "WHERE NOT EXISTS (SELECT 1 FROM `adk_session` AS t WHERE t.app_name = n.app_name" in sql
    assert params == {"p1": "a", "p2": "u", "p3": "s", "p4": '{"k":1}', "p5": 2.5, "p6": 2.5}
    assert types["p5"] == spanner.param_types.FLOAT64 and types["p1"] == spanner.param_types.STRING
    assert words(recorder) == ["begin", "INSERT", "SELECT", "commit"]
    recorder.log.clear()
    recorder.answer("INSERT INTO `adk_session`", 0)
    with pytest.raises(AlreadyExistsError):
        await store.arun(
            store.op_create_session(app_name="a", user_id="u", session_id="s", state={}, now=1.0), write=True
        )
    assert words(recorder) == ["begin", "INSERT", "rollback"]


def append(store: Any, revision: int = 3) -> Any:
    appended = event("hi", delta={"k": 2, "app:a": 1}, timestamp=9.5)
    return store.op_append_event(
        app_name="a", user_id="u", session_id="s", expected_revision=revision, expected_update_time=5.0, event=appended
    )


async def test_append_event_is_one_read_write_transaction(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer(SESSION_ROW, [(3, 5.0, '{"k":1}')])
    recorder.answer("SELECT state FROM `adk_app_state`", [('{"old":1}',)])
    assert await store.arun(append(store), write=True) == 4
    assert words(recorder) == ["begin", "SELECT", "UPDATE", "INSERT", "SELECT", "UPDATE", "commit"]
    statements = sent(recorder)
    assert statements[1][0].endswith("AND revision = @p6") and statements[1][1]["p6"] == 3
    assert statements[2][0].endswith("@p9, PENDING_COMMIT_TIMESTAMP())") and statements[2][1]["p4"] == 4
    assert statements[2][2]["p4"] == spanner.param_types.INT64
    assert statements[4][1] == {"p1": '{"old":1,"a":1}', "p2": 9.5, "p3": "a"}


async def test_aborted_commit_is_retried_by_replay(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer(SESSION_ROW, [(3, 5.0, "{}")])
    recorder.commit_aborts = 1
    assert await store.arun(append(store), write=True) == 4
    assert words(recorder) == [
        *("begin", "SELECT", "UPDATE", "INSERT", "SELECT", "INSERT", "rollback"),
        *("begin", "SELECT", "UPDATE", "INSERT", "SELECT", "INSERT", "commit"),
    ]


async def test_aborted_statement_is_retried_from_where_it_stopped(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer(SESSION_ROW, [(3, 5.0, "{}")])
    aborts = [exceptions.Aborted("wounded")]
    recorder.answer("INSERT INTO `adk_event`", lambda params: aborts.pop() if aborts else 1)
    assert await store.arun(append(store), write=True) == 4
    assert words(recorder) == [
        *("begin", "SELECT", "UPDATE", "INSERT", "rollback"),
        *("begin", "SELECT", "UPDATE", "INSERT", "SELECT", "INSERT", "commit"),
    ]


async def test_retry_that_sees_another_writer_is_stale(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    rows = [[(4, 6.0, "{}")], [(3, 5.0, "{}")]]  # the winner committed revision 4 before our retry
    recorder.answer(SESSION_ROW, lambda params: rows.pop())
    recorder.commit_aborts = 1
    with pytest.raises(StaleSessionError):
        await store.arun(append(store), write=True)
    assert words(recorder)[-3:] == ["begin", "SELECT", "rollback"] and "commit" not in words(recorder)


async def test_retry_that_reads_other_data_stops(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKArtifactStore)
    versions = [[(1,)], [(0,)]]
    recorder.answer("COALESCE(MAX(version) + 1, 0)", lambda params: versions.pop())
    recorder.commit_aborts = 1
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f", session_id="s")
    write = ArtifactWrite("inline", "text/plain", None, "file:///x", "{}", 1.0, 1, "c")
    with pytest.raises(TransactionReplayError):
        await store.arun(store.op_save_version(key, write), write=True)
    assert "commit" not in words(recorder)


async def test_reads_use_one_snapshot(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    recorder.answer("FROM `adk_session` s WHERE", [('{"k":1}', 1.0, 2.0, 1, None, None)])
    recorder.answer("FROM `adk_event`", [("e1", 1, 1.0, event("x").model_dump_json())])
    snapshot = await store.arun(
        store.op_get_session(app_name="a", user_id="u", session_id="s", num_recent_events=5), write=False
    )
    assert snapshot is not None and len(snapshot["events"]) == 1
    assert words(recorder) == ["snapshot", "SELECT", "SELECT"]
    assert recorder.log[-1] == ("snapshot_end",)
    assert [entry[1] for entry in recorder.log if entry[0] == "snapshot"] == [{"multi_use": True}]


async def test_search_uses_search_and_score_on_quoted_tokens(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    recorder.answer("SEARCH(search_tokens", [("i", "s", "e1", "user", 1.0, '{"parts":[{"text":"x"}]}', None)])
    found = await store.arun(store.op_search(app_name="a", user_id="u", query='-x OR "y" AROUND(3) 東京'), write=False)
    assert [record["event_id"] for record in found] == ["e1"]
    sql, params, _ = sent(recorder)[-1]
    assert "WHERE SEARCH(search_tokens, @p1)" in sql and "ORDER BY SCORE(search_tokens, @p4) DESC" in sql
    assert params["p1"] == params["p4"] == '"x" OR "or" OR "y" OR "around" OR "3" OR "東" OR "京"'
    assert words(recorder) == ["snapshot", "SELECT"]  # SEARCH is not allowed in read-write transactions


async def test_memory_fallback_uses_like_without_escape_clause(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore, memory_use_fts=False)
    await store.arun(store.op_search(app_name="a", user_id="u", query="50% off"), write=False)
    sql, params, _ = sent(recorder)[-1]
    assert "SEARCH" not in sql and "search_text LIKE @p1" in sql and "ESCAPE" not in sql
    assert params["p1"] == "% 50 %" and params["p2"] == "% off %"


async def test_add_memory_updates_then_inserts_missing_rows(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    await store.arun(
        store.op_add_memories(app_name="a", user_id="u", memories=[memory_entry("m1", "hi"), memory_entry("m2", "x")]),
        write=True,
    )
    batches = [entry for entry in recorder.log if entry[0] == "executemany"]
    assert [batch[1].split(" ", 1)[0] for batch in batches] == ["UPDATE", "INSERT"]
    assert [row["p9"] for row in batches[0][2]] == ["m1", "m2"]
    assert "WHERE NOT EXISTS (SELECT 1 FROM `adk_memory` AS t WHERE t.id = n.id)" in batches[1][1]
    assert words(recorder) == ["begin", "UPDATE", "INSERT", "commit"]


async def test_failed_batch_rolls_back(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKMemoryStore)
    recorder.answer("INSERT INTO `adk_memory`", SimpleNamespace(code=9, message="constraint"))
    with pytest.raises(TransactionReplayError, match="constraint"):
        await store.arun(
            store.op_add_events(app_name="a", user_id="u", events=[event("hello", id="e1")], session_id="s"),
            write=True,
        )
    assert words(recorder)[-1] == "rollback"


async def test_close_pool_closes_the_client(recorder: SpannerRecorder) -> None:
    store = build(SpannerADKStore)
    await store.arun(store.op_get_scoped_state(app_name="a", user_id="u"), write=False)
    await store.config.close_pool()
    assert recorder.log[0] == ("client", {"project": "p"}) and recorder.log[-1] == ("close",)


def test_everything_sent_parses() -> None:
    """Runs last in this module: every statement the fake received parses as GoogleSQL (or is search DDL)."""
    assert len(SENT) > 20
    for sql in SENT:
        assert_parses(sql)
