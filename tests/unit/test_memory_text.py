# ruff: noqa: RUF001  (Greek, Cyrillic and full-width letters are the point of these tests)
"""The memory tokenizer, entry conversions, and the SQL any query text turns into."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from google.adk.events.event import Event
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.sqlite import SqliteCore, SqliteDialect
from sqlspec_adk.memory.rows import encode_metadata, entry_write, event_write, parse_timestamp
from sqlspec_adk.migrations import VERSIONS, v0001_initial
from sqlspec_adk.migrations.teardown import drop_statements
from sqlspec_adk.protocol import Fetch, Stmt
from sqlspec_adk.settings import ADKConfig
from sqlspec_adk.tokens import (
    EMPTY_SEARCH_TEXT,
    MAX_QUERY_TOKENS,
    MAX_SEARCH_TEXT_CHARS,
    MAX_TOKEN_CHARS,
    content_text,
    fold,
    is_safe_token,
    query_tokens,
    search_text,
    tokenize,
)
from tests.helpers import drive_sync

SYNTAX = set("\"'%_*^:()[]{}\\!?+-/.,;<>=&|~`@#$ \t\n\x00")


# ------------------------------------------------------------------ folding
@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café", "cafe"),
        ("CAFÉ", "cafe"),
        ("naïve Résumé", "naive resume"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("ΣΩΚΡΆΤΗΣ", "σωκρατησ"),
        ("Σωκράτης", "σωκρατησ"),
        ("Москва", "москва"),
        ("ＦＵＬＬ", "full"),
        ("ﬁne", "fine"),
        ("x²", "x2"),
        ("が", "が"),  # the voicing mark stays part of the kana
        ("ｶﾞ", "ガ"),  # half-width kana fold to full-width
        ("한국어", "한국어"),  # Hangul syllables are recomposed
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


# ------------------------------------------------------------------ tokens
@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("snake_case-name", ["snake", "case", "name"]),
        ("100% sure", ["100", "sure"]),
        ("e-mail me@example.com", ["e", "mail", "me", "example", "com"]),
        ('"quoted" AND NEAR(x, y) OR *', ["quoted", "and", "near", "x", "y", "or"]),
        ("Café au lait", ["cafe", "au", "lait"]),
        ("私は東京に住んでいます", ["私", "は", "東", "京", "に", "住", "ん", "で", "い", "ま", "す"]),
        ("私はPythonを使う", ["私", "は", "python", "を", "使", "う"]),
        ("서울에 살아요", ["서", "울", "에", "살", "아", "요"]),
        ("カタカナ・テスト", ["カ", "タ", "カ", "ナ", "テ", "ス", "ト"]),  # the middle dot is punctuation
        ("Αθήνα 2024", ["αθηνα", "2024"]),
        ("Я живу в Москве", ["я", "живу", "в", "москве"]),
        ("emoji 😀🎉 between", ["emoji", "between"]),
        ("", []),
        ("   \n\t", []),
        ("%_*\"'", []),
        ("a\x00b", ["a", "b"]),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_devanagari_words_stay_whole() -> None:
    # Spacing vowel signs are marks, not separators: the word stays one token.
    assert tokenize("किताब पढ़ो") == ["किताब", "पढो"]


def test_long_tokens_are_cut_the_same_way_everywhere() -> None:
    long_ascii = "a" * 500
    long_accented = "é" * 500
    assert tokenize(long_ascii) == ["a" * MAX_TOKEN_CHARS]
    assert tokenize(long_accented) == ["e" * MAX_TOKEN_CHARS]
    assert query_tokens(long_accented) == tokenize(long_accented)


def test_query_tokens_are_distinct_ordered_and_capped() -> None:
    assert query_tokens("the cat and THE Cat") == ["the", "cat", "and"]
    many = " ".join(f"w{i}" for i in range(10_000))
    capped = query_tokens(many)
    assert capped == [f"w{i}" for i in range(MAX_QUERY_TOKENS)]
    assert query_tokens("") == []
    assert query_tokens("😀 %% __ **") == []
    with pytest.raises(TypeError, match="string"):
        query_tokens(None)  # type: ignore[arg-type]


def test_search_text_is_padded_tokens() -> None:
    assert search_text("Hello, Café!") == " hello cafe "
    assert search_text("!!!") == EMPTY_SEARCH_TEXT == " "
    assert search_text("a a b") == " a a b "  # repeats count for relevance


def test_search_text_of_a_huge_text_keeps_every_distinct_word_it_can() -> None:
    text = "common " * 20_000 + " ".join(f"rare{i}" for i in range(100))
    indexed = search_text(text)
    assert len(indexed) <= MAX_SEARCH_TEXT_CHARS
    assert indexed.startswith(" common rare0 ") and indexed.endswith(" rare99 ")


def test_is_safe_token() -> None:
    assert is_safe_token("cafe") and is_safe_token("東") and is_safe_token("2024")
    for bad in ("", " ", "a b", '"', "a%", "_", "a*", "x" * (MAX_TOKEN_CHARS + 1), "😀"):
        assert not is_safe_token(bad), bad


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_every_query_token_is_safe(text: str) -> None:
    tokens = query_tokens(text)
    assert len(tokens) == len(set(tokens)) <= MAX_QUERY_TOKENS
    for token in tokens:
        assert is_safe_token(token)
        assert not SYNTAX & set(token)
        assert fold(token) == token  # folding is idempotent, so index and query agree


def test_content_text_skips_thoughts_and_non_text_parts() -> None:
    value = types.Content(
        parts=[
            types.Part(text="visible"),
            types.Part(text="hidden plan", thought=True),
            types.Part(function_call=types.FunctionCall(name="f", args={})),
            types.Part(text="also visible"),
        ]
    )
    assert content_text(value) == "visible\nalso visible"
    assert content_text(None) == ""
    assert content_text(types.Content(parts=[])) == ""


# --------------------------------------------------------- entry conversions
def test_event_write() -> None:
    source = Event(
        author="model", timestamp=12.5, content=types.Content(role="model", parts=[types.Part(text="Hello Café")])
    )
    write = event_write(source, "app", "u", "s", '{"k":1}', owner_id=3)
    assert write is not None
    assert (write.event_id, write.session_id, write.author, write.timestamp) == (source.id, "s", "model", 12.5)
    assert write.search_text == " hello cafe "
    assert write.custom_metadata_json == '{"k":1}' and write.owner_id == 3
    assert types.Content.model_validate_json(write.content_json) == source.content
    assert event_write(Event(author="u"), "app", "u", None, None) is None
    assert (
        event_write(Event(author="u", content=types.Content(parts=[types.Part(text="🎉")])), "a", "u", None, None)
        is None
    )


def test_id_less_event_gets_a_stable_id() -> None:
    source = Event(author="u", timestamp=1.0, content=types.Content(parts=[types.Part(text="same words")]))
    source.id = ""
    first = event_write(source, "a", "u", None, None)
    second = event_write(source.model_copy(), "a", "u", None, None)
    assert first is not None and second is not None and first.event_id and first.event_id == second.event_id


def test_entry_write() -> None:
    entry = MemoryEntry(content=types.Content(parts=[types.Part(text="Fact")]), custom_metadata={"a": 1, "b": 2})
    write = entry_write(entry, "app", "u", {"b": 0, "c": 3}, None, now=99.0)
    assert write.event_id and write.timestamp == 99.0 and write.session_id is None
    assert write.custom_metadata_json == '{"b":2,"c":3,"a":1}'
    assert entry_write(entry.model_copy(update={"id": "mine"}), "app", "u", None, None, 1.0).event_id == "mine"
    assert entry_write(entry, "app", "u", None, None, 1.0).event_id != write.event_id  # a new id each time


def test_parse_timestamp() -> None:
    assert parse_timestamp(None, 5.0) == 5.0
    assert parse_timestamp("  ", 5.0) == 5.0
    assert parse_timestamp("1700000000.25", 0.0) == 1700000000.25
    assert parse_timestamp("2024-05-01T10:00:00Z", 0.0) == 1714557600.0
    assert parse_timestamp("2024-05-01T12:00:00+02:00", 0.0) == 1714557600.0
    naive = "2024-05-01T10:00:00"  # as ADK's own memory services write it: local time
    assert parse_timestamp(naive, 0.0) == datetime.fromisoformat(naive).timestamp()
    for bad in ("yesterday", "nan", "inf"):
        with pytest.raises(ValueError, match="timestamp"):
            parse_timestamp(bad, 0.0)


def test_encode_metadata() -> None:
    assert encode_metadata(None) is None and encode_metadata({}) is None
    assert encode_metadata({"ü": [1, 2.5, None, True]}) == '{"ü":[1,2.5,null,true]}'
    for bad in ({"x": object()}, {"x": float("nan")}, {"x": b"bytes"}):
        with pytest.raises(TypeError, match="custom_metadata"):
            encode_metadata(bad)


# ------------------------------------------------------------------- the SQL
class _PlainMemory(SqliteCore, MemorySQL):
    """The portable memory SQL as is (no full-text search), run here on SQLite."""


class _PlainDialect(SqliteCore, Dialect):
    family = "sqlite"
    memory_class = _PlainMemory


def _connection(dialect: Dialect) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    # The portable table (a text row id), not SQLite's own (an integer rowid for FTS5).
    renderer = v0001_initial._Portable if isinstance(dialect, _PlainDialect) else v0001_initial._Sqlite
    for sql in renderer(dialect).memory():
        connection.execute(sql)
    # The later versions' memory columns, tables and indexes (the vector, the revision stamp and its table,
    # the full-text index's scope key).
    for version in VERSIONS[1:]:
        for sql in version.statements(dialect, "memory"):
            connection.execute(sql)
    return connection


def _execute(connection: sqlite3.Connection, stmt: Stmt) -> Any:
    cursor = connection.executemany(stmt.sql, stmt.params) if stmt.many else connection.execute(stmt.sql, stmt.params)
    if stmt.fetch is Fetch.ALL:
        return cursor.fetchall()
    if stmt.fetch is Fetch.ROWCOUNT:
        return cursor.rowcount
    return cursor.fetchone() if stmt.fetch is Fetch.ONE else None


@pytest.fixture(params=["fts5", "fallback", "base"])
def searcher(request: pytest.FixtureRequest) -> Iterator[tuple[Dialect, sqlite3.Connection]]:
    if request.param == "base":
        dialect: Dialect = _PlainDialect(ADKConfig())
    else:
        dialect = SqliteDialect(ADKConfig(memory_use_fts=request.param == "fts5"))
    connection = _connection(dialect)
    texts = ["pancake syrup", "100% sure", "snake_case name", 'a "quote" and a star *', "東京タワー", "Café"]
    writes = [
        event_write(
            Event(author="u", timestamp=float(i), content=types.Content(parts=[types.Part(text=text)])),
            "a",
            "u",
            None,
            None,
        )
        for i, text in enumerate(texts)
    ]
    drive_sync(
        dialect.memory.add_memory_entries([w for w in writes if w], replace=False), lambda s: _execute(connection, s)
    )
    yield dialect, connection
    connection.close()


def _search(dialect: Dialect, connection: sqlite3.Connection, query: str) -> list[str]:
    op = dialect.memory.search_memory(app_name="a", user_id="u", tokens=query_tokens(query), limit=20)
    return [record["event_id"] for record in drive_sync(op, lambda s: _execute(connection, s))]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=200))
def test_any_text_runs_as_a_search(searcher: tuple[Dialect, sqlite3.Connection], query: str) -> None:
    dialect, connection = searcher
    _search(dialect, connection, query)  # never a syntax error, whatever the text


def test_no_character_is_a_wildcard(searcher: tuple[Dialect, sqlite3.Connection]) -> None:
    dialect, connection = searcher
    for query in ("%", "_", "*", "%_%", "pan*", "pan%", "snak_", "caf", "^pan", "NEAR("):
        assert _search(dialect, connection, query) == [], query
    assert len(_search(dialect, connection, "pancake quote 東 cafe")) == 4


def test_unsafe_tokens_are_refused() -> None:
    dialect = SqliteDialect(ADKConfig())
    op = dialect.memory.search_memory(app_name="a", user_id="u", tokens=['x" OR "y'], limit=5)
    with pytest.raises(ValueError, match="query_tokens"):
        next(op)


def test_like_patterns_escape_wildcards_anyway() -> None:
    dialect = _PlainDialect(ADKConfig())
    assert dialect.memory.token_pattern("cafe") == "% cafe %"
    assert dialect.memory.token_pattern("a%b_c!") == "% a!%b!_c!! %"


def test_sqlite_drops_its_fts_tables_first() -> None:
    sql = [stmt.sql for stmt in drop_statements(SqliteDialect(ADKConfig(memory_table="mem")))]
    assert sql[:2] == ['DROP TABLE IF EXISTS "mem_fts"', 'DROP TABLE IF EXISTS "mem_fts_vocab"']
    without_memory = [stmt.sql for stmt in drop_statements(SqliteDialect(ADKConfig(enable_memory=False)))]
    assert not any("_fts" in text for text in without_memory)
