"""How big each workload is: the full run and the CI ``--quick`` run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "QUICK", "Sizes"]


@dataclass(frozen=True, slots=True)
class Sizes:
    """Workload sizes. Every timed figure is a median over ``rounds`` interleaved rounds."""

    rounds: int
    #: W1: appends per round on one session (sequential), and per session with 32 concurrent sessions.
    appends: int
    concurrent_sessions: int
    concurrent_appends: int
    #: W1 at depth and W2: history lengths (events already stored in the session).
    histories: tuple[int, ...]
    #: W2: get_session calls per round and history length.
    gets: int
    recent_events: int
    #: W3: sessions of the one user, list calls per round, page size of the first page.
    sessions: int
    lists: int
    page_size: int
    #: W4: create_session calls per round.
    creates: int
    #: W5: memory entries, and how many times each question is asked per round.
    memory_entries: int
    memory_repeats: int
    #: W6: artifact sizes in bytes and save+load pairs per round.
    artifact_sizes: tuple[int, ...]
    artifact_ops: int
    #: Operations per statement-count pass (after two warm-up operations).
    count_ops: int = 5


FULL = Sizes(
    rounds=10,
    appends=100,
    concurrent_sessions=32,
    concurrent_appends=10,
    histories=(10, 1_000, 10_000),
    gets=50,
    recent_events=20,
    sessions=10_000,
    lists=2,
    page_size=100,
    creates=50,
    memory_entries=20_000,
    memory_repeats=1,
    artifact_sizes=(1024, 10 * 1024 * 1024),
    artifact_ops=5,
)

QUICK = Sizes(
    rounds=2,
    appends=20,
    concurrent_sessions=8,
    concurrent_appends=5,
    histories=(10, 100, 1_000),
    gets=10,
    recent_events=20,
    sessions=500,
    lists=2,
    page_size=100,
    creates=10,
    memory_entries=1_000,
    memory_repeats=1,
    artifact_sizes=(1024, 1024 * 1024),
    artifact_ops=3,
    count_ops=3,
)
