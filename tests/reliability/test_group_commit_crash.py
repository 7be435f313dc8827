"""``kill -9`` while a group-commit batch of 32 appends is committing: each batch whole or absent, no ack lost.

The child (``tests/reliability/batch_worker.py``) runs 40 writers on one config
with group commit on, journals each batch's appends when its transaction
starts and every acknowledgement as it happens, and announces on stdout when a
batch of at least 32 appends reaches its ``COMMIT``; the parent kills it 0-3 ms
later, so the kill lands before, during or just after that commit. Checked from
storage after each kill: every batch the journal names is stored whole or not
at all, every acknowledged append is stored, and SQLite files pass
``PRAGMA integrity_check``.

Shown to fail when the protection is removed (tried locally, then restored):
committing each member of a batch on its own (a ``COMMIT`` + ``BEGIN`` after
every member in ``engine/batch.py``) leaves a half-stored batch at every kill
(sqlite and aiosqlite, 4 of 4 runs: "batch 3 is half stored (2 of 46)").
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import raw
from tests.reliability.conftest import FIGURES
from tests.reliability.support import REPO, Stack, Target, Workers

KILLS = 4


async def _stored_ids(target: Target) -> set[str]:
    """The stored event ids; a SQLite file is checked first, by its own library (two copies of SQLite in
    one process must not open one file)."""
    stack = Stack(target)
    try:
        if target.family == "sqlite":
            assert await raw(stack.config, "PRAGMA integrity_check") == [("ok",)]
        rows = await raw(stack.config, f"SELECT id FROM {stack.config.dialect.sessions.events_table}")
    finally:
        await stack.close()
    return {row[0] for row in rows}


def _kill_during_a_commit(target: Target, run: int, workdir: Path, workers: Workers, pause: float) -> tuple[int, int]:
    """Start a child, wait for a batch of 32 or more to reach COMMIT, kill it ``pause`` s later: (batch, size)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.batch_worker",
            "--target",
            target.to_json(),
            "--run",
            str(run),
            "--journal",
            str(workdir / f"run{run}.jsonl"),
            "--app",
            "batch-crash",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=(workdir / f"run{run}.stderr").open("w"),
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    workers.procs.append(proc)
    workers.wait_line(proc, "READY", 90)
    _, number, size = workers.wait_line(proc, "COMMITTING", 90).split()
    time.sleep(pause)
    workers.kill(proc)
    return int(number), int(size)


def _journal(path: Path) -> tuple[dict[int, list[str]], set[str]]:
    batches: dict[int, list[str]] = {}
    acked: set[str] = set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["k"] == "batch":
            batches[record["n"]] = record["ids"]
        elif record["k"] == "ack":
            acked.add(record["eid"])
    return batches, acked


@pytest.mark.families("sqlite", "duckdb", "adbc_duckdb")
async def test_kill_9_while_a_batch_commits_keeps_every_batch_whole(
    member_backend: Any, tmp_path: Path, workers: Workers
) -> None:
    target = Target.of_backend(member_backend)
    setup = Stack(target)
    await setup.create_tables()
    await setup.close()
    rng = random.Random(f"batch-crash-{target.adapter}")
    landed = {"whole": 0, "absent": 0}
    sizes: list[int] = []
    violations: list[str] = []
    for run in range(KILLS):
        number, size = _kill_during_a_commit(target, run, tmp_path, workers, rng.uniform(0, 0.003))
        batches, acked = _journal(tmp_path / f"run{run}.jsonl")
        stored = await _stored_ids(target)
        for lost in sorted(acked - stored):
            violations.append(f"run {run}: acknowledged append {lost} is not stored")
        for batch, ids in batches.items():
            present = [eid for eid in ids if eid in stored]
            if present and len(present) != len(ids):
                violations.append(f"run {run}: batch {batch} is half stored ({len(present)} of {len(ids)})")
        announced = batches[number]
        landed["whole" if all(eid in stored for eid in announced) else "absent"] += 1
        sizes.append(size)
    FIGURES.append(
        f"group-commit crash {target.adapter}: {KILLS} kills during a COMMIT of {min(sizes)}-{max(sizes)} appends, "
        f"announced batch stored whole {landed['whole']}x, absent {landed['absent']}x, {len(violations)} violations"
    )
    assert violations == [], violations[:10]
    assert min(sizes) >= 32
