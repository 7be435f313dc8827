"""MySQL/MariaDB dialect and driver glue checks that need no server."""

from __future__ import annotations

import re
from typing import Any

import asyncmy.errors
import pymysql
import pytest
import sqlglot
from mysql.connector import errors as connector_errors

from sqlspec_adk.adapters._mysql import classify_mysql, connect_kwargs, error_code, prepare
from sqlspec_adk.adapters.aiomysql import AiomysqlConfig
from sqlspec_adk.adapters.asyncmy import AsyncmyConfig
from sqlspec_adk.adapters.mysqlconnector import MysqlconnectorConfig
from sqlspec_adk.adapters.pymysql import PymysqlConfig
from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.mysql import KEY_LENGTHS, MysqlDialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.loop import run_sync
from sqlspec_adk.engine.transaction import transaction
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.migrations.files import render
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt
from sqlspec_adk.records import ArtifactKey, ArtifactWrite, EventWrite, Expected, MemoryWrite
from sqlspec_adk.settings import ADKConfig
from tests.helpers import drive_sync

INNODB_MAX_KEY_BYTES = 3072


def dialect(**adk: Any) -> MysqlDialect:
    return MysqlDialect(ADKConfig.from_mapping(adk))


def ddl(**adk: Any) -> list[str]:
    """Schema version 1, every component."""
    mysql = dialect(**adk)
    return [sql for part in v0001_initial.COMPONENTS for sql in v0001_initial.statements(mysql, part)]


class FakeDriver:
    """A sync driver that records every call, answers statements from ``answer``, classifies as MySQL does."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[str] = []
        self.answer = answer or (lambda stmt: None)

    def acquire(self, write: bool) -> str:
        self.calls.append("acquire")
        return "connection"

    def release(self, connection: str, discard: bool) -> None:
        self.calls.append(f"release discard={discard}")

    def refresh(self) -> None:
        self.calls.append("refresh")

    def execute(self, connection: str, stmt: Stmt) -> Any:
        self.calls.append(stmt.sql)
        return self.answer(stmt)

    def command(self, connection: str, sql: str) -> None:
        self.calls.append(sql)

    def in_transaction(self, connection: str) -> bool:
        return False

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_mysql(error)


def run(driver: FakeDriver, operation: Operation[Any]) -> Any:
    return run_sync(driver, transaction(operation, MysqlDialect.rules, driver))


# ------------------------------------------------------------------ schema
def test_every_statement_parses_as_mysql() -> None:
    statements = dialect(owner_id_column="tenant_id INTEGER").statements()
    assert len(statements) > 20
    for sql in statements:
        assert sqlglot.parse_one(sql, read="mysql") is not None, sql


def test_ddl_is_idempotent_and_inline() -> None:
    """Indexes live inside CREATE TABLE IF NOT EXISTS: MySQL 8 has no CREATE INDEX IF NOT EXISTS."""
    for sql in ddl():
        assert not sql.upper().startswith("CREATE INDEX"), sql
        if sql.startswith("CREATE TABLE"):
            assert sql.startswith("CREATE TABLE IF NOT EXISTS")
            assert "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" in sql
            assert "ROW_FORMAT=DYNAMIC" in sql
        if sql.startswith("ALTER"):
            pytest.fail(f"unconditional ALTER is not idempotent: {sql}")


def test_json_columns_are_checked_and_quoting_uses_backticks() -> None:
    text = "\n".join(ddl())
    for column in ("state", "event_data", "content_json", "custom_metadata"):
        assert f"CHECK (JSON_VALID({column}))" in text
    assert "`adk_session`" in text and '"adk_session"' not in text


def _columns(sql: str) -> dict[str, tuple[str, int]]:
    found = re.findall(r"^\s*(\w+) (VARCHAR|BINARY|BIGINT|DOUBLE)\(?(\d*)\)?", sql, re.MULTILINE)
    return {name: (kind, int(size or 0)) for name, kind, size in found}


def _index_bytes(sql: str) -> list[tuple[str, int]]:
    """Byte length of every key in a CREATE TABLE (utf8mb4: 4 bytes a character, BIGINT/DOUBLE 8)."""
    sizes = {
        name: {"VARCHAR": size * 4 + 2, "BINARY": size}.get(kind, 8) for name, (kind, size) in _columns(sql).items()
    }
    keys = re.findall(r"(PRIMARY KEY|UNIQUE KEY `\w+`|KEY `\w+`) \(([^)]*)\)", sql)
    return [(label, sum(sizes[c.strip()] for c in parts.split(","))) for label, parts in keys]


def test_every_index_fits_innodb_key_limit() -> None:
    measured = 0
    for sql in ddl(owner_id_column="tenant_id BIGINT"):
        if sql.startswith("CREATE TABLE"):
            for label, size in _index_bytes(sql):
                assert size <= INNODB_MAX_KEY_BYTES, (label, size, sql)
                measured += 1
    assert measured >= 10


def test_key_lengths_are_the_schemas_column_sizes() -> None:
    """The lengths the dialect checks are those the v1 schema declares (so the check refuses exactly what fails)."""
    mysql = dialect()
    tables = {sql.split()[5]: _columns(sql) for sql in ddl() if sql.startswith("CREATE TABLE")}
    session, event = tables[mysql.session_table], tables[mysql.events_table]
    memory, artifact = tables[mysql.memory_table], tables[mysql.artifact_table]
    assert session["app_name"][1] == KEY_LENGTHS["app_name"] and session["user_id"][1] == KEY_LENGTHS["user_id"]
    assert session["id"][1] == KEY_LENGTHS["session_id"] == event["session_id"][1] == artifact["scope"][1]
    assert event["id"][1] == KEY_LENGTHS["event_id"] == memory["event_id"][1]
    assert memory["id"][1] == KEY_LENGTHS["memory_id"] and artifact["filename"][1] == KEY_LENGTHS["filename"]


def test_key_columns_are_exact_on_both_servers() -> None:
    """MariaDB runs /*M!...*/, MySQL 8.0.17+ runs /*!80017 ...*/: each gets its binary no-pad collation."""
    session = ddl()[1]
    line = next(part for part in session.splitlines() if part.strip().startswith("id VARCHAR"))
    assert "/*M!100202 COLLATE utf8mb4_nopad_bin */" in line
    assert "/*!80017 COLLATE utf8mb4_0900_bin */" in line
    assert "COLLATE=utf8mb4_bin" in session  # the fallback of any other server


def test_rendered_schema_is_complete() -> None:
    sql = render(dialect())
    assert sql.count("CREATE TABLE IF NOT EXISTS") == 8  # seven of version 1, the revision table of 5
    assert "ADD FULLTEXT KEY" in sql and "innodb_ft_enable_stopword = OFF" in sql
    assert "FULLTEXT" not in render(dialect(memory_use_fts=False))


# ------------------------------------------------------------- statements
def test_transaction_rules() -> None:
    rules = MysqlDialect.rules
    assert rules.begin_write == ("START TRANSACTION",)
    assert rules.begin_read == (
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    )
    assert (MysqlDialect.family, MysqlDialect.db_system) == ("mysql", "mysql")


def test_skip_if_present_inserts_are_plain_inserts_whose_duplicate_counts_zero() -> None:
    mysql = dialect()
    for sql in (mysql.sessions.insert_session_sql, mysql.artifacts.artifact_insert_sql):
        assert sql.startswith("INSERT INTO") and "ON CONFLICT" not in sql and "IGNORE" not in sql
        stmt = mysql.sessions.insert_skip(sql, ())
        assert stmt.duplicate_is_zero and stmt.fetch is Fetch.ROWCOUNT


def test_memory_upserts_are_composed_from_the_insert_head() -> None:
    memory = dialect(owner_id_column="tenant_id INTEGER").memory
    keep, replace = memory.upsert_sql(False), memory.upsert_sql(True)
    assert keep == f"{memory.insert_head} ON DUPLICATE KEY UPDATE id = id"
    assert replace.startswith("REPLACE INTO ")
    # The same columns and placeholders as the insert head.
    assert replace.split(" ", 1)[1] == memory.insert_head.split(" ", 1)[1]
    assert "tenant_id" in replace


def test_scoped_state_merge_locks_and_survives_a_lost_insert_race() -> None:
    """A missing row is inserted; a concurrent first writer's row (the INSERT counts 0) is locked and merged."""
    sessions = dialect().sessions
    sent: list[Stmt] = []

    def answer(stmt: Stmt) -> Any:
        sent.append(stmt)
        if stmt.sql.startswith("SELECT"):
            return None if len(sent) == 1 else ('{"other": 1}',)
        return 0  # the INSERT lost the race (a duplicate key, counted as 0 rows by the engine)

    state = drive_sync(sessions.merge_scoped_state("user", ("a", "u"), {"mine": 2}, 5.0), answer)
    assert state == {"other": 1, "mine": 2}
    assert [stmt.sql.split()[0] for stmt in sent] == ["SELECT", "INSERT", "SELECT", "UPDATE"]
    assert sent[0].sql.endswith("FOR UPDATE") and sent[2].sql.endswith("FOR UPDATE")
    assert sent[1].duplicate_is_zero and sent[1].fetch is Fetch.ROWCOUNT


def test_too_long_ids_are_refused_before_any_connection() -> None:
    """Checked at the start of each operation: the engine calls next(op) before it acquires a connection."""
    mysql = dialect()
    event = EventWrite(id="e" * 129, invocation_id="i", author="user", timestamp=1.0, event_json="{}")
    artifact = ArtifactWrite(
        kind="inline",
        mime_type=None,
        display_name=None,
        canonical_uri="memory://x",
        custom_metadata="{}",
        create_time=1.0,
        size=0,
        checksum="",
    )
    memory_write = MemoryWrite(
        app_name="a", user_id="u", event_id="m" * 129, session_id=None, author=None, timestamp=1.0,
        content_json="{}", custom_metadata_json=None, search_text=" m ",
    )  # fmt: skip
    operations: dict[str, tuple[str, Op[Any]]] = {
        "session_id is 129": (
            "create_session",
            mysql.sessions.create_session(app_name="a", user_id="u", session_id="x" * 129, delta=StateDelta(), now=1.0),
        ),
        "user_id is 256": (
            "create_session",
            mysql.sessions.create_session(app_name="a", user_id="u" * 256, session_id="s", delta=StateDelta(), now=1.0),
        ),
        "event_id is 129": (
            "append_event",
            mysql.sessions.append_event(
                app_name="a",
                user_id="u",
                session_id="s",
                expected=Expected(revision=0, update_time=1.0),
                event=event,
                delta=StateDelta(),
            ),
        ),
        "filename is 1025": (
            "save_artifact_version",
            mysql.artifacts.save_artifact_version(ArtifactKey("a", "u", "s", "f" * 1025), artifact),
        ),
        "event_id is 129 characters": (
            "add_memory_entries",
            mysql.memory.add_memory_entries([memory_write], replace=True),
        ),
    }
    for message, (name, op) in operations.items():
        driver = FakeDriver()
        with pytest.raises(ValueError, match=f"{message}.*at most"):
            run(driver, Operation(name, lambda op=op: op, write=True))
        assert driver.calls == [], name
    longest = mysql.sessions.create_session(
        app_name="a" * KEY_LENGTHS["app_name"],
        user_id="u" * KEY_LENGTHS["user_id"],
        session_id="s" * KEY_LENGTHS["session_id"],
        delta=StateDelta(),
        now=1.0,
    )
    assert next(longest).sql == mysql.sessions.insert_session_sql
    longest.close()


# ------------------------------------------------------------------ errors
def test_error_codes_of_every_driver() -> None:
    assert error_code(pymysql.err.IntegrityError(1062, "Duplicate entry")) == 1062
    assert error_code(connector_errors.IntegrityError(msg="Duplicate entry", errno=1062)) == 1062
    assert error_code(asyncmy.errors.IntegrityError(1062, "Duplicate entry")) == 1062
    assert error_code(pymysql.err.OperationalError(1213, "Deadlock found")) == 1213
    assert error_code(RuntimeError("no code")) is None
    assert error_code(connector_errors.OperationalError(msg="not available", errno=-1)) is None


def test_classification() -> None:
    assert classify_mysql(pymysql.err.IntegrityError(1062, "Duplicate entry")) is ErrorKind.DUPLICATE
    assert classify_mysql(pymysql.err.IntegrityError(1452, "foreign key")) is None
    for code in (1213, 1205, 1020):
        assert classify_mysql(pymysql.err.OperationalError(code, "rolled back")) is ErrorKind.ROLLED_BACK
        assert classify_mysql(connector_errors.DatabaseError(msg="rolled back", errno=code)) is ErrorKind.ROLLED_BACK
    for code in (2006, 2013, 2055, 4031, 1927, 1053):
        assert classify_mysql(pymysql.err.OperationalError(code, "gone")) is ErrorKind.LOST
        assert classify_mysql(connector_errors.OperationalError(msg="gone", errno=code)) is ErrorKind.LOST
        assert classify_mysql(asyncmy.errors.OperationalError(code, "gone")) is ErrorKind.LOST
    assert classify_mysql(ConnectionResetError("reset by peer")) is ErrorKind.LOST
    for code in (1050, 1060, 1061, 1051, 1091):  # already there / already gone: done, for exists_ok DDL
        assert classify_mysql(pymysql.err.OperationalError(code, "exists")) is ErrorKind.EXISTS
    assert (
        classify_mysql(connector_errors.ProgrammingError(msg="Duplicate column name", errno=1060)) is ErrorKind.EXISTS
    )
    assert classify_mysql(pymysql.err.ProgrammingError(1064, "syntax")) is None


def test_a_deadlock_runs_a_fresh_copy_of_the_operation() -> None:
    builds: list[int] = []

    def build() -> Op[int]:
        builds.append(1)
        row = yield Stmt("SELECT 1", (), Fetch.ONE)
        return int(row[0]) + len(builds)

    def answer(stmt: Stmt) -> Any:
        if len(builds) == 1:
            raise pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
        return (10,)

    driver = FakeDriver(answer)
    assert run(driver, Operation("op", build, write=True)) == 12
    assert len(builds) == 2
    assert driver.calls.count("START TRANSACTION") == 2 and driver.calls.count("COMMIT") == 1


def test_a_dead_pooled_connection_is_replaced_after_dropping_the_idle_ones() -> None:
    """The first statement of a transaction failing as lost: nothing was sent, so it runs again elsewhere."""
    builds: list[int] = []

    class DeadFirst(FakeDriver):
        def command(self, connection: str, sql: str) -> None:
            super().command(connection, sql)
            if self.calls.count("acquire") == 1:
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

    def build() -> Op[None]:
        builds.append(1)
        yield Stmt("SELECT 1", (), Fetch.ONE)

    driver = DeadFirst(lambda stmt: (1,))
    run(driver, Operation("read", build, write=False))
    assert driver.calls[:4] == [
        "acquire",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "release discard=True",
        "refresh",
    ]
    assert driver.calls[-1] == "release discard=False" and len(builds) == 2


def test_a_connection_lost_during_commit_is_raised() -> None:
    class LostCommit(FakeDriver):
        def command(self, connection: str, sql: str) -> None:
            super().command(connection, sql)
            if sql == "COMMIT":
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

    def build() -> Op[None]:
        yield Stmt("UPDATE t SET a = 1")

    driver = LostCommit()
    with pytest.raises(pymysql.err.OperationalError) as caught:
        run(driver, Operation("write", build, write=True))
    assert "may or may not have committed" in "".join(caught.value.__notes__)
    assert driver.calls.count("acquire") == 1


# ------------------------------------------------------------- driver glue
def test_placeholders_per_driver() -> None:
    stmt = Stmt("SELECT ? FROM t WHERE a LIKE '100%'", (1,))
    assert prepare(stmt, True) == ("SELECT %s FROM t WHERE a LIKE '100%%'", (1,))
    assert prepare(stmt, False) == ("SELECT %s FROM t WHERE a LIKE '100%'", (1,))
    assert prepare(Stmt("SELECT '100%'"), True) == ("SELECT '100%'", None)
    assert PymysqlConfig.escape_percent and not MysqlconnectorConfig.escape_percent


def test_parameter_count_mismatch_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"2 parameters for 1 placeholders in: INSERT INTO missing VALUES \(\?\)"):
        prepare(Stmt("INSERT INTO missing VALUES (?)", (1, 2)), True)
    with pytest.raises(ValueError, match="1 parameters for 2 placeholders"):
        prepare(Stmt("INSERT INTO t VALUES (?, ?)", [(1, 2), (3,)], many=True), False)
    assert prepare(Stmt("SELECT '?', ?", (1,)), True) == ("SELECT '?', %s", (1,))


def test_connect_keywords_are_normalized() -> None:
    assert connect_kwargs({"host": "h", "database": "d"}, "db") == {
        "host": "h",
        "db": "d",
        "charset": "utf8mb4",
        "autocommit": True,
    }
    assert connect_kwargs({"db": "d"}, "database")["database"] == "d"
    with pytest.raises(ConfigError, match="utf8mb4"):
        connect_kwargs({"charset": "utf8"}, "db")
    with pytest.raises(ConfigError, match="twice"):
        connect_kwargs({"db": "a", "database": "b"}, "db")
    with pytest.raises(ConfigError, match="autocommit"):
        connect_kwargs({"autocommit": False}, "db")


def test_pool_config_names() -> None:
    config = AiomysqlConfig(connection_config={"db": "test"}, pool_config={"min_size": 0, "max_size": 3})
    assert config.pool_kwargs == {"minsize": 0, "maxsize": 3}
    assert AsyncmyConfig(connection_config={"database": "test"}).pool_kwargs == {"maxsize": 10}
    assert PymysqlConfig(connection_config={"database": "test"}, pool_config={"max_size": 2}).max_size == 2
    with pytest.raises(ConfigError, match="max_size"):
        PymysqlConfig(pool_config={"max_size": 0})


# ------------------------------------------------------------------ memory
def test_full_text_token_rule() -> None:
    memory = dialect().memory
    assert memory.fts_token("cat") and memory.fts_token("значение") and memory.fts_token("abc123")
    assert not memory.fts_token("ai")  # shorter than innodb_ft_min_token_size
    assert not memory.fts_token("東")  # a one-character token
    assert not memory.fts_token("नमस्ते")  # combining marks: the parser may split it
    assert not memory.fts_token("𐌰𐌱𐌲")  # outside the Basic Multilingual Plane
    memory.ft_token_sizes = (2, 84)
    assert memory.fts_token("ai")


def test_full_text_search_statements() -> None:
    memory = dialect().memory
    words = memory.fts_search_stmt("app", "u", ["meeting", "safety"], 5)
    assert "MATCH (search_text) AGAINST (? IN BOOLEAN MODE)" in words.sql and "LIKE" not in words.sql
    assert '"meeting" "safety"' in words.params
    # Tokens too short for the FULLTEXT index are left out while any token is indexable...
    mixed = memory.fts_search_stmt("app", "u", ["ai", "is", "safety"], 5)
    assert "MATCH" in mixed.sql and "LIKE" not in mixed.sql
    assert mixed.params[0] == '"safety"'
    # ...and only a query with none ranks by whole-token LIKE.
    short = memory.fts_search_stmt("app", "u", ["ai", "is"], 5)
    assert "MATCH" not in short.sql and "LIKE" in short.sql


def test_search_reads_the_token_sizes_once_then_falls_back_to_like() -> None:
    memory = dialect().memory
    sent: list[str] = []

    def answer(stmt: Stmt) -> Any:
        sent.append("sizes" if stmt.sql.startswith("SELECT @@") else "like" if "LIKE" in stmt.sql else "match")
        return (2, 84) if sent[-1] == "sizes" else []

    assert drive_sync(memory.search_memory(app_name="a", user_id="u", tokens=["zebra", "x"], limit=5), answer) == []
    assert sent == ["sizes", "match", "like"] and memory.ft_token_sizes == (2, 84)
    sent.clear()
    drive_sync(memory.search_memory(app_name="a", user_id="u", tokens=["zebra", "ai"], limit=5), answer)
    assert sent == ["match"]  # "ai" is indexable at min size 2: nothing left for LIKE
