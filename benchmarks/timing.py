"""Timing primitives: per-operation latencies, rounds interleaved across contenders, medians."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["Batch", "Timing", "interleaved", "timed_batch", "timed_concurrent"]

T = TypeVar("T")


@dataclass(slots=True)
class Batch:
    """One round of one contender: the latency of each operation and the wall time of all of them."""

    latencies_ns: list[int]
    wall_ns: int

    @property
    def rate(self) -> float:
        """Operations per second over the round's wall time."""
        return len(self.latencies_ns) / (self.wall_ns / 1e9) if self.wall_ns else 0.0


@dataclass(slots=True)
class Timing:
    """Every round of one (workload, case, contender)."""

    batches: list[Batch] = field(default_factory=list)

    def add(self, batch: Batch) -> None:
        self.batches.append(batch)

    @property
    def latencies_ns(self) -> list[int]:
        return [value for batch in self.batches for value in batch.latencies_ns]

    @property
    def median_ms(self) -> float:
        """Median per-operation latency over every operation of every round."""
        values = self.latencies_ns
        return statistics.median(values) / 1e6 if values else float("nan")

    @property
    def p90_ms(self) -> float:
        return self.percentile_ms(0.9)

    def percentile_ms(self, fraction: float) -> float:
        """The latency below which ``fraction`` of the operations fall (nearest rank)."""
        values = sorted(self.latencies_ns)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(len(values) * fraction))] / 1e6

    @property
    def rate(self) -> float:
        """Median over rounds of operations per second (wall time, so concurrency counts)."""
        rates = [batch.rate for batch in self.batches if batch.latencies_ns]
        return statistics.median(rates) if rates else float("nan")

    @property
    def round_medians_ms(self) -> list[float]:
        return [statistics.median(batch.latencies_ns) / 1e6 for batch in self.batches if batch.latencies_ns]


async def timed_batch(count: int, operation: Callable[[int], Awaitable[object]]) -> Batch:
    """Run ``operation(i)`` for ``i`` in ``range(count)`` one after another, timing each."""
    latencies: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    for index in range(count):
        before = clock()
        await operation(index)
        latencies.append(clock() - before)
    return Batch(latencies, clock() - start)


async def timed_concurrent(workers: int, count: int, operation: Callable[[int, int], Awaitable[object]]) -> Batch:
    """``workers`` tasks each run ``operation(worker, i)`` ``count`` times; wall time covers all of them."""
    latencies: list[int] = []
    clock = time.perf_counter_ns

    async def worker(number: int) -> None:
        for index in range(count):
            before = clock()
            await operation(number, index)
            latencies.append(clock() - before)

    start = clock()
    await asyncio.gather(*(worker(number) for number in range(workers)))
    return Batch(latencies, clock() - start)


async def interleaved(
    rounds: int, names: Sequence[str], run_round: Callable[[str, int], Awaitable[Batch]]
) -> dict[str, Timing]:
    """Run ``rounds`` rounds; each round runs every contender once, in an order rotated per round.

    Interleaving spreads background load (other processes on a shared machine)
    over every contender instead of penalizing whichever ran during a spike.
    """
    timings = {name: Timing() for name in names}
    order = list(names)
    for number in range(rounds):
        rotated = order[number % len(order) :] + order[: number % len(order)] if order else []
        for name in rotated:
            timings[name].add(await run_round(name, number))
    return timings
