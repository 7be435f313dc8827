"""Memory ranking across schema versions: a database made by the released 0.1.0 ranks, once upgraded, exactly as a
new one holding the same entries; and without the ``btree_gin`` extension the version-1 index stays and ranks the same.

The 0.1.0 database is made by 0.1.0 itself (commit f889721, from ``/tmp/old`` or ``git archive``), in a
subprocess, through its own store: its DDL, its rows, its tombstones.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks.memory_corpus import build_corpus
from sqlspec_adk.migrations import VERSIONS, v0004_lexical_ranking
from sqlspec_adk.modes import call
from tests.backends import ADAPTERS, IN_CI, PG_DSN
from tests.conftest import Backend, live_backend

RELEASE = "f889721"
APP, USER = "a", "u"
ROOT = Path(__file__).resolve().parents[2]

_OLD_WRITER = """
import asyncio, json, sys
from google.adk.events.event import Event
from sqlspec_adk.adapters.asyncpg import AsyncpgADKMemoryStore, AsyncpgConfig
from sqlspec_adk.memory.service import SQLSpecMemoryService

import sqlspec_adk.memory.text  # 0.1.0's own module (a later tree has none): the released code runs

job = json.loads(open(sys.argv[1]).read())

async def main():
    config = AsyncpgConfig(connection_config={"dsn": job["dsn"]}, extension_config={"adk": job["tables"]})
    store = AsyncpgADKMemoryStore(config)
    await store.create_tables()
    service = SQLSpecMemoryService(store)
    events = [Event.model_validate_json(text) for text in job["events"]]
    for start in range(0, len(events), 200):
        await service.add_events_to_memory(app_name=job["app"], user_id=job["user"], events=events[start:start + 200])
    for memory_id in job["deleted"]:
        await service.delete_memory(app_name=job["app"], user_id=job["user"], memory_id=memory_id)
    await config.close_pool()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A source tree of the released 0.1.0."""
    checkout = Path("/tmp/old")
    if (checkout / "sqlspec_adk" / "__init__.py").exists():
        return checkout
    target = tmp_path_factory.mktemp("release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", RELEASE], capture_output=True, check=False)
    if archive.returncode != 0:
        message = f"no source of sqlspec-adk 0.1.0 ({RELEASE}): {archive.stderr.decode(errors='replace').strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


@pytest.fixture
async def asyncpg_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    spec = next(spec for spec in ADAPTERS if spec.name == "asyncpg")
    async for handle in live_backend(spec, tmp_path):
        yield handle


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        yield connection


def corpus_events() -> tuple[list[Any], list[str], list[str]]:
    """1,000 W5 entries (Zipf chatter and the question sets' facts), the questions, and ids to delete."""
    corpus = build_corpus(1000)
    events = [event for batch in corpus.batches for event in batch]
    deleted = [event.id for event in events[1::7]]  # tombstones: their words must stop counting
    return events, [question.question for question in corpus.questions], deleted


def index_names(admin: psycopg.Connection[Any], table: str, memory_table: str) -> set[str]:
    rows = admin.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) AND c.relname LIKE %s",
        (table, f"{memory_table}_fts_%"),
    ).fetchall()
    return {row[0] for row in rows}


async def ranking(store: Any, questions: list[str]) -> list[list[str]]:
    found = []
    for question in questions:
        records = await call(store.search_memory, app_name=APP, user_id=USER, query=question)
        found.append([record["event_id"] for record in records])
    return found


async def test_a_database_made_by_0_1_0_ranks_as_a_new_one_once_upgraded(
    release: Path, asyncpg_backend: Backend, tmp_path: Path, admin: psycopg.Connection[Any]
) -> None:
    events, questions, deleted = corpus_events()
    job = tmp_path / "job.json"
    old = asyncpg_backend.tables
    job.write_text(
        json.dumps(
            {
                "dsn": PG_DSN,
                "tables": old,
                "app": APP,
                "user": USER,
                "events": [event.model_dump_json() for event in events],
                "deleted": deleted,
            }
        )
    )
    # Run from the release tree: ``python -c`` puts the working directory first on sys.path.
    env = {**os.environ, "PYTHONPATH": str(release)}
    command = [sys.executable, "-c", _OLD_WRITER, str(job)]
    made = await asyncio.to_thread(subprocess.run, command, env=env, cwd=release, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    version = admin.execute(f"SELECT meta_value FROM {old['metadata_table']} WHERE meta_key = 'schema_version'")
    assert version.fetchone() == ("1",)  # what 0.1.0 records

    upgraded = await asyncpg_backend.memory_store()  # create_tables: versions 2.. on 0.1.0's tables and rows
    table = upgraded.dialect.memory_table
    made = v0004_lexical_ranking.user_fts_index(upgraded.dialect) if v0004_lexical_ranking in VERSIONS else None
    assert index_names(admin, table, old["memory_table"]) == {made or f"{old['memory_table']}_fts_english_idx"}

    async for fresh_backend in live_backend(asyncpg_backend.spec, tmp_path):
        fresh = await fresh_backend.memory_store()
        for start in range(0, len(events), 200):
            await call(fresh.add_events_to_memory, app_name=APP, user_id=USER, events=events[start : start + 200])
        for memory_id in deleted:
            await call(fresh.delete_memory, app_name=APP, user_id=USER, memory_id=memory_id)
        expected = await ranking(fresh, questions)
        assert sum(map(len, expected)) > len(questions)  # the questions find entries
        assert await ranking(upgraded, questions) == expected


async def test_without_btree_gin_the_version_1_index_stays_and_ranks_the_same(
    scratch_postgres: Any, tmp_path: Path
) -> None:
    """A role that may not install extensions (no CREATE on the database, as PostgreSQL 15 leaves every role but
    the owner) upgrades all the same."""
    with psycopg.connect(scratch_postgres.dsn, autocommit=True) as owner:
        owner.execute("DROP EXTENSION IF EXISTS btree_gin CASCADE")  # made by earlier tests' upgrades as postgres
        if not owner.execute("SELECT 1 FROM pg_roles WHERE rolname = 'plain_user'").fetchone():
            owner.execute("CREATE ROLE plain_user LOGIN")
        owner.execute("GRANT CREATE ON SCHEMA public TO plain_user")  # tables, but no CREATE on the database
    dsn = scratch_postgres.dsn.replace("postgresql://postgres@", "postgresql://plain_user@")
    spec = next(spec for spec in ADAPTERS if spec.name == "asyncpg")
    events, questions, deleted = corpus_events()
    rankings = []
    async for backend in live_backend(spec, tmp_path):
        for connection in ({"dsn": dsn}, None):
            config = backend.config(connection_config=connection)
            store = await backend.memory_store(config)
            for start in range(0, len(events), 200):
                await call(store.add_events_to_memory, app_name=APP, user_id=USER, events=events[start : start + 200])
            for memory_id in deleted:
                await call(store.delete_memory, app_name=APP, user_id=USER, memory_id=memory_id)
            rankings.append(await ranking(store, questions))
            if connection:
                with psycopg.connect(scratch_postgres.dsn, autocommit=True) as owner:
                    present = index_names(owner, store.dialect.memory_table, backend.tables["memory_table"])
                    assert not owner.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gin'").fetchone()
                assert present == {f"{backend.tables['memory_table']}_fts_english_idx"}
    assert rankings[0] == rankings[1]  # the scratch cluster's version-1 index, the shared server's user index
