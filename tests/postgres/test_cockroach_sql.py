"""CockroachDB statement checks (no CockroachDB server here).

Every statement the CockroachDB dialect renders, and every statement the
cockroach adapters actually issue in a scenario run against the local
PostgreSQL, must parse with sqlglot (dialect ``postgres``) and avoid what
CockroachDB refuses: ``ts_rank_cd``, advisory locks, and statements that modify
the same table twice (CockroachDB rejects multiple mutations of one table in one
statement). The whole contract suite also runs through these adapters
(``--adapter cockroach_asyncpg,cockroach_psycopg``).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from google.adk.memory.memory_entry import MemoryEntry
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types
from sqlglot import exp

from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.modes import call
from sqlspec_adk.paramstyle import dollar
from sqlspec_adk.protocol import Stmt
from sqlspec_adk.records import ArtifactKey
from sqlspec_adk.settings import ADKConfig
from tests.conftest import Backend
from tests.helpers import event

CONFIGS: list[dict[str, Any]] = [
    {},
    {"schema": "tenant_a"},
    {"owner_id_column": "tenant_id INTEGER NOT NULL REFERENCES tenants (id)"},
    {"memory_use_fts": False},
    {"fts_config": "simple", "schema": "x"},
]


def check(sql: str) -> exp.Expression:
    """Parse one statement (as sent with ``$n`` placeholders) and apply the CockroachDB rules."""
    tree = sqlglot.parse_one(dollar(sql), read="postgres")
    lowered = sql.lower()
    assert "ts_rank_cd" not in lowered, sql
    assert "pg_advisory" not in lowered, sql
    targets = [node.this for node in tree.find_all(exp.Insert, exp.Update, exp.Delete)]
    names = [table.sql("postgres") for target in targets for table in target.find_all(exp.Table)][: len(targets)]
    assert len(names) == len(set(names)), f"modifies one table twice: {sql}"
    return tree


@pytest.mark.parametrize("options", CONFIGS, ids=[str(sorted(c)) for c in CONFIGS])
def test_every_rendered_statement_parses(options: dict[str, Any]) -> None:
    dialect = CockroachDialect(ADKConfig.from_mapping(options))
    statements = [sql for sql in dialect.statements() if sql]
    assert len(statements) > 60
    for sql in statements:
        check(sql)


def test_full_text_search_uses_what_cockroachdb_has() -> None:
    dialect = CockroachDialect(ADKConfig())
    search = dialect.memory.fts_search_stmt("app", "user", ["pancake", "syrup"], 5)
    # BM25 is computed in SQL: no ts_rank_cd (which CockroachDB lacks), and no ts_rank either.
    assert "ts_rank" not in search.sql and "to_tsquery('english', u.op)" in search.sql
    ddl = " ".join(v0001_initial.statements(dialect, "memory"))
    assert "GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED" in ddl
    assert "USING GIN" in ddl and "fastupdate" not in ddl  # PostgreSQL's GIN storage parameter
    ddl_statements = [
        sql
        for part in ("metadata", "sessions", "memory", "artifacts")
        for sql in v0001_initial.statements(dialect, part)
    ]
    for sql in ddl_statements:
        check(sql)
    assert dialect.family != "postgresql"  # the migration runner takes its advisory lock for PostgreSQL only


def test_transactions_follow_cockroachdb() -> None:
    rules = CockroachDialect.rules
    assert rules.begin_read == ("BEGIN TRANSACTION READ ONLY",) and rules.begin_write == ("BEGIN",)
    assert rules.alone_autocommit and rules.retry_attempts == 10
    assert (CockroachDialect.family, CockroachDialect.db_system) == ("cockroachdb", "cockroachdb")


def record(config: Any, sink: list[str]) -> None:
    """Record every statement and command the config sends."""
    execute, command = config.execute, config.command
    sync = not config.is_async

    if sync:

        def execute_sync(connection: Any, stmt: Stmt) -> Any:
            sink.append(stmt.sql)
            return execute(connection, stmt)

        def command_sync(connection: Any, sql: str) -> None:
            sink.append(sql)
            command(connection, sql)

        config.execute, config.command = execute_sync, command_sync
        return

    async def execute_async(connection: Any, stmt: Stmt) -> Any:
        sink.append(stmt.sql)
        return await execute(connection, stmt)

    async def command_async(connection: Any, sql: str) -> None:
        sink.append(sql)
        await command(connection, sql)

    config.execute, config.command = execute_async, command_async


async def test_statements_issued_by_a_scenario_parse(crdb: Backend) -> None:
    recorded: list[str] = []
    config = crdb.config()
    record(config, recorded)
    sessions = await crdb.sessions(config)
    session = await sessions.create_session(app_name="a", user_id="u", state={"s": 1, "app:x": 1, "user:y": 1})
    for index in range(3):
        session = await sessions.get_session(app_name="a", user_id="u", session_id=session.id) or session
        await sessions.append_event(session, event(f"turn {index}", delta={"s": index, "app:x": index}))
    await sessions.get_session(
        app_name="a",
        user_id="u",
        session_id=session.id,
        config=GetSessionConfig(num_recent_events=2, after_timestamp=0),
    )
    await sessions.list_sessions_page(app_name="a", page_size=1)
    _, token = await sessions.list_sessions_page(app_name="a", user_id="u", page_size=1)
    await sessions.list_sessions_page(app_name="a", user_id="u", page_size=1, page_token=token)
    await sessions.get_user_state(app_name="a", user_id="u")
    await sessions.delete_events_before(before=0)
    await sessions.delete_session(app_name="a", user_id="u", session_id=session.id)

    await sessions.delete_idle_sessions(before=0, app_name="a")

    memory = await crdb.memory_store(config)
    entry = MemoryEntry(id="m", content=types.Content(role="user", parts=[types.Part(text="pancake syrup")]))
    await call(memory.add_memory, app_name="a", user_id="u", memories=[entry])
    await call(memory.search_memory, app_name="a", user_id="u", query="pancake")
    await call(memory.search_memory, app_name="a", user_id="u", query="what is it")  # stop words only
    await call(memory.delete_memory, app_name="a", user_id="u", memory_id="m")
    await call(memory.delete_user_memory, app_name="a", user_id="u", session_id="s")
    await call(memory.delete_memory_before, before=0)

    artifacts = await crdb.artifacts(config)
    part = types.Part(inline_data=types.Blob(mime_type="text/plain", data=b"hello"))
    await artifacts.save_artifact(app_name="a", user_id="u", session_id="s", filename="f.txt", artifact=part)
    await artifacts.load_artifact(app_name="a", user_id="u", session_id="s", filename="f.txt")
    await artifacts.list_artifact_keys(app_name="a", user_id="u", session_id="s")
    await artifacts.delete_artifact(app_name="a", user_id="u", session_id="s", filename="f.txt")
    key = ArtifactKey.resolve(app_name="a", user_id="u", filename="f.txt", session_id="s")
    await call(artifacts.store.artifact_uri_exists, key, "memory://nowhere")
    await artifacts.delete_artifacts_before(before=0)

    statements = sorted(set(recorded))
    assert len(statements) > 25
    for sql in statements:
        check(sql)
    # Every fixed statement the run issued is one the dialect lists for offline checks.
    dialect = config.dialect
    rendered = set(dialect.statements())
    rendered.add(dialect.memory.fts_search_stmt("a", "u", ["what", "is", "it"], 1).sql)  # its shape: 3 tokens
    inline = (  # statements the migration runner and the engine send (parsed above all the same)
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "CREATE ",
        "ALTER TABLE",
        "SELECT meta_",
        f"INSERT INTO {dialect.metadata_table}",
        f"UPDATE {dialect.metadata_table}",
        f"UPDATE {dialect.events_table} SET compaction",
    )
    missing = [sql for sql in statements if sql not in rendered and not sql.startswith(inline)]
    assert missing == [], "\n".join(missing)
