"""PostgreSQL specifics: tsvector/GIN memory search, ``fts_config``, and JSONB text that may hold NUL."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.postgres import PostgresDialect, from_jsonb_text, to_jsonb_text, tsquery_text
from sqlspec_adk.migrations import VERSIONS, v0001_initial, v0004_lexical_ranking
from sqlspec_adk.modes import call
from sqlspec_adk.settings import ADKConfig
from tests.conftest import Backend
from tests.helpers import event

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
    if entries:
        await call(store.add_memory, app_name="a", user_id="u", memories=entries)
    found = await call(store.search_memory, app_name="a", user_id="u", query=query)
    return [record["event_id"] for record in found]


async def test_english_finds_by_stems_but_matches_and_ranks_whole_tokens(pg: Backend) -> None:
    store = await pg.memory_store(memory_use_fts=True)
    entries = [
        entry("one", "the runner runs"),
        entry("two", "running runs and runs again runner"),
        entry("three", "runners"),
    ]
    # BM25 over whole tokens: "runs" twice beats once; "running" (the same stem) counts for nothing.
    assert await add_and_search(store, entries, "runs") == ["two", "one"]
    # Once each: the shorter entry first; never "runners", though it stems to "runner" too.
    assert await add_and_search(store, [], "runner") == ["one", "two"]


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
    # PostgreSQL (btree_gin on this server): version 4's (app, user, tsvector) index replaced version 1's.
    # The CockroachDB variant, run on PostgreSQL here, keeps version 1's (and fastupdate on).
    cockroach = isinstance(dialect, CockroachDialect)
    user_index = v0004_lexical_ranking in VERSIONS and not cockroach
    name = f"{dialect.adk.memory_table}_fts_english_" + ("user_idx" if user_index else "idx")
    admin.execute(f"VACUUM ANALYZE {dialect.memory_table}")  # merges a GIN pending list
    stmt = dialect.memory.fts_search_stmt("a", "u", ["needle"], 5)
    with admin.transaction():
        admin.execute("SET LOCAL enable_seqscan = off")
        rows = admin.execute(f"EXPLAIN {stmt.sql.replace('?', '%s')}", stmt.params).fetchall()
    plan = "\n".join(row[0] for row in rows)
    assert name in plan, plan
    indexes = dict(
        admin.execute(
            "SELECT c.relname, c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(%s) AND c.relname LIKE %s",
            (dialect.memory_table, f"{dialect.adk.memory_table}_fts_%"),
        ).fetchall()
    )
    # One full-text index (two would cost every insert twice), and no GIN pending list on PostgreSQL
    # (a search after a bulk ingest would scan it); CockroachDB has none to turn off.
    assert indexes == {name: None if cockroach else ["fastupdate=off"]}, indexes


async def test_switching_fts_config_keeps_working(pg: Backend) -> None:
    english = await pg.memory_store(memory_use_fts=True)
    assert await add_and_search(english, [entry("x", "colourful gardens")], "gardens") == ["x"]
    simple = await pg.memory_store(memory_use_fts=True, fts_config="simple")
    assert await add_and_search(simple, [entry("y", "more gardens")], "gardens") == ["y", "x"]


def test_each_configuration_has_its_own_column() -> None:
    english = PostgresDialect(ADKConfig())
    simple = PostgresDialect(ADKConfig.from_mapping({"fts_config": "simple"}))
    assert english.memory.fts_column != simple.memory.fts_column
    ddl = v0001_initial.statements(simple, "memory")
    assert any(simple.memory.fts_column in sql and "to_tsvector('simple', search_text)" in sql for sql in ddl)


def test_jsonb_codec_binds_escaped_text_and_reads_it_back() -> None:
    codec = PostgresDialect(ADKConfig()).json
    assert codec.param == "?::text::jsonb" and codec.select("state") == "state::text"
    assert codec.read(codec.text('{"a":"x\\u0000y"}')) == '{"a":"x\\u0000y"}'
    assert "\\u0000" not in codec.state({"a": "x\x00y"})
    assert codec.read_state(codec.state({"a": "x\x00y"})) == {"a": "x\x00y"}


async def test_nul_characters_survive_every_json_column(pg: Backend) -> None:
    """State, event data, memory content and metadata, artifact metadata: JSONB refuses U+0000, the codec carries it."""
    service = await pg.sessions()
    nul = "before\x00after"
    session = await service.create_session(app_name="a", user_id="u", state={"k": nul, "app:k": nul, "user:k": nul})
    await service.append_event(session, event(nul, delta={"k2": nul}))
    loaded = await service.get_session(app_name="a", user_id="u", session_id=session.id)
    assert loaded is not None and loaded.state == {"k": nul, "k2": nul, "app:k": nul, "user:k": nul}
    assert loaded.events[0].content is not None and loaded.events[0].content.parts[0].text == nul
    memory = await pg.memory_store(service.store.config)
    await call(memory.add_memory, app_name="a", user_id="u", memories=[entry("m", nul)], custom_metadata={"m": nul})
    found = await call(memory.search_memory, app_name="a", user_id="u", query="before")
    assert len(found) == 1 and found[0]["custom_metadata"] == {"m": nul}
    assert json.loads(found[0]["content_json"])["parts"][0]["text"] == nul
    artifacts = await pg.artifacts(service.store.config)
    part = types.Part(inline_data=types.Blob(mime_type="text/plain", data=b"x"))
    await artifacts.save_artifact(app_name="a", user_id="u", filename="f", artifact=part, custom_metadata={"m": nul})
    version = await artifacts.get_artifact_version(app_name="a", user_id="u", filename="f")
    assert version is not None and version.custom_metadata == {"m": nul}
