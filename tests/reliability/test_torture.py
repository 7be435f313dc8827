"""Concurrency torture across processes, checked from storage alone.

Bounded here (a few seconds per SQL family); ``python -m tests.reliability.long_run``
runs the same scenario for minutes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.errors import ConfigError
from tests.reliability.conftest import FIGURES
from tests.reliability.scenarios import run_torture
from tests.reliability.support import Workers, family_targets

SECONDS = float(os.environ.get("SQLSPEC_ADK_TORTURE_SECONDS", "2.5"))


@pytest.mark.parametrize("shared", [False, True], ids=["own-configs", "group-commit"])
async def test_torture_across_processes(family_backend: Any, tmp_path: Path, workers: Workers, shared: bool) -> None:
    """Writers in several processes (every driver of the family, mixed) append to shared sessions.

    Each append carries session, ``user:`` and ``app:`` deltas; stale appends are retried after a
    reload. Afterwards, from storage alone: no acknowledged event lost, none duplicated or invented,
    revision == event count, session state == fold of its events' deltas, every writer-owned
    ``user:``/``app:`` key holds that writer's last stored write and the shared ``last`` key the final
    write of some writer, and list_sessions counts match.

    ``group-commit``: each process's writers on one target share one config with group commit on, so
    appends from different writers (stale ones among them) run in shared batches.

    Shown to fail when the protection is removed (each tried locally, then restored):
    - SQLite: ``BEGIN_WRITE = "BEGIN"`` instead of ``"BEGIN IMMEDIATE"`` (``dialects/sqlite.py``): the
      write lock is taken after the stale check's read, and writers fail with 'database is locked'
      (2,679 errors in 3 s).
    - MySQL: drop ``FOR UPDATE`` from the scoped-state select (``MysqlSessionSQL.scoped_state_statements``):
      concurrent read-merge-writes of app state lose updates ('app state: w_p0t2=54, last stored
      write of p0t2 is 55').
    - PostgreSQL: ``state = EXCLUDED.state`` instead of ``t.state || EXCLUDED.state`` in the scoped
      upsert (``PostgresDialect._upsert_cte``): other writers' ``user:`` keys vanish.
    """
    targets = family_targets(family_backend)
    if shared:
        try:
            targets[0].config(group_commit=True)
        except ConfigError as error:
            pytest.skip(f"{targets[0].adapter}: {error}")
    report = await run_torture(
        targets, tmp_path, workers, seconds=SECONDS, processes=2, tasks=8 if shared else 4, seed="ci", shared=shared
    )
    FIGURES.append(report.line())
    assert report.errors == [], report.errors[:5]
    assert report.check.violations == [], report.check.violations[:20]
    assert report.appends > 0
    assert report.check.figures["events"] >= report.appends
