"""The ``spanner`` family of a run: this library's Spanner adapter on a private Cloud Spanner emulator.

The run starts the emulator (``tests/spanner_emulator.py``: a free port, a
watchdog that stops it if the run dies) only when the family is selected, gives
each contender its own database (made on first use, keyed by the contender's
directory) and stops it at the end, which discards every database (the
emulator keeps them in memory only). Its figures are labelled as emulator
figures: they say nothing about Cloud Spanner's production performance.
"""

from __future__ import annotations

import dataclasses
import subprocess
from typing import Any

from benchmarks.contenders.base import Endpoint
from benchmarks.sizes import Sizes

__all__ = ["NOTE", "connection", "sizes", "start", "stop", "version"]

#: What every report with Spanner rows says about them.
NOTE = (
    "spanner: every figure is from the Cloud Spanner emulator (in memory, on this machine, one read-write "
    "transaction at a time database-wide, aborting the others): it shows what this library costs on the "
    "emulator and nothing about Cloud Spanner's production latency, throughput or scaling"
)


def sizes(full: Sizes, *, quick: bool = False) -> Sizes:
    """The run's sizes, capped for the emulator: its statements scan (a foreign-key check reads every
    referencing row), so an append to a session of 1,000 events takes about 0.3 s and a full run's 10,000
    would take hours without telling anything about Spanner. A quick run stops at 100 events."""
    deepest = 100 if quick else 1_000
    return dataclasses.replace(
        full,
        rounds=min(full.rounds, 3),
        appends=min(full.appends, 20),
        histories=tuple(length for length in full.histories if length <= deepest) or (10,),
        gets=min(full.gets, 20),
        sessions=min(full.sessions, 200 if quick else 1_000),
        creates=min(full.creates, 20),
        count_ops=min(full.count_ops, 3),
    )


def start() -> str | None:
    """Start the emulator (once); None when it runs, else why the family is skipped."""
    from tests import spanner_emulator

    return spanner_emulator.problem()


def version() -> str:
    """The emulator's package version, as the machine description states the servers'."""
    from tests import spanner_emulator

    found = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", spanner_emulator.PACKAGE], capture_output=True, text=True, check=False
    )
    return f"Cloud Spanner emulator {found.stdout.strip() or '(version unknown)'}"


def connection(endpoint: Endpoint) -> dict[str, Any]:
    """The connect keywords of the contender's own database on the emulator."""
    from tests import spanner_emulator

    return spanner_emulator.connection(endpoint.path)


def stop() -> None:
    from tests import spanner_emulator

    spanner_emulator.stop()
