"""The long reliability run: ``python -m tests.reliability.long_run --minutes N --adapters a,b,...``.

Runs the scenarios of the bounded test run for longer and writes the figures
into ``docs/reliability.md`` (between the ``long-run`` markers; the rest of the
page is kept):

- concurrency torture per SQL family (processes x writers, drivers mixed);
- ``kill -9`` crash loops per family, checking every invariant after each kill;
- the fault tests (``test_faults.py``: dropped connections, lock waits, server
  restarts, locked SQLite file, full disk), repeated;
- the hostile-input and isolation property tests with many more examples.

Every worker is bounded in time and killed at the end; server tables are dropped.
Run from the repository root with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.backends import unique_tables
from tests.reliability.scenarios import CrashReport, TortureReport, run_crash_loop, run_torture
from tests.reliability.support import REPO, Target, Workers, adapter_live, drop_tables, family_of, spec_named

BEGIN = "<!-- long-run:begin -->"
END = "<!-- long-run:end -->"


@dataclass
class Results:
    started: float = field(default_factory=time.monotonic)
    torture: list[TortureReport] = field(default_factory=list)
    crash: list[CrashReport] = field(default_factory=list)
    pytest_runs: list[tuple[str, int, str, list[str]]] = field(default_factory=list)  #: (what, exit, summary, figures)
    skipped: list[str] = field(default_factory=list)


def families(adapters: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in adapters:
        spec = spec_named(name)
        if not adapter_live(spec):
            continue
        grouped.setdefault(family_of(name), []).append(name)
    return grouped


def targets_for(names: list[str], tmp: Path) -> list[Target]:
    server = spec_named(names[0]).server is not None
    tables = unique_tables() if server else {}
    return [
        Target(
            name,
            spec_named(name).connection(tmp),
            dict(tables),
            dict(spec_named(name).pool_config),
            (tmp / "a").as_uri(),
        )
        for name in names
    ]


async def torture_phase(groups: dict[str, list[str]], seconds_each: float, results: Results) -> None:
    for family, names in groups.items():
        with tempfile.TemporaryDirectory(prefix=f"reliability-torture-{family}-") as tmp:
            targets = targets_for(names, Path(tmp))
            workers = Workers(Path(tmp))
            try:
                report = await run_torture(
                    targets, Path(tmp), workers, seconds=seconds_each, processes=3, tasks=4, seed=f"long-{family}"
                )
                results.torture.append(report)
                print(report.line(), flush=True)
            finally:
                workers.close()
                if spec_named(names[0]).server:
                    await drop_tables(targets[0])


#: Families the crash loop cannot run on, and why (none today: ADBC DuckDB now releases its file).
NO_CRASH_LOOP: dict[str, str] = {}


async def crash_phase(groups: dict[str, list[str]], seconds_each: float, max_kills: int, results: Results) -> None:
    for family, names in groups.items():
        if family in NO_CRASH_LOOP:
            results.skipped.append(f"crash loop on {family} ({NO_CRASH_LOOP[family]})")
            continue
        with tempfile.TemporaryDirectory(prefix=f"reliability-crash-{family}-") as tmp:
            targets = targets_for(names, Path(tmp))
            # About 1.2 s per kill cycle (random delay, reopen, full invariant check).
            kills = max(5, min(max_kills, int(seconds_each / 1.2)))
            workers = Workers(Path(tmp))
            try:
                report = await run_crash_loop(
                    targets, Path(tmp), workers, kills=kills, seed=f"long-{family}", max_delay=0.8
                )
                results.crash.append(report)
                print(report.line(), flush=True)
            finally:
                workers.close()
                if spec_named(names[0]).server:
                    await drop_tables(targets[0])


def run_pytest(what: str, args: list[str], env: dict[str, str], timeout: float, results: Results) -> None:
    """Run pytest in a subprocess; keep its summary line and its 'reliability figures' lines."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    try:
        done = subprocess.run(
            command, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout, check=False
        )
        output, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as expired:
        output, code = (
            (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or ""),
            -1,
        )
    lines = output.splitlines()
    fallback = f"timed out after {timeout:.0f} s" if code == -1 else "no summary"
    summary = next((line for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)), fallback)
    figures: list[str] = []
    if "reliability figures" in output:
        section = output.split("reliability figures", 1)[1].splitlines()[1:]
        figures = [line for line in section if line and not line.startswith("=")]
        figures = figures[
            : next((i for i, line in enumerate(figures) if line.startswith("_") or "slowest" in line), None)
        ]
    failures = [line for line in lines if line.startswith("FAILED")]
    results.pytest_runs.append((what, code, summary.strip("= "), figures + failures[:10]))
    print(f"{what}: exit {code}, {summary}", flush=True)


def render(results: Results, args: argparse.Namespace) -> str:
    elapsed = (time.monotonic() - results.started) / 60
    out = [
        BEGIN,
        f"### Last long run: {datetime.date.today().isoformat()}, {elapsed:.0f} minutes",
        "",
        f"`python -m tests.reliability.long_run --minutes {args.minutes} --adapters {','.join(args.adapters)}`",
        "",
        "#### Concurrency torture",
        "",
        "| adapters (mixed in every process) | writers | seconds | appends | appends/s | stale retries "
        "| errors | violations |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in results.torture:
        out.append(
            f"| {'+'.join(t.adapters)} | {t.processes} x {t.writers // t.processes} | {t.seconds:.0f} | {t.appends} "
            f"| {t.throughput:.0f} | {t.retries} | {len(t.errors)} | {len(t.check.violations)} |"
        )
    out += [
        "",
        "#### kill -9 crash loops",
        "",
        "| adapters | kills | mid-append | mid-save | mid-create | appends acked | saves acked "
        "| in-flight appends found committed | orphan blobs | violations |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results.crash:
        out.append(
            f"| {'+'.join(c.adapters)} | {c.kills} | {c.kills_during_append} | {c.kills_during_save} "
            f"| {c.kills_during_create} | {c.appends_acked} | {c.saves_acked} | {c.in_flight_appends_committed} "
            f"| {c.check.figures.get('orphan_blobs', 0)} | {len(c.check.violations)} |"
        )
    out += ["", "#### Faults and property tests (pytest runs)", ""]
    shown: set[str] = set()
    for what, code, summary, figures in results.pytest_runs:
        out.append(f"- **{what}**: {'ok' if code == 0 else f'exit {code}'}, {summary}")
        # Repeated rounds print the same kinds of figures: show each distinct line once.
        fresh = [line.strip() for line in figures if line.strip() not in shown and line.strip() != summary]
        shown.update(fresh)
        out += [f"  - {line}" for line in fresh]
    violations = sum(len(t.check.violations) for t in results.torture) + sum(
        len(c.check.violations) for c in results.crash
    )
    failed_runs = sum(1 for _, code, _, _ in results.pytest_runs if code != 0)
    out += [
        "",
        f"**Failures found in this run:** {violations} invariant violations, "
        f"{sum(len(t.errors) for t in results.torture)} unexpected torture errors, {failed_runs} failing pytest runs.",
    ]
    if results.skipped:
        out.append(f"Not run: {'; '.join(results.skipped)}.")
    reports: list[TortureReport | CrashReport] = [*results.torture, *results.crash]
    for report in reports:
        if report.check.violations:
            out.append(f"- {'+'.join(report.adapters)}: " + "; ".join(report.check.violations[:5]))
    out.append(END)
    return "\n".join(out)


def write_report(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


async def main(args: argparse.Namespace) -> Results:
    results = Results()
    budget = args.minutes * 60
    groups = families(args.adapters)
    missing = sorted(set(args.adapters) - {name for names in groups.values() for name in names})
    if missing:
        results.skipped.append(f"unavailable adapters {', '.join(missing)}")
    if not groups:
        raise SystemExit("no live adapter among " + ",".join(args.adapters))
    await torture_phase(groups, max(5.0, 0.3 * budget / len(groups)), results)
    await crash_phase(groups, max(10.0, 0.2 * budget / len(groups)), args.max_kills, results)
    selected = f"--adapter={','.join(name for names in groups.values() for name in names)}"
    remaining = budget - (time.monotonic() - results.started)
    env = {"SQLSPEC_ADK_RELIABILITY_EXAMPLES": str(args.examples)}
    run_pytest(
        f"hostile input and isolation (hypothesis, {args.examples} examples per property and adapter)",
        ["tests/reliability/test_hostile.py", "tests/reliability/test_isolation.py", selected],
        env,
        max(600.0, 0.7 * remaining),
        results,
    )
    rounds = 0
    deadline = results.started + budget
    while rounds < args.fault_rounds and (rounds == 0 or time.monotonic() < deadline):
        rounds += 1
        run_pytest(
            f"faults, round {rounds}",
            ["tests/reliability/test_faults.py", selected],
            {"CI": os.environ.get("CI", "")},
            max(300.0, deadline - time.monotonic()),
            results,
        )
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.long_run", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="total time budget (default 30)")
    parser.add_argument(
        "--adapters",
        type=lambda text: [name for name in text.split(",") if name],
        default="sqlite,aiosqlite,asyncpg,psycopg_async,psycopg_sync,psqlpy,aiomysql,asyncmy,pymysql,mysqlconnector,duckdb",
        help="comma-separated adapter names (tests/backends.py); drivers of one family are mixed",
    )
    parser.add_argument("--max-kills", type=int, default=400, help="upper bound of kill -9 cycles per family")
    parser.add_argument("--examples", type=int, default=100, help="hypothesis examples per property and adapter")
    parser.add_argument("--fault-rounds", type=int, default=3, help="repetitions of the fault tests (time permitting)")
    parser.add_argument("--report", type=Path, default=REPO / "docs" / "reliability.md")
    args = parser.parse_args(argv)
    if isinstance(args.adapters, str):
        args.adapters = [name for name in args.adapters.split(",") if name]
    return args


def cli(argv: list[str] | None = None) -> int:
    args = parse(argv)
    results = asyncio.run(main(args))
    write_report(args.report, render(results, args))
    print(f"figures written to {args.report}", flush=True)
    failed = any(t.check.violations or t.errors for t in results.torture) or any(
        c.check.violations for c in results.crash
    )
    return 1 if failed or any(code != 0 for _, code, _, _ in results.pytest_runs) else 0


if __name__ == "__main__":
    raise SystemExit(cli())
