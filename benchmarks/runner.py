"""One benchmark run: every family's contenders, every workload, one process, then the reports."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import emulator
from benchmarks.contenders import concurrency_specs, session_specs
from benchmarks.contenders.artifacts import artifact_specs
from benchmarks.contenders.base import Endpoint, Family
from benchmarks.contenders.memory import LEXICAL, MemoryMode, memory_specs
from benchmarks.contenders.scale import SCALE_ADAPTERS, scale_specs
from benchmarks.environment import describe_machine, fsync_ms, load_average
from benchmarks.group import Group
from benchmarks.leases import DIR_PREFIX, Lease, probe_table
from benchmarks.memory_corpus import check_questions, load_questions
from benchmarks.results import Results
from benchmarks.servers import Namespaces, Server, commit_ms, servers_from_env
from benchmarks.sizes import Sizes
from benchmarks.wire_proxy import WireProxy
from benchmarks.workloads.artifacts import run_artifacts
from benchmarks.workloads.concurrency import run_concurrency
from benchmarks.workloads.memory import run_memory
from benchmarks.workloads.scale import run_scale
from benchmarks.workloads.sessions import run_sessions
from benchmarks.workloads.tracing import run_tracing

__all__ = ["RunOptions", "SelfCheckError", "run", "self_check"]

FAMILIES: tuple[Family, ...] = ("memory", "sqlite", "postgres", "mysql", "duckdb", "spanner")
SERVER_FAMILIES = ("postgres", "mysql")
#: What the Spanner emulator runs (its figures say nothing about production Spanner; see benchmarks.emulator).
SPANNER_WORKLOADS = frozenset({"W1", "W2", "W3", "W4"})


@dataclass(frozen=True)
class RunOptions:
    sizes: Sizes
    families: tuple[str, ...]
    workloads: frozenset[str]
    quick: bool
    #: W5: this library's search modes (lexical, and semantic/hybrid with an embedder).
    memory_modes: tuple[MemoryMode, ...] = (LEXICAL,)


class SelfCheckError(RuntimeError):
    """The harness's own inputs are unsound (a paraphrase question shares a stem with its fact, ...)."""


async def _group(
    family: Family,
    specs: list[Any],
    namespaces: Namespaces,
    servers: dict[str, Server],
    options: RunOptions,
    results: Results,
) -> tuple[Group[Any], contextlib.ExitStack]:
    stack = contextlib.ExitStack()
    proxy = None
    if family in SERVER_FAMILIES:
        server = servers[family]
        proxy = stack.enter_context(WireProxy(family, server.host, server.port))  # type: ignore[arg-type]
    endpoints: dict[str, Endpoint] = {}
    for spec in specs:
        endpoints[spec.name] = await namespaces.endpoint(family, spec.name)
    group: Group[Any] = Group(family, specs, endpoints, options.sizes, results, proxy)
    return group, stack


def self_check() -> list[str]:
    """Problems with the harness's own inputs; a run refuses to start while there is one."""
    return check_questions(load_questions())


async def run(options: RunOptions) -> tuple[dict[str, Any], Results]:
    """Run every selected workload; returns (machine description, results)."""
    problems = self_check()
    if problems:
        raise SelfCheckError("the harness's self-check failed:\n- " + "\n- ".join(problems))
    results = Results()
    wanted = {family for family in options.families if family in SERVER_FAMILIES}
    servers, notes = await servers_from_env(wanted)
    for note in notes:
        results.note(note)
    machine = describe_machine({family: server.version for family, server in servers.items()})
    machine["quick"] = options.quick
    spanner = "spanner" in options.families and _start_spanner(machine, results)
    run_id = uuid.uuid4().hex[:8]
    root = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{run_id}-"))
    namespaces = Namespaces(run_id, root, servers)
    # Held until this process ends, however it ends: a later run drops what a killed one left.
    lease = Lease(run_id, root, servers)
    for note in await lease.acquire():
        results.note(note)
    started = time.perf_counter()
    try:
        machine["fsync_ms"] = fsync_ms(root)
        machine["commit_ms"] = {
            family: await commit_ms(server, probe_table(run_id)) for family, server in servers.items()
        }
        for family in FAMILIES:
            if family not in options.families or (family in SERVER_FAMILIES and family not in servers):
                continue
            if family == "spanner" and not spanner:
                continue
            try:
                await _run_family(family, namespaces, servers, options, results)
            except Exception as error:  # one family's failure must not cost the others' figures
                results.note(f"{family}: the run stopped at {type(error).__name__}: {error}")
    finally:
        try:
            await namespaces.drop_all()
        finally:
            await lease.release()
            if spanner:
                emulator.stop()
    machine["load_average_end"] = load_average()
    machine["duration_s"] = round(time.perf_counter() - started, 1)
    return machine, results


def _start_spanner(machine: dict[str, Any], results: Results) -> bool:
    """Start the emulator for the ``spanner`` family; False (with a note) when it cannot run here."""
    problem = emulator.start()
    if problem:
        results.note(f"spanner: not run ({problem})")
        return False
    machine["servers"]["spanner"] = emulator.version()
    results.note(emulator.NOTE)
    return True


async def _run_family(
    family: Family, namespaces: Namespaces, servers: dict[str, Server], options: RunOptions, results: Results
) -> None:
    if family == "spanner":
        left_out = sorted(options.workloads - SPANNER_WORKLOADS)
        if left_out:
            results.note(f"spanner: {', '.join(left_out)} not run on the emulator (W1 to W4 only)")
        sizes = emulator.sizes(options.sizes, quick=options.quick)
        if sizes != options.sizes:
            results.note(
                f"spanner: emulator sizes (capped, see benchmarks.emulator.sizes): {sizes.rounds} rounds, "
                f"{sizes.appends} appends, histories {sizes.histories}, {sizes.sessions} sessions listed"
            )
        options = dataclasses.replace(options, workloads=options.workloads & SPANNER_WORKLOADS, sizes=sizes)
    session_workloads = {"W1", "W2", "W3", "W4"} & options.workloads
    if session_workloads:
        specs = session_specs(family)
        if specs:
            print(f"\n== {family}: session workloads ({', '.join(spec.label for spec in specs)})", flush=True)
            group, stack = await _group(family, specs, namespaces, servers, options, results)
            with stack:
                await group.open()
                try:
                    await run_sessions(group, concurrent=family in SERVER_FAMILIES or family == "memory")
                finally:
                    await group.close()
    if "W1T" in options.workloads:
        # This library only, no counting twins: the probe compares it with itself.
        specs = [dataclasses.replace(spec, counter="none") for spec in session_specs(family) if spec.kind == "ours"]
        await _run_group(family, specs, "W1t tracing probe", run_tracing, namespaces, servers, options, results)
    if "W1C" in options.workloads:
        # Rounds of W1c are long (up to 128 x 40 appends): fewer of them than W1-W4, but 2 moved a floor by
        # +-30% between runs on a shared 2-core machine (docs/benchmarks.md), so 4.
        concurrency = _with_rounds(options, options.sizes.concurrency_rounds)
        await _run_group(
            family,
            concurrency_specs(family),
            "W1c concurrency",
            run_concurrency,
            namespaces,
            servers,
            concurrency,
            results,
        )
    if "W5" in options.workloads:
        specs = memory_specs(family, options.memory_modes)
        await _run_group(family, specs, "memory", run_memory, namespaces, servers, options, results)
    if "W7" in options.workloads and family in SCALE_ADAPTERS:
        scale = _with_rounds(options, options.sizes.scale_rounds)
        specs = scale_specs(family, options.sizes)
        await _run_group(family, specs, "W7 scale", run_scale, namespaces, servers, scale, results)
    elif "W7" in options.workloads and family != "memory":
        results.note(f"W7: not run on {family} (benchmarks.contenders.scale.SCALE_ADAPTERS names none of its adapters)")
    if "W6" in options.workloads:
        await _run_group(
            family, artifact_specs(family), "artifacts", run_artifacts, namespaces, servers, options, results
        )


def _with_rounds(options: RunOptions, rounds: int) -> RunOptions:
    return dataclasses.replace(options, sizes=dataclasses.replace(options.sizes, rounds=rounds))


async def _run_group(
    family: Family,
    specs: list[Any],
    title: str,
    workload: Any,
    namespaces: Namespaces,
    servers: dict[str, Server],
    options: RunOptions,
    results: Results,
) -> None:
    if not specs:
        return
    print(f"\n== {family}: {title} ({', '.join(spec.label for spec in specs)})", flush=True)
    group, stack = await _group(family, specs, namespaces, servers, options, results)
    with stack:
        await group.open()
        try:
            await workload(group)
        finally:
            await group.close()
