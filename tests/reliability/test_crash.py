"""Crash atomicity: ``kill -9`` a writer at random points during appends and artifact saves, many times.

Bounded here (about ten kills on each SQL family: SQLite, PostgreSQL, CockroachDB's adapters on
PostgreSQL, MySQL, DuckDB and ADBC DuckDB);
``python -m tests.reliability.long_run`` runs hundreds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.reliability.conftest import FIGURES
from tests.reliability.scenarios import run_crash_loop
from tests.reliability.support import Workers, family_targets

KILLS = int(os.environ.get("SQLSPEC_ADK_CRASH_KILLS", "10"))
#: Seconds a writer may run before its kill, where 0.6 s is too short for it to get much done: the Spanner
#: emulator runs one read-write transaction at a time, so the writer's appends and saves take turns. 1.5 s
#: let a CI run on a loaded machine acknowledge no append in 10 kills (the check below); 14 alone.
MAX_DELAY = {"spanner": 4.0}


async def test_kill_9_leaves_no_half_applied_write(family_backend: Any, tmp_path: Path, workers: Workers) -> None:
    """After every kill, reopened storage holds no half-applied append and no half-saved artifact.

    Checked after each kill, from storage alone: an event row is present iff its session state delta
    and its ``user:``/``app:`` deltas were applied and the revision advanced (revision == event count,
    state == fold of the stored events, scoped ``last`` == the newest stored write); every
    acknowledged append and save is present; every listed artifact version loads, with exactly the
    bytes its writer saved; versions have no gaps. SQLite files pass ``PRAGMA integrity_check``.
    Half the runs pause between statements so kills land mid-transaction; the drivers of the family
    take turns.

    Shown to fail when the protection is removed (tried locally, then restored): run the SQLite
    adapters' operations outside a transaction (replace the ``BEGIN``/``COMMIT`` in
    ``sqlspec_adk.adapters._sqlite.run_transaction``, which both stdlib adapters run, by no-ops, so
    each statement autocommits): within
    three kills one lands between the event insert and the user-state merge ("user state of 'u0':
    w_r0002=3, last stored write of r0002 is 4").
    """
    targets = family_targets(family_backend)
    delay = MAX_DELAY.get(targets[0].family, 0.6)
    report = await run_crash_loop(targets, tmp_path, workers, kills=KILLS, seed="ci", max_delay=delay)
    FIGURES.append(report.line())
    assert report.check.violations == [], report.check.violations[:20]
    assert report.errors == [], report.errors[:5]
    assert report.integrity == []
    assert report.kills == KILLS
    assert report.appends_acked > 0
