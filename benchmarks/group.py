"""One database family's contenders, alive together so their rounds interleave, plus their counting twins.

Every contender spec gets a timed instance and, when its statements can be
counted, a second "counting" instance: on SQLite opened under
:func:`~benchmarks.counting.sqlite_tracing`, on a server through a
:class:`~benchmarks.wire_proxy.WireProxy`. Counting passes only ever use the
counting instances, so the timed instances run untraced and unproxied.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from benchmarks.contenders.base import Endpoint, Spec
from benchmarks.counting import Counts, Tally, count_yields, sqlite_tracing
from benchmarks.results import Results
from benchmarks.sizes import Sizes
from benchmarks.wire_proxy import WireProxy

__all__ = ["Group", "Openable"]

WARMUP = 2


class Openable(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...


C = TypeVar("C", bound=Openable)


class Group(Generic[C]):
    """Contenders of one family for one kind of workload (sessions, memory or artifacts)."""

    def __init__(
        self,
        family: str,
        specs: list[Any],
        endpoints: dict[str, Endpoint],
        sizes: Sizes,
        results: Results,
        proxy: WireProxy | None,
    ) -> None:
        self.family = family
        self.specs: dict[str, Any] = {spec.name: spec for spec in specs}
        self.endpoints = endpoints
        self.sizes = sizes
        self.results = results
        self.proxy = proxy
        self.sqlite_tally = Tally()
        self.live: dict[str, C] = {}
        self.counters: dict[str, C] = {}

    @property
    def names(self) -> list[str]:
        return list(self.live)

    def spec(self, name: str) -> Spec:
        return self.specs[name]  # type: ignore[no-any-return]

    def _tally(self, spec: Any) -> Tally | None:
        if spec.counter == "sqlite":
            return self.sqlite_tally
        if spec.counter == "wire" and self.proxy is not None:
            return self.proxy.tally
        return None

    @contextlib.contextmanager
    def _tracing(self, spec: Any) -> Iterator[None]:
        if spec.counter == "sqlite":
            with sqlite_tracing(self.sqlite_tally):
                yield
        else:
            yield

    async def open(self) -> None:
        for name, spec in list(self.specs.items()):
            endpoint = self.endpoints[name]
            try:
                contender = spec.make(endpoint)
                await contender.open()
            except Exception as error:
                refused = spec.refused(error)
                if refused:
                    keys = ", ".join(f"extension_config['adk'][{key!r}]" for key in refused)
                    self.results.skip(spec, f"the installed library refuses {keys} ({str(error).split(';')[0]})")
                else:
                    self.results.note(f"{spec.label}: could not open ({type(error).__name__}: {error}); skipped")
                    traceback.print_exc()
                continue
            self.live[name] = contender
            tally = self._tally(spec)
            if tally is None:
                continue
            counting_endpoint = endpoint.via(self.proxy.port) if spec.counter == "wire" and self.proxy else endpoint
            try:
                with self._tracing(spec):
                    counter = spec.make(counting_endpoint)
                    await counter.open()
            except Exception as error:
                self.results.note(f"{spec.label}: counting instance failed ({error}); statements n/a")
                continue
            store = getattr(counter, "store", None)
            if spec.kind == "ours" and store is not None:
                count_yields(store, tally)
            self.counters[name] = counter

    async def close(self) -> None:
        for contender in [*self.live.values(), *self.counters.values()]:
            with contextlib.suppress(Exception):
                await contender.close()
        self.live.clear()
        self.counters.clear()

    async def count(
        self,
        name: str,
        prepare: Callable[[C], Awaitable[Any]],
        action: Callable[[C, Any, int], Awaitable[Any]],
    ) -> Counts | None:
        """Statements and round trips per ``action``, measured on the counting instance (None: n/a)."""
        counter = self.counters.get(name)
        spec = self.specs[name]
        tally = self._tally(spec)
        if counter is None or tally is None:
            return None
        operations = self.sizes.count_ops
        try:
            with self._tracing(spec):
                context = await prepare(counter)
                for index in range(WARMUP):
                    await action(counter, context, index)
                tally.reset()
                for index in range(WARMUP, WARMUP + operations):
                    await action(counter, context, index)
                return tally.snapshot(operations, yields_counted=spec.kind == "ours")
        except Exception as error:
            self.results.note(f"{spec.label}: counting pass failed ({type(error).__name__}: {error})")
            return None
