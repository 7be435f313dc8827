"""MySQL/MariaDB dialect and driver glue checks that need no server."""

from __future__ import annotations

import re
from typing import Any

import pymysql
import pytest
import sqlglot
from mysql.connector import errors as connector_errors

from sqlspec_adk.adapters._mysql import (
    absorbs_duplicate,
    connect_kwargs,
    error_code,
    mark_commit_failed,
    prepare,
    should_replay,
)
from sqlspec_adk.adapters.aiomysql import AiomysqlConfig
from sqlspec_adk.adapters.pymysql import PymysqlConfig
from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.mysql import KEY_LENGTHS, MysqlDialect, Replayable
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations.runner import render
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync

INNODB_MAX_KEY_BYTES = 3072


def dialect(**adk: Any) -> MysqlDialect:
    return MysqlDialect(ADKConfig.from_mapping(adk))


def test_every_statement_parses_as_mysql() -> None:
    mysql = dialect(owner_id_column="tenant_id INTEGER")
    statements = [*mysql.statements(), *mysql.memory_statements(), *mysql.artifact_statements()]
    assert len(statements) > 20
    for sql in statements:
        assert sqlglot.parse_one(sql, read="mysql") is not None, sql


def test_ddl_is_idempotent_and_inline() -> None:
    """Indexes live inside CREATE TABLE IF NOT EXISTS: MySQL 8 has no CREATE INDEX IF NOT EXISTS."""
    for sql in dialect().all_ddl():
        assert not sql.upper().startswith("CREATE INDEX"), sql
        if sql.startswith("CREATE TABLE"):
            assert sql.startswith("CREATE TABLE IF NOT EXISTS")
            assert "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" in sql
            assert "ROW_FORMAT=DYNAMIC" in sql
        if sql.startswith("ALTER"):
            pytest.fail(f"unconditional ALTER is not idempotent: {sql}")


def test_json_columns_are_checked_and_quoting_uses_backticks() -> None:
    ddl = "\n".join(dialect().all_ddl())
    for column in ("state", "event_data", "content_json", "custom_metadata"):
        assert f"CHECK (JSON_VALID({column}))" in ddl
    assert "`adk_session`" in ddl and '"adk_session"' not in ddl


def _index_bytes(ddl: str) -> list[tuple[str, int]]:
    """Byte length of every key in a CREATE TABLE (utf8mb4: 4 bytes a character, BIGINT/DOUBLE 8)."""
    columns: dict[str, int] = {}
    for name, kind, size in re.findall(r"^\s*(\w+) (VARCHAR|BINARY|BIGINT|DOUBLE)\(?(\d*)\)?", ddl, re.MULTILINE):
        columns[name] = {"VARCHAR": int(size or 0) * 4 + 2, "BINARY": int(size or 0)}.get(kind, 8)
    keys = re.findall(r"(PRIMARY KEY|UNIQUE KEY `\w+`|KEY `\w+`) \(([^)]*)\)", ddl)
    return [(label, sum(columns[c.strip()] for c in parts.split(","))) for label, parts in keys]


def test_every_index_fits_innodb_key_limit() -> None:
    measured = 0
    for sql in dialect(owner_id_column="tenant_id BIGINT").all_ddl():
        if sql.startswith("CREATE TABLE"):
            for label, size in _index_bytes(sql):
                assert size <= INNODB_MAX_KEY_BYTES, (label, size, sql)
                measured += 1
    assert measured >= 10


def test_key_columns_are_exact_on_both_servers() -> None:
    """MariaDB runs /*M!...*/, MySQL 8.0.17+ runs /*!80017 ...*/: each gets its binary no-pad collation."""
    session = dialect().session_ddl()[0]
    line = next(part for part in session.splitlines() if part.strip().startswith("id VARCHAR"))
    assert "/*M!100202 COLLATE utf8mb4_nopad_bin */" in line
    assert "/*!80017 COLLATE utf8mb4_0900_bin */" in line
    assert "COLLATE=utf8mb4_bin" in session  # the fallback of any other server


def test_too_long_ids_are_refused_before_any_statement() -> None:
    mysql = dialect()
    from sqlspec_adk.converters import StateDelta

    with pytest.raises(ValueError, match="session_id is 129 characters"):
        mysql.create_session(app_name="a", user_id="u", session_id="x" * 129, delta=StateDelta(), now=1.0)
    op = mysql.create_session(
        app_name="a" * KEY_LENGTHS["app_name"],
        user_id="u" * KEY_LENGTHS["user_id"],
        session_id="s",
        delta=StateDelta(),
        now=1.0,
    )
    assert isinstance(op, Replayable)
    op.close()


def test_replayable_runs_a_fresh_copy() -> None:
    calls: list[int] = []

    def build() -> Op[int]:
        calls.append(1)
        first = yield Stmt("SELECT 1", (), Fetch.ONE)
        return int(first[0]) + len(calls)

    op = Replayable(build)
    assert drive_sync(op, lambda stmt: (10,)) == 11
    again = op.replay()
    assert drive_sync(again, lambda stmt: (20,)) == 22
    assert len(calls) == 2


def test_write_operations_are_replayable_reads_need_not_be() -> None:
    mysql = dialect()
    assert isinstance(mysql.delete_session(app_name="a", user_id="u", session_id="s"), Replayable)
    assert isinstance(mysql.delete_events_before(before=1.0), Replayable)
    assert isinstance(mysql.delete_memory_before(before=1.0), Replayable)
    assert not isinstance(mysql.get_session(app_name="a", user_id="u", session_id="s"), Replayable)


def test_error_codes_of_every_driver() -> None:
    assert error_code(pymysql.err.IntegrityError(1062, "Duplicate entry")) == 1062
    assert error_code(connector_errors.IntegrityError(msg="Duplicate entry", errno=1062)) == 1062
    assert error_code(pymysql.err.OperationalError(1213, "Deadlock found")) == 1213
    assert error_code(RuntimeError("no code")) is None
    assert error_code(connector_errors.OperationalError(msg="not available", errno=-1)) is None


def test_only_row_counted_inserts_absorb_a_duplicate_key() -> None:
    duplicate = pymysql.err.IntegrityError(1062, "Duplicate entry")
    assert absorbs_duplicate(Stmt("INSERT INTO t VALUES (?)", (1,), Fetch.ROWCOUNT), duplicate)
    assert not absorbs_duplicate(Stmt("INSERT INTO t VALUES (?)", (1,)), duplicate)
    assert not absorbs_duplicate(Stmt("UPDATE t SET a = ?", (1,), Fetch.ROWCOUNT), duplicate)
    assert not absorbs_duplicate(
        Stmt("INSERT INTO t VALUES (?)", (1,), Fetch.ROWCOUNT), pymysql.err.IntegrityError(1452, "foreign key")
    )


def test_only_replayable_ops_retry_and_only_transient_errors() -> None:
    def build() -> Op[None]:
        yield Stmt("SELECT 1")

    deadlock = pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    timeout = pymysql.err.OperationalError(1205, "Lock wait timeout exceeded")
    assert should_replay(Replayable(build), deadlock, 0)
    assert should_replay(Replayable(build), timeout, 2)
    assert not should_replay(Replayable(build), deadlock, 3)
    assert not should_replay(build(), deadlock, 0)
    assert not should_replay(Replayable(build), pymysql.err.IntegrityError(1062, "dup"), 0)
    lost = pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
    assert should_replay(Replayable(build), lost, 0)
    assert should_replay(Replayable(build), ConnectionResetError("reset by peer"), 0)
    mark_commit_failed(lost)  # lost during COMMIT: it may have committed, so never run it twice
    assert not should_replay(Replayable(build), lost, 0)
    assert "COMMIT failed" in "".join(lost.__notes__)


def test_placeholders_per_driver() -> None:
    stmt = Stmt("SELECT ? FROM t WHERE a LIKE '100%'", (1,))
    assert prepare(stmt, True) == ("SELECT %s FROM t WHERE a LIKE '100%%'", (1,))
    assert prepare(stmt, False) == ("SELECT %s FROM t WHERE a LIKE '100%'", (1,))
    assert prepare(Stmt("SELECT '100%'"), True) == ("SELECT '100%'", None)


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
    assert PymysqlConfig(connection_config={"database": "test"}, pool_config={"max_size": 2}).max_size == 2
    with pytest.raises(ConfigError, match="max_size"):
        PymysqlConfig(pool_config={"max_size": 0})


def test_rendered_schema_is_complete() -> None:
    sql = render(dialect())
    assert sql.count("CREATE TABLE IF NOT EXISTS") == 7
    assert "ADD FULLTEXT KEY" in sql and "innodb_ft_enable_stopword = OFF" in sql
    assert "FULLTEXT" not in render(dialect(memory_use_fts=False))


def test_full_text_token_rule() -> None:
    mysql = dialect()
    assert mysql.fts_token("cat") and mysql.fts_token("значение") and mysql.fts_token("abc123")
    assert not mysql.fts_token("ai")  # shorter than innodb_ft_min_token_size
    assert not mysql.fts_token("東")  # a one-character token
    assert not mysql.fts_token("नमस्ते")  # combining marks: the parser may split it
    assert not mysql.fts_token("𐌰𐌱𐌲")  # outside the Basic Multilingual Plane
    mysql.ft_token_sizes = (2, 84)
    assert mysql.fts_token("ai")


def test_parameter_count_mismatch_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"2 parameters for 1 placeholders in: INSERT INTO missing VALUES \(\?\)"):
        prepare(Stmt("INSERT INTO missing VALUES (?)", (1, 2)), True)
    with pytest.raises(ValueError, match="1 parameters for 2 placeholders"):
        prepare(Stmt("INSERT INTO t VALUES (?, ?)", [(1, 2), (3,)], many=True), False)
    assert prepare(Stmt("SELECT '?', ?", (1,)), True) == ("SELECT '?', %s", (1,))
