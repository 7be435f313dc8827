"""DuckDB specifics: the schema without an events foreign key, the lazily rebuilt BM25 index, the LIKE fallback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types

import sqlspec_adk.adapters.duckdb.config as duckdb_config
from sqlspec_adk.adapters.duckdb import DuckdbADKMemoryStore, DuckdbADKStore, DuckdbConfig
from sqlspec_adk.dialects import duckdb as duckdb_dialect
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Stmt
from tests.helpers import event


def entry(memory_id: str, text: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, author="user", content=types.Content(role="user", parts=[types.Part(text=text)]))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full-text index build the adapter executes."""
    seen: list[str] = []
    original = duckdb_config._execute

    def counting(connection: Any, stmt: Stmt) -> Any:
        if stmt.sql.startswith("PRAGMA create_fts_index"):
            seen.append(stmt.sql)
        return original(connection, stmt)

    monkeypatch.setattr(duckdb_config, "_execute", counting)
    return seen


@pytest.fixture
def config(tmp_path: Path) -> Iterator[DuckdbConfig]:
    made = DuckdbConfig(connection_config={"database": str(tmp_path / "adk.duckdb")})
    yield made
    made.close_pool()


def test_events_have_no_foreign_key_and_appends_update_the_session(config: DuckdbConfig) -> None:
    assert all("FOREIGN KEY" not in sql for sql in config.dialect.all_ddl())
    store = DuckdbADKStore(config)
    store.create_tables()
    store.create_session(app_name="a", user_id="u", session_id="s", state={"n": 0}, now=1.0)
    for number in range(1, 4):
        appended = event(f"e{number}", delta={"n": number, "user:u": number}, timestamp=1.0 + number)
        store.run(
            store.op_append_event(
                app_name="a",
                user_id="u",
                session_id="s",
                expected_revision=number - 1,
                expected_update_time=float(number),
                event=appended,
            ),
            write=True,
        )
    snapshot = store.get_session(app_name="a", user_id="u", session_id="s")
    assert snapshot is not None and snapshot["session"]["revision"] == 3 and len(snapshot["events"]) == 3
    assert store.delete_session(app_name="a", user_id="u", session_id="s") == 1
    assert store.run(store.dialect.count_rows(store.dialect.events_table), write=False) == 0


def test_index_is_rebuilt_once_per_batch_of_changes(config: DuckdbConfig, builds: list[str]) -> None:
    assert config.dialect.memory_fts
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    for batch in range(5):
        store.add_memories(app_name="a", user_id="u", memories=[entry(f"m{batch}{i}", f"apple {i}") for i in range(10)])
    assert builds == []  # writes never rebuild
    assert len(store.search(app_name="a", user_id="u", query="apple")) == 20
    assert len(builds) == 1
    store.search(app_name="a", user_id="u", query="apple 3")
    assert len(builds) == 1  # nothing changed since the last build
    store.delete_memory(app_name="a", user_id="u", memory_id="m03")
    assert store.delete_memory(app_name="a", user_id="u", memory_id="missing") == 0
    found = store.search(app_name="a", user_id="u", query="3", limit=10)
    assert len(builds) == 2
    assert sorted(record["event_id"] for record in found) == ["m13", "m23", "m33", "m43"]


def test_search_ranks_by_bm25(config: DuckdbConfig) -> None:
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    store.add_memories(
        app_name="a",
        user_id="u",
        memories=[entry("once", "paris is nice"), entry("twice", "paris paris café"), entry("none", "tokyo")],
    )
    assert [r["event_id"] for r in store.search(app_name="a", user_id="u", query="PARIS cafe")] == ["twice", "once"]


@pytest.fixture
def no_extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DuckDB without any fts extension: the package is hidden and nothing is installed by name."""
    real_find_spec = duckdb_dialect.importlib.util.find_spec
    monkeypatch.setattr(
        duckdb_dialect.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "duckdb_extension_fts" else real_find_spec(name, *a),
    )
    duckdb_dialect.fts_load_sql.cache_clear()
    yield
    duckdb_dialect.fts_load_sql.cache_clear()


@pytest.mark.usefixtures("no_extension")
def test_without_the_extension_search_falls_back_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sqlspec_adk.dialects.duckdb"):
        configs = [DuckdbConfig(connection_config={"database": str(tmp_path / f"{i}.duckdb")}) for i in range(2)]
        stores = [DuckdbADKMemoryStore(config) for config in configs]
    assert [record.message.count("falls back to LIKE") for record in caplog.records] == [1]
    store = stores[0]
    assert not store.dialect.memory_fts and store.dialect.connection_setup() == []
    store.create_tables()
    store.add_memories(app_name="a", user_id="u", memories=[entry("m", "50% off today")])
    assert [r["event_id"] for r in store.search(app_name="a", user_id="u", query="today 50")] == ["m"]
    assert store.search(app_name="a", user_id="u", query="%") == []
    with pytest.raises(ConfigError, match="fts extension"):
        DuckdbADKMemoryStore(DuckdbConfig(extension_config={"adk": {"memory_use_fts": True}}))
    for config in configs:
        config.close_pool()


def test_configs_on_one_file_share_its_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "x.duckdb")
    assert duckdb_dialect.database_lock(path) is duckdb_dialect.database_lock(str(tmp_path / "." / "x.duckdb"))
    assert duckdb_dialect.database_lock(":memory:") is not duckdb_dialect.database_lock(":memory:")


def test_search_leaves_everyday_words_out(config: DuckdbConfig) -> None:
    store = DuckdbADKMemoryStore(config)
    store.create_tables()
    common = [entry(f"c{i}", "what is my plan for the day") for i in range(30)]
    store.add_memories(app_name="a", user_id="u", memories=[*common, entry("rare", "my zeppelin ride")])
    store.add_memories(app_name="a", user_id="bob", memories=[entry("bob", "a blimp")])

    def found(query: str, user: str = "u") -> set[str]:
        return {r["event_id"] for r in store.search(app_name="a", user_id=user, query=query, limit=50)}

    # A small table is searched with every token (memory_prune_min_docs).
    assert found("what is my zeppelin") == {"rare", *(e.id for e in common)}
    store.dialect.memory_prune_min_docs = 0
    assert found("what is my zeppelin") == {"rare"}  # "what", "is", "my" held by most entries
    assert found("what is my") == {e.id for e in common}  # only everyday words: the rarest ("what", "is") stay
    assert found("what is my blimp") == {"rare", *(e.id for e in common)}  # bob's word: searched again with every token
    assert found("blimp", user="bob") == {"bob"}
    assert found("unknown words") == set()
