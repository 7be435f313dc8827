"""PostgreSQL specifics: tsvector/GIN memory search, ``fts_config``, and JSONB text that may hold NUL."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspec_adk.config import ADKConfig
from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.postgres import PostgresDialect, from_jsonb_text, to_jsonb_text, tsquery_text
from tests.conftest import Backend

JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(JSON_TEXT, st.booleans())
@settings(max_examples=300, deadline=None)
def test_jsonb_text_round_trip_keeps_every_string(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    stored = to_jsonb_text(text)
    assert "\\u0000" not in stored.replace("\\\\", "")  # JSONB refuses U+0000
    assert json.loads(stored) is not None or value is None
    assert json.loads(from_jsonb_text(stored)) == value


def test_tsquery_text_quotes_every_token() -> None:
    assert tsquery_text(["pancake", "syrup"]) == "'pancake' | 'syrup'"
    assert tsquery_text(["it's", "a\\b"]) == "'it\\'s' | 'a\\\\b'"


def entry(memory_id: str, text: str) -> MemoryEntry:
    return MemoryEntry(id=memory_id, content=types.Content(role="user", parts=[types.Part(text=text)]))


async def add_and_search(store: Any, entries: list[MemoryEntry], query: str) -> list[str]:
    await store.arun(store.op_add_memories(app_name="a", user_id="u", memories=entries), write=True)
    found = await store.arun(store.op_search(app_name="a", user_id="u", query=query), write=False)
    return [record["event_id"] for record in found]


async def test_english_ranks_by_stems_but_matches_whole_tokens(pg: Backend) -> None:
    store = await pg.memory_store(memory_use_fts=True)
    entries = [
        entry("one", "the runner runs"),
        entry("two", "running runs run runner"),
        entry("three", "runners"),
    ]
    assert await add_and_search(store, entries, "runs") == ["two", "one"]  # cover density, then newest
    assert await add_and_search(store, [], "runner") == ["two", "one"]  # never "runners"


async def test_a_query_of_stop_words_only_still_matches_whole_tokens(pg: Backend) -> None:
    """'english' drops stop words from the tsquery; a query made only of them falls back to whole-token matching."""
    store = await pg.memory_store(memory_use_fts=True)
    entries = [entry("both", "what is it"), entry("one", "it was late"), entry("none", "pancakes")]
    assert await add_and_search(store, entries, "what is") == ["both"]
    assert await add_and_search(store, [], "it IS") == ["both", "one"]  # more tokens matched first
    assert await add_and_search(store, [], "is pancakes") == ["none"]  # a real word: the index decides


async def test_simple_config_searches_any_script(pg: Backend) -> None:
    store = await pg.memory_store(memory_use_fts=True, fts_config="simple")
    entries = [
        entry("ru", "Москва — столица России"),
        entry("de", "Straße und Größe"),
        entry("ja", "東京に住んでいます"),
    ]
    assert await add_and_search(store, entries, "москва") == ["ru"]
    assert await add_and_search(store, [], "STRASSE") == ["de"]  # case folding: ß is ss
    assert await add_and_search(store, [], "größe") == ["de"]
    assert await add_and_search(store, [], "東京") == ["ja"]


async def test_search_uses_the_gin_index(pg: Backend, admin: psycopg.Connection[Any]) -> None:
    store = await pg.memory_store(memory_use_fts=True)
    haystack = [entry(f"e{i}", f"filler text number {i}") for i in range(400)]
    await add_and_search(store, [*haystack, entry("n1", "a needle"), entry("n2", "needle again")], "needle")
    dialect = store.dialect
    admin.execute(f"ANALYZE {dialect.memory_table}")
    stmt = dialect.memory_fts_search_stmt("a", "u", ["needle"], 5)
    with admin.transaction():
        admin.execute("SET LOCAL enable_seqscan = off")
        rows = admin.execute(f"EXPLAIN {stmt.sql.replace('?', '%s')}", stmt.params).fetchall()
    plan = "\n".join(row[0] for row in rows)
    assert "fts_english_idx" in plan, plan
    # No GIN pending list on PostgreSQL (a search after a bulk ingest would scan it); CockroachDB has none to turn off.
    options = admin.execute(
        "SELECT c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) AND c.relname = %s",
        (dialect.memory_table, f"{dialect.adk.memory_table}_fts_english_idx"),
    ).fetchone()
    assert options is not None
    assert options[0] == (None if isinstance(dialect, CockroachDialect) else ["fastupdate=off"]), options


async def test_switching_fts_config_keeps_working(pg: Backend) -> None:
    english = await pg.memory_store(memory_use_fts=True)
    assert await add_and_search(english, [entry("x", "colourful gardens")], "gardens") == ["x"]
    simple = await pg.memory_store(memory_use_fts=True, fts_config="simple")
    assert await add_and_search(simple, [entry("y", "more gardens")], "gardens") == ["y", "x"]


def test_each_configuration_has_its_own_column() -> None:
    english = PostgresDialect(ADKConfig())
    simple = PostgresDialect(ADKConfig.from_mapping({"fts_config": "simple"}))
    assert english.fts_column != simple.fts_column
    assert "to_tsvector('simple', search_text)" in simple.memory_fts_ddl()[0]
