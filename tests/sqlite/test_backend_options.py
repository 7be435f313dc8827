"""SQLite's per-backend options, live: PRAGMAs on every connection, porter stemming, ``detail='none'``,
and the migration (version 3) that turns them on and off on a database that already holds memory.

What SQLite's porter tokenizer does (checked here against SQLite itself, not assumed): ``running``,
``runs`` and ``run`` all stem to ``run``, so any of them finds the others; ``ran`` is irregular and
stays ``ran``, so it finds only ``ran``. The plain tokenizer finds each word only as itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from google.adk.events.event import Event
from google.genai import types

from sqlspec_adk.adapters.adbc import AdbcConfig
from sqlspec_adk.adapters.aiosqlite import AiosqliteADKMemoryStore, AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKMemoryStore, SqliteConfig
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.tokens import tokenize
from tests.contract.test_memory import HOSTILE
from tests.helpers import raw_op

APP, USER = "app", "u"
RELEASE = "f889721"  # sqlspec-adk 0.1.0
REPO = Path(__file__).resolve().parents[2]
PORTER = {"sqlite_fts_tokenizer": "porter"}


def entry(text: str, timestamp: float, event_id: str) -> Event:
    content = types.Content(role="user", parts=[types.Part(text=text)])
    return Event(id=event_id, author="user", timestamp=timestamp, content=content)


RUN_ENTRIES = [
    entry("I was running late", 1.0, "e-running"),
    entry("she ran home", 2.0, "e-ran"),
    entry("he runs daily", 3.0, "e-runs"),
    entry("a long run today", 4.0, "e-run"),
    entry("pancake syrup", 5.0, "e-pancake"),
]


def memory_service(path: Path, **adk: Any) -> SQLSpecMemoryService:
    config = SqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": adk})
    store = SqliteADKMemoryStore(config)
    store.create_tables()
    return SQLSpecMemoryService(store)


async def found(service: SQLSpecMemoryService, query: str) -> set[str]:
    response = await service.search_memory(app_name=APP, user_id=USER, query=query)
    return {memory.id for memory in response.memories if memory.id is not None}


def fts_sql(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'adk_memory_fts'").fetchone()
    return str(row[0])


def recorded_options(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT meta_value FROM adk_internal_metadata WHERE meta_key = 'schema_options:memory'"
        ).fetchone()
    options: dict[str, Any] = json.loads(row[0])
    return options


def porter_stems(texts: list[str]) -> list[set[str]]:
    """What SQLite's own porter tokenizer makes of each text (the terms of a scratch FTS5 index)."""
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')")
        connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab('t', 'instance')")
        for text in texts:
            connection.execute("INSERT INTO t (x) VALUES (?)", (" ".join(tokenize(text)),))
        stems: list[set[str]] = [set() for _ in texts]
        for term, doc in connection.execute("SELECT term, doc FROM v"):
            stems[int(doc) - 1].add(str(term))
    return stems


# ------------------------------------------------------------------ PRAGMAs
TUNING = {
    "sqlite_cache_size": -32000,
    "sqlite_mmap_size": 1 << 26,
    "sqlite_journal_size_limit": 1 << 22,
    "sqlite_wal_autocheckpoint": 2_500,
}
PRAGMA_READS = {"cache_size": -32000, "mmap_size": 1 << 26, "journal_size_limit": 1 << 22, "wal_autocheckpoint": 2_500}


def read_pragmas(run: Any, *, write: bool) -> dict[str, int]:
    return {name: int(run(raw_op(f"PRAGMA {name}", write=write))[0][0]) for name in PRAGMA_READS}


def test_pragmas_run_on_every_connection_of_sqlite(tmp_path: Path) -> None:
    config = SqliteConfig(connection_config={"database": str(tmp_path / "p.db")}, extension_config={"adk": TUNING})
    try:
        assert read_pragmas(config.run, write=False) == PRAGMA_READS  # a pooled reader
        assert read_pragmas(config.run, write=True) == PRAGMA_READS  # the writer connection
    finally:
        config.close_pool()
    default = SqliteConfig(connection_config={"database": str(tmp_path / "d.db")})
    try:
        assert read_pragmas(default.run, write=False) != PRAGMA_READS  # the option is what changed them
    finally:
        default.close_pool()


async def test_pragmas_run_on_every_connection_of_aiosqlite(tmp_path: Path) -> None:
    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "p.db")}, extension_config={"adk": TUNING})
    try:
        for write in (False, True):
            values = {
                name: int((await config.arun(raw_op(f"PRAGMA {name}", write=write)))[0][0]) for name in PRAGMA_READS
            }
            assert values == PRAGMA_READS
    finally:
        await config.close_pool()


def test_pragmas_run_on_adbc_sqlite(tmp_path: Path) -> None:
    config = AdbcConfig(
        connection_config={"driver_name": "adbc_driver_sqlite", "uri": str(tmp_path / "a.db")},
        extension_config={"adk": TUNING},
    )
    try:
        assert read_pragmas(config.run, write=False) == PRAGMA_READS
    finally:
        config.close_pool()


# ------------------------------------------------------------------ porter stemming
async def test_porter_finds_inflections_the_plain_tokenizer_does_not(tmp_path: Path) -> None:
    assert porter_stems(["running runs run", "ran"]) == [{"run"}, {"ran"}]  # SQLite's porter, as stated above
    plain = memory_service(tmp_path / "plain.db")
    porter = memory_service(tmp_path / "porter.db", **PORTER)
    for service in (plain, porter):
        await service.add_events_to_memory(app_name=APP, user_id=USER, events=RUN_ENTRIES)
    inflected = {"e-running", "e-runs", "e-run"}
    for query, word in (("running", "e-running"), ("runs", "e-runs"), ("run", "e-run")):
        assert await found(plain, query) == {word}
        assert await found(porter, query) == inflected
    # "ran" is irregular: porter does not stem it to "run", so it finds only itself, either way.
    assert await found(plain, "ran") == {"e-ran"}
    assert await found(porter, "ran") == {"e-ran"}
    assert await found(porter, "running pancake") == {*inflected, "e-pancake"}
    assert "porter unicode61 remove_diacritics 2" in fts_sql(tmp_path / "porter.db")
    await plain.close()
    await porter.close()


@pytest.mark.parametrize("adk", [PORTER, {**PORTER, "sqlite_fts_detail": "none"}, {"sqlite_fts_detail": "column"}])
async def test_hostile_queries_stay_safe_with_the_options(tmp_path: Path, adk: dict[str, Any]) -> None:
    """Every hostile query of the contract runs; each hit shares a porter stem (or, without porter, a whole
    token) with the query: no syntax error, no wildcard, no prefix match."""
    service = memory_service(tmp_path / "h.db", **adk)
    texts = ["pancake syrup", "100% sure about snake_case names", "a quote \" and an apostrophe ' and a star *"]
    texts.append("pancakes plural")
    events = [entry(text, 10.0 + number, f"h{number}") for number, text in enumerate(texts)]
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=events)
    stemmed = adk.get("sqlite_fts_tokenizer") == "porter"
    for query in HOSTILE:
        response = await service.search_memory(app_name=APP, user_id=USER, query=query)
        for memory in response.memories:
            text = "".join(part.text or "" for part in (memory.content.parts or []))
            if stemmed:
                query_stems, text_stems = porter_stems([query, text])
                assert query_stems & text_stems, (query[:40], text)
            else:
                assert set(tokenize(query)) & set(tokenize(text)), (query[:40], text)
    # Stemming widens matches to a word's inflections, never to a prefix: "pan" finds nothing.
    assert await found(service, "pan") == set()
    await service.close()


async def test_detail_none_keeps_search_and_ranking_and_shrinks_the_index(tmp_path: Path) -> None:
    sizes = {}
    for detail in ("full", "none"):
        path = tmp_path / f"{detail}.db"
        service = memory_service(path, sqlite_fts_detail=detail)
        events = [
            entry(f"note {number} about kiwis and {'mangoes ' * (number % 7)}", number, f"n{number}")
            for number in range(300)
        ]
        events.append(entry("the one about papayas", 999.0, "papaya"))
        await service.add_events_to_memory(app_name=APP, user_id=USER, events=events)
        assert await found(service, "papayas") == {"papaya"}
        ranked = await service.search_memory(app_name=APP, user_id=USER, query="papayas kiwis")
        assert ranked.memories[0].id == "papaya"  # the rare word still ranks first (bm25 without positions)
        await service.close()
        with sqlite3.connect(path) as connection:
            sizes[detail] = connection.execute("SELECT SUM(LENGTH(block)) FROM adk_memory_fts_data").fetchone()[0]
    assert sizes["none"] < sizes["full"]


# ------------------------------------------------------------------ the migration
async def test_turning_porter_on_and_off_rebuilds_the_index_from_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    service = memory_service(path)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=RUN_ENTRIES)
    assert await found(service, "runs") == {"e-runs"}
    assert "sqlite_fts_tokenizer" not in recorded_options(path)  # defaults record nothing new
    await service.close()

    service = memory_service(path, **PORTER)  # create_tables upgrades: version 3 rebuilds the index
    assert "porter" in fts_sql(path) and recorded_options(path)["sqlite_fts_tokenizer"] == "porter"
    assert await found(service, "runs") == {"e-running", "e-runs", "e-run"}  # rows written before
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=[entry("she is jogging", 9.0, "e-jog")])
    assert await found(service, "jogged") == {"e-jog"}  # the triggers index new rows with the new tokenizer
    await service.delete_memory(app_name=APP, user_id=USER, memory_id="e-runs")
    assert await found(service, "running") == {"e-running", "e-run"}  # and deletes leave the index
    await service.close()

    service = memory_service(path)  # back to the default tokenizer
    assert "porter" not in fts_sql(path) and "sqlite_fts_tokenizer" not in recorded_options(path)
    assert await found(service, "running") == {"e-running"}
    assert await found(service, "jogging") == {"e-jog"}
    await service.close()


async def test_a_store_on_other_options_warns_and_runs_on_the_schema_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Opening a store never changes the schema's options; it says which differ and how to apply them."""
    path = tmp_path / "w.db"
    service = memory_service(path, **PORTER)
    await service.add_events_to_memory(app_name=APP, user_id=USER, events=RUN_ENTRIES)
    await service.close()
    for create_tables in (False, True):
        caplog.clear()
        config = SqliteConfig(
            connection_config={"database": str(path)}, extension_config={"adk": {"create_tables": create_tables}}
        )
        plain = SQLSpecMemoryService(SqliteADKMemoryStore(config))
        with caplog.at_level("WARNING", logger="sqlspec_adk.migrations.guard"):
            # It runs (no error) on the porter index, with the plain tokenizer's search: whole words looked
            # up among stems, so most queries find nothing. Hence the warning.
            await found(plain, "runs")
        await plain.close()
        [record] = [r for r in caplog.records if r.name == "sqlspec_adk.migrations.guard"]
        assert "sqlite_fts_tokenizer" in record.getMessage() and "sqlspec-adk migrate upgrade" in record.getMessage()
        assert "porter" in fts_sql(path) and recorded_options(path)["sqlite_fts_tokenizer"] == "porter"
    caplog.clear()
    same = SqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": PORTER})
    again = SQLSpecMemoryService(SqliteADKMemoryStore(same))
    with caplog.at_level("WARNING", logger="sqlspec_adk.migrations.guard"):
        assert await found(again, "runs") == {"e-running", "e-runs", "e-run"}
    await again.close()
    assert [r for r in caplog.records if r.name == "sqlspec_adk.migrations.guard"] == []


RELEASE_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from google.adk.events.event import Event
    from google.adk.sessions.session import Session
    from google.genai import types
    from sqlspec_adk.adapters.aiosqlite import AiosqliteADKMemoryStore, AiosqliteConfig
    from sqlspec_adk.memory.service import SQLSpecMemoryService

    async def main():
        config = AiosqliteConfig(connection_config={"database": sys.argv[1]})
        store = AiosqliteADKMemoryStore(config)
        await store.create_tables()
        texts = {"r1": "I was running late", "r2": "he runs daily", "r3": "she ran home"}
        def made(n, key, text):
            content = types.Content(role="user", parts=[types.Part(text=text)])
            return Event(id=key, author="user", timestamp=float(n), content=content)

        events = [made(n, key, text) for n, (key, text) in enumerate(texts.items())]
        session = Session(app_name="app", user_id="u", id="s", events=events)
        await SQLSpecMemoryService(store).add_session_to_memory(session)
        await config.close_pool()

    asyncio.run(main())
    """
)


def release_tree(into: Path) -> Path:
    """The released package (``git archive`` of its commit), for a PYTHONPATH; skipped (failing under CI)
    without the repository's history."""
    present = subprocess.run(["git", "cat-file", "-e", f"{RELEASE}^{{commit}}"], cwd=REPO, capture_output=True)
    if present.returncode:
        message = f"commit {RELEASE} (sqlspec-adk 0.1.0) is not in this clone"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", RELEASE, "sqlspec_adk"], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


async def test_porter_on_a_database_made_by_0_1_0(tmp_path: Path) -> None:
    path = tmp_path / "released.db"
    environment = {**os.environ, "PYTHONPATH": str(release_tree(tmp_path / "release"))}
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", RELEASE_WRITER, str(path)], check=True, env=environment, cwd=tmp_path
    )
    config = AiosqliteConfig(connection_config={"database": str(path)}, extension_config={"adk": PORTER})
    store = AiosqliteADKMemoryStore(config)
    await store.create_tables()
    service = SQLSpecMemoryService(store)
    assert await found(service, "run") == {"r1", "r2"}  # rows 0.1.0 wrote, found through their stems
    assert await found(service, "ran") == {"r3"}
    await service.close()
