"""DuckDB specifics: the schema without an events foreign key, the lazily rebuilt BM25 index, the LIKE fallback."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

from sqlspec_adk.adapters import _duckdb
from sqlspec_adk.adapters.duckdb import DuckdbADKMemoryStore, DuckdbADKStore, DuckdbConfig
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import drop_tables, v0001_initial
from sqlspec_adk.protocol import Stmt
from sqlspec_adk.records import Expected
from sqlspec_adk.settings import ADKConfig
from tests.helpers import event, raw_op


def entry(memory_id: str, text: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, author="user", content=types.Content(role="user", parts=[types.Part(text=text)]))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full-text index build the adapter executes."""
    seen: list[str] = []
    original = DuckdbConfig.execute

    def counting(self: DuckdbConfig, connection: Any, stmt: Stmt) -> Any:
        if stmt.sql.startswith("PRAGMA create_fts_index"):
            seen.append(stmt.sql)
        return original(self, connection, stmt)

    monkeypatch.setattr(DuckdbConfig, "execute", counting)
    return seen


@pytest.fixture
def config(tmp_path: Path) -> Iterator[DuckdbConfig]:
    made = DuckdbConfig(connection_config={"database": str(tmp_path / "adk.duckdb")})
    yield made
    made.close_pool()


def test_events_have_no_foreign_key_and_appends_update_the_session(config: DuckdbConfig) -> None:
    assert all("FOREIGN KEY" not in sql for sql in v0001_initial.statements(config.dialect, "sessions"))
    store = DuckdbADKStore(config)
    store.create_tables()
    store.create_session(app_name="a", user_id="u", session_id="s", state={"n": 0})
    for number in range(1, 4):
        appended = event(f"e{number}", delta={"n": number, "user:u": number}, timestamp=1.0 + number)
        store.append_event(
            app_name="a",
            user_id="u",
            session_id="s",
            expected=Expected(revision=number - 1, update_time=float(number)),
            event=appended,
        )
    snapshot = store.get_session(app_name="a", user_id="u", session_id="s")
    assert snapshot is not None and snapshot["session"]["revision"] == 3 and len(snapshot["events"]) == 3
    assert store.delete_session(app_name="a", user_id="u", session_id="s") == 1
    assert config.run(raw_op(f"SELECT COUNT(*) FROM {config.dialect.events_table}"))[0][0] == 0


def test_index_is_rebuilt_once_per_batch_of_changes(config: DuckdbConfig, builds: list[str]) -> None:
    assert config.dialect.memory.memory_fts
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    for batch in range(5):
        store.add_memory(app_name="a", user_id="u", memories=[entry(f"m{batch}{i}", f"apple {i}") for i in range(10)])
    assert builds == []  # writes never rebuild
    assert len(store.search_memory(app_name="a", user_id="u", query="apple")) == 20
    assert len(builds) == 1
    store.search_memory(app_name="a", user_id="u", query="apple 3")
    assert len(builds) == 1  # nothing changed since the last build
    store.delete_memory(app_name="a", user_id="u", memory_id="m03")
    assert store.delete_memory(app_name="a", user_id="u", memory_id="missing") == 0
    found = store.search_memory(app_name="a", user_id="u", query="3", limit=10)
    assert len(builds) == 2
    assert sorted(record["event_id"] for record in found) == ["m13", "m23", "m33", "m43"]


def test_search_ranks_by_bm25(config: DuckdbConfig) -> None:
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    store.add_memory(
        app_name="a",
        user_id="u",
        memories=[entry("once", "paris is nice"), entry("twice", "paris paris café"), entry("none", "tokyo")],
    )
    found = store.search_memory(app_name="a", user_id="u", query="PARIS cafe")
    assert [r["event_id"] for r in found] == ["twice", "once"]


@pytest.fixture
def no_extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DuckDB without any fts extension: the package is hidden and nothing is installed by name."""
    real_find_spec = _duckdb.importlib.util.find_spec
    monkeypatch.setattr(
        _duckdb.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "duckdb_extension_fts" else real_find_spec(name, *a),
    )
    _duckdb.fts_load_sql.cache_clear()
    yield
    _duckdb.fts_load_sql.cache_clear()


@pytest.mark.usefixtures("no_extension")
def test_without_the_extension_search_falls_back_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sqlspec_adk.adapters._duckdb"):
        configs = [DuckdbConfig(connection_config={"database": str(tmp_path / f"{i}.duckdb")}) for i in range(2)]
        stores = [DuckdbADKMemoryStore(config) for config in configs]
    assert [record.message.count("falls back to LIKE") for record in caplog.records] == [1]
    store = stores[0]
    assert not store.dialect.memory.memory_fts and _duckdb.setup_statements(configs[0].dialect) == []
    store.create_tables()
    store.add_memory(app_name="a", user_id="u", memories=[entry("m", "50% off today")])
    assert [r["event_id"] for r in store.search_memory(app_name="a", user_id="u", query="today 50")] == ["m"]
    assert store.search_memory(app_name="a", user_id="u", query="%") == []
    with pytest.raises(ConfigError, match="fts extension"):
        DuckdbADKMemoryStore(DuckdbConfig(extension_config={"adk": {"memory_use_fts": True}}))
    for config in configs:
        config.close_pool()


def test_the_config_decides_whether_the_dialect_searches_with_fts() -> None:
    """The dialect loads nothing: it is told whether the extension is there, and refuses FTS without it."""
    assert DuckdbDialect(ADKConfig()).memory.memory_fts
    assert not DuckdbDialect(ADKConfig(), fts_extension=False).memory.memory_fts
    assert not DuckdbDialect(ADKConfig(memory_use_fts=False)).memory.memory_fts
    with pytest.raises(ConfigError, match="fts extension"):
        _ = DuckdbDialect(ADKConfig(memory_use_fts=True), fts_extension=False).memory.memory_fts
    assert _duckdb.duckdb_dialect(ADKConfig()).memory.memory_fts  # duckdb-extension-fts is installed here
    assert _duckdb.setup_statements(_duckdb.duckdb_dialect(ADKConfig())) == [_duckdb.fts_load_sql()]


def test_every_fixed_statement_parses_as_duckdb() -> None:
    dialect = DuckdbDialect(ADKConfig.from_mapping({"owner_id_column": "tenant_id INTEGER"}))
    for sql in dialect.statements():
        if not sql.startswith("PRAGMA"):
            sqlglot.parse_one(sql, read="duckdb")


def test_configs_on_one_file_share_its_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "x.duckdb")
    assert _duckdb.database_lock(path) is _duckdb.database_lock(str(tmp_path / "." / "x.duckdb"))
    assert _duckdb.database_lock(":memory:") is not _duckdb.database_lock(":memory:")


def test_a_transaction_holds_the_file_lock_from_acquire_to_release(tmp_path: Path) -> None:
    """A second config on the file waits for the first one's transaction; the lock is free after each release."""
    path = str(tmp_path / "locked.duckdb")
    first, second = (DuckdbConfig(connection_config={"database": path}) for _ in range(2))
    lock = _duckdb.database_lock(path)
    try:
        connection = first.acquire(write=True)
        assert lock.locked()
        waited = threading.Event()

        def other() -> None:
            second.run(raw_op("SELECT 1"))
            waited.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert not waited.wait(0.2)  # blocked on the lock
        first.release(connection, discard=False)
        assert waited.wait(10)
        thread.join()
        assert not lock.locked()
        with pytest.raises(Exception, match="syntax"):
            first.run(raw_op("SELEC 1"))
        assert not lock.locked()  # also after a failed transaction
    finally:
        first.close_pool()
        second.close_pool()


def test_search_leaves_everyday_words_out(config: DuckdbConfig) -> None:
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    common = [entry(f"c{i}", "what is my plan for the day") for i in range(30)]
    store.add_memory(app_name="a", user_id="u", memories=[*common, entry("rare", "my zeppelin ride")])
    store.add_memory(app_name="a", user_id="bob", memories=[entry("bob", "a blimp")])

    def found(query: str, user: str = "u") -> set[str]:
        return {r["event_id"] for r in store.search_memory(app_name="a", user_id=user, query=query, limit=50)}

    # A small table is searched with every token (prune_min_docs).
    assert found("what is my zeppelin") == {"rare", *(e.id for e in common)}
    store.dialect.memory.prune_min_docs = 0
    assert found("what is my zeppelin") == {"rare"}  # "what", "is", "my" held by most entries
    assert found("what is my") == {e.id for e in common}  # only everyday words: the rarest ("what", "is") stay
    assert found("what is my blimp") == {"rare", *(e.id for e in common)}  # bob's word: searched again with every token
    assert found("blimp", user="bob") == {"bob"}
    assert found("unknown words") == set()


def test_drop_tables_removes_the_fts_index_schema(config: DuckdbConfig) -> None:
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    store.add_memory(app_name="a", user_id="u", memories=[entry("m", "apple")])
    assert store.search_memory(app_name="a", user_id="u", query="apple")
    schemas = "SELECT schema_name FROM information_schema.schemata"
    assert "fts_main_adk_memory" in {row[0] for row in config.run(raw_op(schemas))}
    asyncio.run(drop_tables(config))
    assert "fts_main_adk_memory" not in {row[0] for row in config.run(raw_op(schemas))}
    assert config.run(raw_op("SELECT table_name FROM information_schema.tables")) == []
