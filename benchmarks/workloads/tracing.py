"""W1t, the tracing probe: what the library's per-operation tracing costs when no tracer provider is set.

Every store operation runs inside ``sqlspec_adk.engine.tracing.traced``; with
no tracer provider configured it starts no span (one provider lookup per
operation). The probe appends to one session per adapter in three variants,
side by side in one run, their rounds interleaved (the order rotated each
round):

- ``as is``: the library as installed, no tracer provider configured;
- ``traced() replaced by a no-op``: every module's ``traced`` swapped for a
  context manager that does nothing (what the library would cost with no
  tracing code at all);
- ``SDK tracer provider``: an OpenTelemetry SDK ``TracerProvider`` whose spans
  go to a synchronous processor and an exporter that drops them (for
  reference: the cost of real spans, without any I/O).

Each round runs one adapter's variants back to back (order rotated per round),
so ``vs_no_op`` is the median over rounds of a round's median over the no-op's
median in the same round: neighbouring batches share the machine's load of the
moment. Beside the appends, ``traced()`` itself is timed alone (enter and exit,
nanoseconds per operation) in each variant, and ``traced_share`` is what it adds
over the no-op as a share of the append's median.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from benchmarks.contenders.base import SessionContender
from benchmarks.events import make_event, session_state
from benchmarks.group import Group
from benchmarks.timing import Timing, timed_batch
from sqlspec_adk.protocol import Op, Operation, operation

__all__ = ["AS_IS", "NO_OP", "SDK", "VARIANTS", "run_tracing"]

AS_IS = "as is (no tracer provider)"
NO_OP = "traced() replaced by a no-op"
SDK = "SDK tracer provider (spans dropped)"
VARIANTS: tuple[str, ...] = (AS_IS, NO_OP, SDK)
TRACE_USER = "u-trace"
#: ``traced()`` calls per timed loop when it is timed alone, and loops.
ALONE_CALLS = 20_000
ALONE_LOOPS = 15


def _ignore_retry(attempt: int, error: Exception) -> None:
    return None


class _NoTrace:
    """A context manager that does nothing and hands out a retry callback that does nothing."""

    def __enter__(self) -> Callable[[int, Exception], None]:
        return _ignore_retry

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


_NO_TRACE = _NoTrace()


def _untraced(operation: Any, db_system: str) -> _NoTrace:
    return _NO_TRACE


def _sdk_provider() -> Any:
    """An SDK provider whose spans end in a synchronous processor and an exporter that drops them."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Drop()))
    return provider


@contextlib.contextmanager
def variant(name: str, provider: Any) -> Iterator[None]:
    """Run the block in ``name``'s variant; everything patched is put back afterwards."""
    if name == AS_IS:
        yield
        return
    if name == NO_OP:
        from sqlspec_adk.engine import tracing

        original = tracing.traced
        # Every module that imported the name holds its own reference: patch each of them.
        holders = [
            module
            for key, module in list(sys.modules.items())
            if key.startswith("sqlspec_adk") and getattr(module, "traced", None) is original
        ]
        for module in holders:
            module.traced = _untraced  # type: ignore[attr-defined]
        try:
            yield
        finally:
            for module in holders:
                module.traced = original  # type: ignore[attr-defined]
        return
    from opentelemetry import trace

    get_provider = trace.get_tracer_provider
    # As the library's own tracing tests do: no global provider is set, so the run stays untraced after.
    trace.get_tracer_provider = lambda: provider
    try:
        yield
    finally:
        trace.get_tracer_provider = get_provider


def _nothing() -> Op[None]:
    return
    yield


def _traced_alone_ns() -> float:
    """Nanoseconds per ``traced()`` enter and exit, as the engine calls it (the current variant's ``traced``)."""
    from sqlspec_adk import config

    traced = getattr(config, "traced")  # noqa: B009 (the name config.py imported, patched or not)
    probe: Operation[None] = operation("append_event", _nothing, write=True, table="adk_event")
    loops = []
    for _ in range(ALONE_LOOPS):
        start = time.perf_counter_ns()
        for _ in range(ALONE_CALLS):
            with traced(probe, "sqlite"):
                pass
        loops.append((time.perf_counter_ns() - start) / ALONE_CALLS)
    return statistics.median(loops)


async def run_tracing(group: Group[SessionContender]) -> None:
    try:
        provider = _sdk_provider()
        variants = VARIANTS
    except ImportError as error:
        group.results.note(f"W1t: no OpenTelemetry SDK ({error}); the SDK variant is left out")
        provider, variants = None, VARIANTS[:2]
    size = group.sizes.trace_appends
    handles: dict[str, Any] = {}
    for name, contender in list(group.live.items()):
        handles[name] = await contender.create(TRACE_USER, "trace", session_state(0))
    timings: dict[tuple[str, str], Timing] = {(n, v): Timing() for n in handles for v in variants}
    for number in range(group.sizes.trace_rounds):
        for name in handles:
            contender = group.live[name]
            # The variants of one adapter back to back, in an order rotated each round: a pair of
            # neighbouring batches shares the machine's load of the moment.
            shift = number % len(variants)
            for which in variants[shift:] + variants[:shift]:

                async def append(
                    index: int, name: str = name, contender: SessionContender = contender, number: int = number
                ) -> None:
                    event = make_event(number * size + index, invocation_id=f"t{number}")
                    handles[name] = await contender.append(handles[name], event)

                with variant(which, provider):
                    timings[(name, which)].add(await timed_batch(size, append))
    alone: dict[str, float] = {}
    for which in variants:
        with variant(which, provider):
            alone[which] = _traced_alone_ns()
    for (name, which), timing in timings.items():
        extra: dict[str, Any] = {"variant": which, "traced_alone_ns": alone[which]}
        base = timings.get((name, NO_OP))
        if which != NO_OP and base is not None and base.median_ms:
            extra["vs_no_op"] = timing.median_ms / base.median_ms
        row = group.results.add("W1t", which, group.spec(name), timing, None, **extra)
        ratio = f"  {extra['vs_no_op']:.3f}x the no-op" if "vs_no_op" in extra else ""
        print(
            f"  W1t {which:<36} {row.label:<28} {row.median_ms:8.3f} ms  traced() alone {alone[which]:8.0f} ns{ratio}",
            flush=True,
        )
