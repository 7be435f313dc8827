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
    #: W1c: sessions appended to at once, appends per session per round, rounds.
    concurrency_levels: tuple[int, ...] = (1, 8, 32, 128)
    concurrency_appends: int = 40
    concurrency_rounds: int = 4
    #: W1c: seconds after which a round's tasks start no new append.
    concurrency_budget_s: float = 10.0
    #: W7 (scale): memory entries and users, events and sessions holding them, sessions of the app; the
    #: baseline at today's sizes keeps the same entries per user and events per session.
    scale_memory: int = 1_000_000
    scale_memory_users: int = 1_000
    scale_events: int = 1_000_000
    scale_event_sessions: int = 10_000
    scale_sessions: int = 100_000
    base_memory: int = 20_000
    base_event_sessions: int = 100
    base_sessions: int = 10_000
    #: W7: searches, gets and appends per round (list calls: a tenth), and rounds.
    scale_ops: int = 200
    scale_rounds: int = 3
    #: The tracing probe: appends per round and rounds (each round runs every variant).
    trace_appends: int = 100
    trace_rounds: int = 20


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
    concurrency_levels=(1, 8, 32),
    concurrency_appends=3,
    concurrency_rounds=1,
    concurrency_budget_s=5.0,
    scale_memory=20_000,
    scale_memory_users=20,
    scale_events=20_000,
    scale_event_sessions=200,
    scale_sessions=5_000,
    base_memory=2_000,
    base_event_sessions=20,
    base_sessions=500,
    scale_ops=20,
    scale_rounds=2,
    trace_appends=30,
    trace_rounds=4,
)
