"""The multi-process scenarios, shared by the bounded test run and ``tests.reliability.long_run``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.reliability.support import (
    SINGLE_PROCESS_FAMILIES,
    Check,
    Ledger,
    Stack,
    Target,
    Workers,
    check_artifacts,
    check_sessions,
    initial_state,
)


def library_groups(targets: list[Target]) -> list[list[Target]]:
    """Targets grouped so that no process loads two copies of one database library.

    Two SQLite libraries in one process (the stdlib's and ADBC's) cannot see each other's POSIX
    locks and corrupt the file (sqlite.org/howtocorrupt.html, 2.2.1), so ADBC's SQLite driver gets
    processes of its own; across processes, mixing them is safe and is tested.
    """
    groups: dict[str, list[Target]] = {}
    for target in targets:
        library = "adbc" if target.adapter == "adbc_sqlite" else "native"
        groups.setdefault(library, []).append(target)
    return list(groups.values())


@dataclass
class TortureReport:
    adapters: list[str]
    processes: int
    writers: int
    seconds: float
    appends: int
    retries: int
    refused: int
    errors: list[dict[str, Any]]
    check: Check

    @property
    def throughput(self) -> float:
        return self.appends / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"torture {'+'.join(self.adapters)}: "
            f"{self.processes} processes x {self.writers // self.processes} writers, "
            f"{self.seconds:.1f}s, {self.appends} appends ({self.throughput:.0f}/s), {self.retries} stale retries, "
            f"{len(self.errors)} errors, {len(self.check.violations)} violations, "
            f"{self.check.figures.get('sessions', 0)} sessions checked"
        )


async def run_torture(
    targets: list[Target],
    workdir: Path,
    workers: Workers,
    *,
    seconds: float,
    processes: int = 2,
    tasks: int = 4,
    users: int = 2,
    sessions_per_user: int = 3,
    app: str = "torture",
    seed: str = "0",
    shared: bool = False,
) -> TortureReport:
    """``processes`` x ``tasks`` independent writers (drivers of the family mixed) hammer shared sessions.

    Then the invariants are checked from storage alone with a fresh config (see ``check_sessions``).
    ``shared``: a process's writers on one target share one config with group commit on, so their
    appends (stale ones included) run in shared batches.
    """
    single = targets[0].family in SINGLE_PROCESS_FAMILIES
    if single:
        # One process owns the database file: it creates the tables itself (some drivers keep a
        # file locked for the life of the process that opened it, so this one must not).
        processes, tasks = 1, processes * tasks
    journal_dir = workdir / f"torture-{app}"
    journal_dir.mkdir(parents=True, exist_ok=True)
    sessions = [(f"u{u}", f"s{u}-{s}") for u in range(users) for s in range(sessions_per_user)]
    if not single:
        setup = Stack(targets[0])
        try:
            await setup.create_tables()
            for user, session_id in sessions:
                await setup.sessions.create_session(
                    app_name=app, user_id=user, session_id=session_id, state=initial_state(session_id)
                )
        finally:
            await setup.close()
    started = time.monotonic()
    groups = library_groups(targets)
    procs = [
        workers.spawn(
            "torture",
            *[arg for target in groups[index % len(groups)] for arg in ("--target", target.to_json())],
            *(["--setup"] if single else []),
            *(["--shared"] if shared else []),
            "--index",
            str(index),
            "--journal",
            str(journal_dir / f"p{index}.jsonl"),
            "--name",
            f"p{index}",
            "--tasks",
            str(tasks),
            "--seconds",
            str(seconds),
            "--app",
            app,
            "--sessions",
            json.dumps(sessions),
            "--seed",
            seed,
            "--max-seconds",
            str(int(seconds) + 120),
        )
        for index in range(processes)
    ]
    for proc in procs:
        await asyncio.to_thread(workers.finish, proc, seconds + 110)
    elapsed = time.monotonic() - started
    ledger = Ledger.read(journal_dir)
    reader = Stack(targets[0])
    try:
        check = await check_sessions(reader.sessions, app_name=app, ledger=ledger, sessions=sessions)
    finally:
        await reader.close()
    writer_seconds = max((float(s["seconds"]) for s in ledger.summaries), default=elapsed)
    if len(ledger.summaries) != processes * tasks:
        check.fail(f"{len(ledger.summaries)} writer summaries for {processes * tasks} writers")
    return TortureReport(
        adapters=sorted(
            {
                groups[p % len(groups)][(p + t) % len(groups[p % len(groups)])].adapter
                for p in range(processes)
                for t in range(tasks)
            }
        ),
        processes=processes,
        writers=processes * tasks,
        seconds=writer_seconds,
        appends=ledger.total("appends"),
        retries=ledger.total("retries"),
        refused=ledger.total("refused"),
        errors=ledger.errors,
        check=check,
    )


@dataclass
class CrashReport:
    adapters: list[str]
    kills: int = 0
    kills_during_append: int = 0
    kills_during_save: int = 0
    kills_during_create: int = 0
    stalled_runs: int = 0
    appends_acked: int = 0
    saves_acked: int = 0
    in_flight_appends_committed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    check: Check = field(default_factory=Check)
    integrity: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"crash {'+'.join(self.adapters)}: {self.kills} kill -9 "
            f"({self.kills_during_append} mid-append, {self.kills_during_save} mid-save, "
            f"{self.kills_during_create} mid-create; {self.stalled_runs} with stalled statements), "
            f"{self.appends_acked} appends and {self.saves_acked} artifact saves acknowledged, "
            f"{self.in_flight_appends_committed} in-flight appends found committed, "
            f"{self.check.figures.get('orphan_blobs', 0)} orphan blobs, {len(self.check.violations)} violations"
        )


def _pending(journal: Path) -> set[str]:
    """Kinds of operation still open (intent journaled, no outcome) when a run's journal ends."""
    open_ops: dict[str, str] = {}
    for line in journal.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = record["k"]
        if kind == "intent":
            open_ops[record["eid"]] = "append"
        elif kind in ("ack", "refused") or (kind == "error" and "eid" in record):
            open_ops.pop(record["eid"], None)
        elif kind == "artifact_intent":
            open_ops[f"a{record['seq']}"] = "save"
        elif kind == "artifact_ack" or (kind == "error" and record.get("op") == "artifact"):
            open_ops.pop(f"a{record['seq']}", None)
        elif kind == "create_intent":
            open_ops[f"c{record['sid']}"] = "create"
        elif kind == "created" or (kind == "error" and record.get("op") == "create"):
            open_ops.pop(f"c{record['sid']}", None)
    return set(open_ops.values())


def kill_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL a forked writer and wait until the kernel has reaped it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise AssertionError(f"writer {pid} survived SIGKILL for {timeout}s")


def sqlite_integrity(database: str) -> list[str]:
    """Problems ``PRAGMA integrity_check`` / ``foreign_key_check`` report (empty when the file is sound)."""
    connection = sqlite3.connect(database, timeout=10)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [repr(row) for row in connection.execute("PRAGMA foreign_key_check")]
        return problems
    finally:
        connection.close()


async def run_crash_loop(
    targets: list[Target],
    workdir: Path,
    workers: Workers,
    *,
    kills: int,
    app: str = "crash",
    seed: str = "0",
    stall_share: float = 0.5,
    max_delay: float = 0.6,
    artifacts: bool = True,
) -> CrashReport:
    """Start a writer, ``kill -9`` it at a random moment, reopen and check every invariant; ``kills`` times.

    Runs alternate between the drivers of ``targets``. Half the runs (``stall_share``) pause between
    statements, so most of their kills land inside a transaction.
    """
    rng = random.Random(f"crash-{seed}")
    journal_dir = workdir / f"crash-{app}"
    journal_dir.mkdir(parents=True, exist_ok=True)
    report = CrashReport(adapters=sorted({target.adapter for target in targets}))
    setup = Stack(targets[0])
    try:
        await setup.create_tables()
    finally:
        await setup.close()
    storage_root = Path(targets[0].artifact_uri.removeprefix("file://")) if targets[0].artifact_uri else None
    sessions: list[tuple[str, str]] = []
    server = workers.spawn(
        "forkserver", "--preload", ",".join(report.adapters), "--max-seconds", str(int(kills * (max_delay + 30)) + 60)
    )
    await asyncio.to_thread(workers.wait_line, server, "SERVING", 60)
    assert server.stdin is not None
    for run in range(kills):
        target = targets[run % len(targets)]
        stall = 0.02 if rng.random() < stall_share else 0.0
        report.stalled_runs += bool(stall)
        journal = journal_dir / f"run{run:04d}.jsonl"
        argv = [
            "crash",
            "--target",
            target.to_json(),
            "--journal",
            str(journal),
            "--run",
            str(run),
            "--app",
            app,
            "--sessions",
            json.dumps(sessions),
            "--stall",
            str(stall),
            "--artifacts",
            str(int(artifacts)),
            "--seed",
            seed,
            "--max-seconds",
            "60",
        ]
        server.stdin.write(json.dumps(argv) + "\n")
        server.stdin.flush()
        pid = int((await asyncio.to_thread(workers.wait_line, server, "CHILD ", 30)).split()[1])
        try:
            await asyncio.to_thread(workers.wait_line, server, "READY", 30)
            await asyncio.sleep(rng.uniform(0.1, max_delay))
        finally:
            await asyncio.to_thread(kill_pid, pid)
        report.kills += 1
        pending = _pending(journal) if journal.exists() else set()
        report.kills_during_append += "append" in pending
        report.kills_during_save += "save" in pending
        report.kills_during_create += "create" in pending
        ledger = Ledger.read(journal_dir)
        reader = Stack(targets[0])
        try:
            check = await check_sessions(reader.sessions, app_name=app, ledger=ledger, sequential=True)
            if artifacts:
                check.merge(
                    await check_artifacts(reader.artifacts, app_name=app, ledger=ledger, storage_root=storage_root)
                )
            listed = (await reader.sessions.list_sessions(app_name=app)).sessions
            sessions = sorted((s.user_id, s.id) for s in listed)
        finally:
            await reader.close()
        report.check = check
        report.appends_acked = len(ledger.acked)
        report.saves_acked = len(ledger.artifacts_acked)
        report.in_flight_appends_committed = check.figures.get("unacknowledged_attempts_stored", 0)
        report.errors = ledger.errors
        if check.violations:
            break
    if targets[0].family == "sqlite":
        report.integrity = sqlite_integrity(targets[0].database_file)
    return report
