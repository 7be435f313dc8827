"""``sqlspec-adk memory reembed``: missing vectors, a new embedder, progress on stderr, and resuming after kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.adk.events.event import Event
from google.genai import types

from sqlspec_adk.adapters.sqlite import SqliteADKMemoryStore, SqliteConfig
from sqlspec_adk.dialects.memory_vectors import parse_identity
from sqlspec_adk.errors import EmbedderMismatchError
from sqlspec_adk.memory.service import SQLSpecMemoryService
from tests.cli.adk_fixtures import cli

ROOT = Path(__file__).resolve().parents[2]


def event(text: str, index: int) -> Event:
    return Event(author="user", timestamp=float(index), content=types.Content(parts=[types.Part(text=text)]))


def lexical_memory(database: Path, count: int) -> None:
    """``count`` entries written without an embedder (no vectors)."""
    store = SqliteADKMemoryStore(SqliteConfig(connection_config={"database": str(database)}))
    store.create_tables()
    events = [
        event(f"note {i} about peanut butter" if i % 7 == 0 else f"note {i} about the weather", i) for i in range(count)
    ]
    store.add_events_to_memory(app_name="app", user_id="u", events=events, session_id="s")
    store.close()


def counts(database: Path) -> tuple[int, int]:
    """(entries with a vector, entries)."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT COUNT(embedding), COUNT(*) FROM adk_memory").fetchone()
    return int(row[0]), int(row[1])


def meta(database: Path, key: str) -> str | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT meta_value FROM adk_internal_metadata WHERE meta_key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


async def test_reembed_fills_missing_vectors_with_a_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "m.db"
    lexical_memory(database, 20)
    assert counts(database) == (0, 20)
    uri = f"sqlspec+sqlite:///{database}"
    assert await cli(["memory", "reembed", uri, "--embedder", "fake", "--batch-size", "6"]) == 0
    captured = capsys.readouterr()
    assert "reembedding memory: 20/20 (100%)" in captured.err  # stderr, not a terminal: quarter lines
    assert "reembedded 20 memory entries: every entry (new embedder)" in captured.out
    assert counts(database) == (20, 20)
    assert parse_identity(meta(database, "memory_embedder:adk_memory")) == ("fake:256", 256)
    assert meta(database, "memory_reembed:adk_memory") is None  # the run's position is gone when done
    # Nothing is missing any more.
    assert await cli(["memory", "reembed", uri + "?memory_embedder=fake", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "reembedded 0 memory entries: entries without a vector" in captured.out and not captured.err
    service = SQLSpecMemoryService(
        SqliteADKMemoryStore(
            SqliteConfig(
                connection_config={"database": str(database)},
                extension_config={"adk": {"memory_embedder": "fake", "memory_search_mode": "semantic"}},
            )
        )
    )
    found = await service.search_memory(app_name="app", user_id="u", query="which foods should I avoid")
    assert found.memories and all("peanut" in m.content.parts[0].text for m in found.memories[:3])


async def test_reembed_with_another_embedder_redoes_every_vector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "m.db"
    lexical_memory(database, 10)
    uri = f"sqlspec+sqlite:///{database}"
    assert await cli(["memory", "reembed", uri, "--embedder", "fake", "--no-progress"]) == 0

    def store(embedder: str) -> SqliteADKMemoryStore:
        return SqliteADKMemoryStore(
            SqliteConfig(
                connection_config={"database": str(database)}, extension_config={"adk": {"memory_embedder": embedder}}
            )
        )

    with pytest.raises(EmbedderMismatchError, match="memory reembed"):
        await asyncio.to_thread(store("fake:64").create_tables)
    assert await cli(["memory", "reembed", uri, "--embedder", "fake:64", "--no-progress"]) == 0
    assert "reembedded 10 memory entries: every entry (new embedder)" in capsys.readouterr().out
    await asyncio.to_thread(store("fake:64").create_tables)
    with pytest.raises(EmbedderMismatchError):
        await asyncio.to_thread(store("fake").create_tables)
    with sqlite3.connect(database) as connection:
        lengths = {row[0] for row in connection.execute("SELECT length(embedding) FROM adk_memory")}
    assert lengths == {64 * 4}


async def test_reembed_needs_an_embedder_and_a_batch_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "m.db"
    lexical_memory(database, 1)
    uri = f"sqlspec+sqlite:///{database}"
    assert await cli(["memory", "reembed", uri]) == 2
    assert "memory reembed needs an embedder" in capsys.readouterr().err
    assert await cli(["memory", "reembed", uri, "--embedder", "fake", "--batch-size", "0"]) == 2
    assert "--batch-size must be a positive integer" in capsys.readouterr().err
    assert await cli(["memory", "reembed", uri, "--embedder", "nope"]) == 2
    assert "is not an embedder" in capsys.readouterr().err


def test_reembed_resumes_after_kill_9(tmp_path: Path) -> None:
    """A run killed mid-way keeps the batches it committed; the next run does only the rest."""
    database, log = tmp_path / "m.db", tmp_path / "embedded.log"
    lexical_memory(database, 60)
    command = [sys.executable, "-m", "sqlspec_adk.cli", "memory", "reembed", f"sqlspec+sqlite:///{database}"]
    command += ["--embedder", "tests.cli.slow_embedder:SlowEmbedder", "--batch-size", "5", "--no-progress"]
    environment = {**os.environ, "SLOW_EMBEDDER_LOG": str(log), "SLOW_EMBEDDER_SECONDS": "0.3"}
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while counts(database)[0] < 15:  # three batches committed
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the first run wrote no vectors in time"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    done, total = counts(database)
    assert 15 <= done < total == 60
    assert meta(database, "memory_reembed:adk_memory") is not None  # its position, committed with its batches
    first = log.read_text(encoding="utf-8").splitlines()
    log.unlink()
    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "resumed" in finished.stdout
    assert counts(database) == (60, 60)
    second = log.read_text(encoding="utf-8").splitlines()
    assert len(second) == total - done  # only what the first run had not committed
    assert len(first) - done <= 5  # at most the batch in flight at the kill was embedded twice
    assert parse_identity(meta(database, "memory_embedder:adk_memory")) == ("slow-fake:32", 32)
    assert meta(database, "memory_reembed:adk_memory") is None
