"""Shared machinery of the reliability checks: targets, worker processes, journals and invariants.

A :class:`Target` says how to reach one adapter's database and tables, in a form
a subprocess can rebuild (JSON). Workers journal every operation they start
(``intent``) and every one that returned (``ack``) with one unbuffered
``write(2)`` each, so a journal survives ``kill -9`` of its writer. The
invariant checks read storage alone (a fresh config, its own pool) and compare
it with the journals.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from sqlspec_adk.migrations import drop_tables as drop_config_tables
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Op, Operation, Stmt
from tests.backends import ADAPTERS, AdapterSpec, server_reachable
from tests.helpers import intercept

REPO = Path(__file__).resolve().parents[2]

#: SQL family of each adapter: drivers of one family share tables, so torture workers mix them.
FAMILY = {
    "sqlite": "sqlite",
    "aiosqlite": "sqlite",
    "adbc_sqlite": "sqlite",
    "adbc_postgresql": "postgres",
    "asyncpg": "postgres",
    "psycopg_async": "postgres",
    "psycopg_sync": "postgres",
    "psqlpy": "postgres",
    "cockroach_asyncpg": "cockroach",
    "cockroach_psycopg": "cockroach",
    "aiomysql": "mysql",
    "asyncmy": "mysql",
    "pymysql": "mysql",
    "mysqlconnector": "mysql",
}
#: Families whose database file one process owns (no cross-process writers): workers run as tasks instead.
SINGLE_PROCESS_FAMILIES = frozenset({"duckdb", "adbc_duckdb"})

SCOPED_PREFIXES = ("app:", "user:", "temp:")


def family_of(adapter: str) -> str:
    return FAMILY.get(adapter, adapter)


def spec_named(name: str) -> AdapterSpec:
    for spec in ADAPTERS:
        if spec.name == name:
            return spec
    raise KeyError(f"no adapter named {name!r} in tests.backends.ADAPTERS")


def adapter_live(spec: AdapterSpec) -> bool:
    """Whether the adapter's driver imports and its server (if any) answers."""
    try:
        spec.load()
    except ImportError:
        return False
    return spec.server is None or server_reachable(spec.server)


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """How to reach one adapter's database and tables; JSON-serializable for worker processes."""

    adapter: str
    connection: dict[str, Any]
    adk: dict[str, Any]
    pool: dict[str, Any] = field(default_factory=dict)
    artifact_uri: str | None = None

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Target:
        return cls(**json.loads(text))

    @classmethod
    def of_backend(cls, backend: Any, adapter: str | None = None) -> Target:
        """The target of a ``backend`` fixture (or of a sibling adapter on the same database and tables).

        Registers a config with the fixture, so its server tables are dropped when the test ends.
        """
        backend.config()
        spec = spec_named(adapter) if adapter else backend.spec
        return cls(
            adapter=spec.name,
            connection=spec.connection(backend.tmp_path),
            adk={**backend.tables, **_forced_group_commit()},
            pool=dict(spec.pool_config),
            artifact_uri=(backend.tmp_path / "artifacts").as_uri(),
        )

    @property
    def spec(self) -> AdapterSpec:
        return spec_named(self.adapter)

    @property
    def family(self) -> str:
        return family_of(self.adapter)

    def with_adapter(self, adapter: str, tmp_path: Path) -> Target:
        spec = spec_named(adapter)
        return Target(adapter, spec.connection(tmp_path), dict(self.adk), dict(spec.pool_config), self.artifact_uri)

    @property
    def database_file(self) -> str:
        """The file of an embedded database (``database`` for sqlite3/aiosqlite/duckdb, ``uri`` for ADBC)."""
        return str(self.connection.get("database", self.connection.get("uri", "")))

    def with_database_file(self, path: str, artifact_uri: str | None = None) -> Target:
        """This target on another database file (and artifact storage)."""
        key = "uri" if "uri" in self.connection else "database"
        return Target(
            self.adapter,
            {**self.connection, key: path},
            dict(self.adk),
            dict(self.pool),
            artifact_uri or self.artifact_uri,
        )

    def config(self, *, pool: Mapping[str, Any] | None = None, **adk: Any) -> Any:
        config_cls = self.spec.classes()[0]
        return config_cls(
            connection_config=dict(self.connection),
            pool_config=dict(self.pool if pool is None else pool),
            extension_config={"adk": {**self.adk, **adk}},
        )


def _forced_group_commit() -> dict[str, Any]:
    """``--group-commit=off``: the workers' configs too (``on`` is each family's own choice here)."""
    from tests import conftest

    return {"group_commit": False} if conftest.GROUP_COMMIT is False else {}


def family_targets(backend: Any) -> list[Target]:
    """The backend's own target first, then its live siblings (other drivers of the same SQL family)."""
    own = Target.of_backend(backend)
    siblings = [
        Target.of_backend(backend, spec.name)
        for spec in ADAPTERS
        if spec.name != own.adapter and family_of(spec.name) == own.family and adapter_live(spec)
    ]
    return [own, *siblings]


class Stack:
    """One independent config (its own pool) with session, artifact and memory services on a target."""

    def __init__(
        self, target: Target, *, config: Any = None, pool: Mapping[str, Any] | None = None, **adk: Any
    ) -> None:
        self.target = target
        self.config = config if config is not None else target.config(pool=pool, **adk)
        _, self.store_cls, self.memory_cls, self.artifact_cls = target.spec.classes()
        self._sessions: Any = None
        self._artifacts: Any = None
        self._memory: Any = None

    async def create_tables(self) -> None:
        await call(self.store_cls(self.config).create_tables)

    @property
    def sessions(self) -> Any:
        if self._sessions is None:
            from sqlspec_adk.service import SQLSpecSessionService

            self._sessions = SQLSpecSessionService(self.store_cls(self.config))
        return self._sessions

    @property
    def artifacts(self) -> Any:
        if self._artifacts is None:
            from sqlspec_adk.artifact.service import SQLSpecArtifactService

            assert self.target.artifact_uri, "target has no artifact storage"
            self._artifacts = SQLSpecArtifactService(
                self.artifact_cls(self.config), artifact_storage_uri=self.target.artifact_uri
            )
        return self._artifacts

    @property
    def memory(self) -> Any:
        if self._memory is None:
            from sqlspec_adk.memory.service import SQLSpecMemoryService

            self._memory = SQLSpecMemoryService(self.memory_cls(self.config))
        return self._memory

    async def run(self, build: Callable[[], Op[Any]], *, write: bool = False) -> Any:
        """Run the operation ``build`` makes in one transaction."""
        return await self.config.arun(Operation("test", build, write))

    async def close(self) -> None:
        if self.config.is_async:
            await self.config.close_pool()
        else:
            self.config.close_pool()


async def drop_tables(target: Target) -> None:
    """Drop a server target's tables (long runs clean up after themselves)."""
    stack = Stack(target)
    try:
        await drop_config_tables(stack.config)
    finally:
        await stack.close()


# --------------------------------------------------------------------------- workload
def logical_delta(writer: str, seq: int) -> dict[str, Any]:
    """The state delta of append ``seq`` by ``writer``: an owned key and a shared 'last' key in each scope."""
    mark = [writer, seq]
    return {
        f"w_{writer}": seq,
        "last": mark,
        f"user:w_{writer}": seq,
        "user:last": mark,
        f"app:w_{writer}": seq,
        "app:last": mark,
    }


def make_event(writer: str, seq: int) -> Event:
    """The event of append ``seq`` by ``writer``; its id is the same on every retry."""
    return Event(
        id=event_id(writer, seq),
        author="worker",
        invocation_id=f"inv-{writer}-{seq}",
        content=types.Content(role="user", parts=[types.Part(text=f"{writer}:{seq}")]),
        actions=EventActions(state_delta=logical_delta(writer, seq)),
    )


def event_id(writer: str, seq: int) -> str:
    return f"{writer}-{seq}"


def initial_state(session_id: str) -> dict[str, Any]:
    return {"origin": session_id}


def blob(writer: str, seq: int, size: int) -> bytes:
    """Deterministic artifact content of save ``seq`` by ``writer``."""
    return hashlib.shake_256(f"{writer}/{seq}".encode()).digest(size) if size else b""


ARTIFACT_MIME = "application/x-reliability"
EMPTY_SESSION_CONFIG = GetSessionConfig(num_recent_events=0)


def stalled(op: Op[Any], seconds: float, rng: Any) -> Op[Any]:
    """``op`` with a random pause before every statement after the first, widening mid-transaction windows."""
    try:
        stmt = next(op)
        while True:
            result = yield stmt
            time.sleep(rng.uniform(0, seconds))
            stmt = op.send(result)
    except StopIteration as stop:
        return stop.value


def install_stall(store: Any, seconds: float, rng: Any) -> None:
    """Make every operation of ``store`` pause between its statements (crash tests)."""
    intercept(store.config, lambda op, operation: stalled(op, seconds, rng))


# --------------------------------------------------------------------------- journals
class Journal:
    """Append-only JSON lines; one ``write(2)`` per record, so ``kill -9`` never loses an acknowledged line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, kind: str, **fields: Any) -> None:
        os.write(self._fd, (json.dumps({"k": kind, **fields}) + "\n").encode())

    def close(self) -> None:
        os.close(self._fd)


@dataclass
class Ledger:
    """What the workers' journals say was attempted and acknowledged."""

    intents: dict[str, dict[str, Any]] = field(default_factory=dict)  #: event id -> intent
    acked: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  #: every attempt was refused as stale: never committed
    ambiguous: set[str] = field(default_factory=set)  #: failed with an error whose outcome is unknown
    create_intents: set[tuple[str, str]] = field(default_factory=set)
    created: set[tuple[str, str]] = field(default_factory=set)
    artifact_intents: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    artifacts_acked: dict[tuple[str, int], int] = field(default_factory=dict)  #: (writer, seq) -> version
    artifacts_refused: set[tuple[str, int]] = field(default_factory=set)  #: the save raised: must not be stored
    summaries: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, directory: Path) -> Ledger:
        ledger = cls()
        for path in sorted(directory.glob("*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line is not an acknowledgement
                ledger.add(record)
        return ledger

    def add(self, record: dict[str, Any]) -> None:
        kind = record["k"]
        if kind == "intent":
            self.intents[record["eid"]] = record
        elif kind == "ack":
            self.acked.add(record["eid"])
        elif kind == "refused":
            self.refused.add(record["eid"])
        elif kind == "error":
            self.errors.append(record)
            if "eid" in record:
                self.ambiguous.add(record["eid"])
        elif kind == "create_intent":
            self.create_intents.add((record["uid"], record["sid"]))
        elif kind == "created":
            self.created.add((record["uid"], record["sid"]))
        elif kind == "artifact_intent":
            self.artifact_intents[(record["w"], record["seq"])] = record
        elif kind == "artifact_ack":
            self.artifacts_acked[(record["w"], record["seq"])] = record["version"]
        elif kind == "artifact_refused":
            self.artifacts_refused.add((record["w"], record["seq"]))
        elif kind == "summary":
            self.summaries.append(record)

    def total(self, key: str) -> int:
        return sum(int(summary.get(key, 0)) for summary in self.summaries)


async def outcome(awaitable: Awaitable[Any]) -> tuple[Any, Exception | None]:
    """(result, None) or (None, the exception): for checks whose either outcome is acceptable."""
    try:
        return await awaitable, None
    except Exception as error:
        return None, error


# --------------------------------------------------------------------------- invariants
@dataclass
class Check:
    """Outcome of an invariant check: figures and every violation found."""

    violations: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def count(self, name: str, amount: int = 1) -> None:
        self.figures[name] = self.figures.get(name, 0) + amount

    def merge(self, other: Check) -> None:
        self.violations += other.violations
        for name, amount in other.figures.items():
            self.count(name, amount)


def _order_key(mark: tuple[str, int]) -> tuple[str, int]:
    return mark


def _expected_scope_state(
    marks: list[tuple[str, int]], stored: dict[str, Any], *, sequential: bool, where: str, check: Check
) -> None:
    """Compare a scope's stored state with what its stored events imply.

    Every writer owns ``w_<writer>``: it must hold that writer's highest
    stored seq (writers append in seq order). ``last`` is shared: it must be
    the final write of some writer, and with one sequential writer overall,
    the greatest mark.
    """
    if not marks:
        if stored:
            check.fail(f"{where}: state {stored!r} but no stored event wrote it")
        return
    highest: dict[str, int] = {}
    for writer, seq in marks:
        highest[writer] = max(seq, highest.get(writer, seq))
    expected_keys = {f"w_{writer}" for writer in highest} | {"last"}
    if set(stored) != expected_keys:
        check.fail(f"{where}: keys {sorted(stored)} != keys written by stored events {sorted(expected_keys)}")
    for writer, seq in highest.items():
        if stored.get(f"w_{writer}") != seq:
            check.fail(f"{where}: w_{writer}={stored.get(f'w_{writer}')!r}, last stored write of {writer} is {seq}")
    last = stored.get("last")
    if not (isinstance(last, list) and len(last) == 2 and last[0] in highest and last[1] == highest[last[0]]):
        check.fail(f"{where}: last={last!r} is not the final stored write of any writer {highest!r}")
    elif sequential:
        newest = max(marks, key=_order_key)
        if tuple(last) != newest:
            check.fail(f"{where}: last={last!r}, newest stored write is {list(newest)!r}")


async def check_sessions(
    service: Any,
    *,
    app_name: str,
    ledger: Ledger,
    sessions: Iterable[tuple[str, str]] = (),
    sequential: bool = False,
) -> Check:
    """Invariants of every session of ``app_name``, read from storage and compared with ``ledger``.

    - every acknowledged session exists, and no session exists that nobody tried to create;
    - list_sessions counts (app and per user) match the stored sessions;
    - per session: no duplicate event, no event nobody appended, no event refused as stale, every
      acknowledged event present; the revision marker equals the event count (the revision advanced
      exactly once per stored event); the session state equals the fold of the stored events' deltas;
    - user: and app: state equal what the stored events imply (see :func:`_expected_scope_state`).
    """
    check = Check()
    expected = set(sessions) | ledger.created
    allowed = expected | ledger.create_intents
    listed = (await service.list_sessions(app_name=app_name)).sessions
    stored = {(s.user_id, s.id) for s in listed}
    if len(stored) != len(listed):
        check.fail(f"list_sessions returned duplicates: {len(listed)} rows, {len(stored)} distinct")
    for key in sorted(expected - stored):
        check.fail(f"acknowledged session {key} is missing")
    for key in sorted(stored - allowed):
        check.fail(f"session {key} exists but nobody created it")
    users = sorted({user for user, _ in stored | expected})
    for user in users:
        count = len((await service.list_sessions(app_name=app_name, user_id=user)).sessions)
        if count != sum(1 for u, _ in stored if u == user):
            check.fail(f"list_sessions(user={user!r}) returned {count} sessions")
    check.count("sessions", len(stored))
    user_marks: dict[str, list[tuple[str, int]]] = {user: [] for user in users}
    app_marks: list[tuple[str, int]] = []
    present: set[str] = set()
    for user, session_id in sorted(stored):
        session = await service.get_session(app_name=app_name, user_id=user, session_id=session_id)
        if session is None:
            check.fail(f"session {(user, session_id)} is listed but get_session returns None")
            continue
        where = f"session {(user, session_id)}"
        ids = [event.id for event in session.events]
        if len(ids) != len(set(ids)):
            check.fail(f"{where}: duplicate events {sorted(i for i in ids if ids.count(i) > 1)}")
        if session._storage_update_marker != str(len(ids)):
            check.fail(f"{where}: revision marker {session._storage_update_marker!r} but {len(ids)} events")
        state = initial_state(session_id)
        for event in session.events:
            intent = ledger.intents.get(event.id)
            if intent is None:
                check.fail(f"{where}: event {event.id!r} was never appended by a worker")
                continue
            if (intent["uid"], intent["sid"]) != (user, session_id):
                check.fail(f"{where}: event {event.id!r} belongs to session {(intent['uid'], intent['sid'])}")
            if event.id in ledger.refused:
                check.fail(f"{where}: event {event.id!r} is stored although every attempt was refused as stale")
            delta = dict(event.actions.state_delta) if event.actions else {}
            if delta != logical_delta(intent["w"], intent["seq"]):
                check.fail(f"{where}: event {event.id!r} came back with delta {delta!r}")
            for key, value in delta.items():
                if not key.startswith(SCOPED_PREFIXES):
                    state[key] = value
            mark = (intent["w"], intent["seq"])
            user_marks[user].append(mark)
            app_marks.append(mark)
            present.add(event.id)
        session_state = {k: v for k, v in session.state.items() if not k.startswith(SCOPED_PREFIXES)}
        if session_state != state:
            check.fail(f"{where}: state {session_state!r} != fold of its events {state!r}")
        check.count("events", len(ids))
    for eid in sorted(ledger.acked - present):
        check.fail(f"acknowledged event {eid!r} is missing")
    maybe = {eid for eid in ledger.intents if eid not in ledger.acked and eid not in ledger.refused}
    check.count("unacknowledged_attempts", len(maybe))
    check.count("unacknowledged_attempts_stored", len(maybe & present))
    for user in users:
        user_state = await service.get_user_state(app_name=app_name, user_id=user)
        _expected_scope_state(
            user_marks[user], user_state, sequential=sequential, where=f"user state of {user!r}", check=check
        )
    app_state = await service.get_app_state(app_name=app_name)
    _expected_scope_state(app_marks, app_state, sequential=sequential, where="app state", check=check)
    return check


async def check_artifacts(service: Any, *, app_name: str, ledger: Ledger, storage_root: Path | None = None) -> Check:
    """Every listed version loads with exactly the bytes its writer saved; every acknowledged save is there.

    Versions of a key are 0..n-1 without gaps, each carries the (writer, seq) it was saved with in
    its custom metadata, and no (writer, seq) appears twice. With ``storage_root`` (file:// storage),
    blobs no row refers to are counted (``orphan_blobs``): a crash between writing the blob and
    committing its row leaves one, invisible to readers.
    """
    check = Check()
    keys: dict[tuple[str, str | None, str], list[tuple[str, int]]] = {}
    for (writer, seq), intent in ledger.artifact_intents.items():
        keys.setdefault((intent["uid"], intent["sid"], intent["file"]), []).append((writer, seq))
    seen: dict[tuple[str, int], int] = {}
    referenced: set[str] = set()
    for (user, session_id, filename), marks in sorted(keys.items(), key=repr):
        where = f"artifact {(user, session_id, filename)}"
        versions = await service.list_artifact_versions(
            app_name=app_name, user_id=user, filename=filename, session_id=session_id
        )
        numbers = [version.version for version in versions]
        if numbers != list(range(len(numbers))):
            check.fail(f"{where}: versions {numbers} are not 0..n-1")
        listed = await service.list_artifact_keys(app_name=app_name, user_id=user, session_id=session_id)
        if bool(versions) != (filename in listed or f"user:{filename}" in listed):
            check.fail(f"{where}: listed keys {listed} disagree with {len(versions)} versions")
        for version in versions:
            referenced.add(version.canonical_uri)
            meta = version.custom_metadata or {}
            mark = (meta.get("w"), meta.get("seq"))
            if mark not in ledger.artifact_intents or tuple(marks).count(mark) != 1:
                check.fail(f"{where} v{version.version}: metadata {meta!r} matches no save of this key")
                continue
            if mark in ledger.artifacts_refused:
                check.fail(f"{where} v{version.version}: save {mark} raised an error but is stored")
            if mark in seen:
                check.fail(f"{where}: save {mark} stored twice (v{seen[mark]} and v{version.version})")
            seen[mark] = version.version
            part = await service.load_artifact(
                app_name=app_name, user_id=user, filename=filename, session_id=session_id, version=version.version
            )
            data = part.inline_data.data if part is not None and part.inline_data is not None else None
            if data != blob(mark[0], mark[1], meta["size"]):
                check.fail(f"{where} v{version.version}: content differs from what {mark} saved")
            check.count("artifact_versions")
    for mark, version_number in sorted(ledger.artifacts_acked.items()):
        if seen.get(mark) != version_number:
            check.fail(f"acknowledged artifact save {mark} (v{version_number}) is missing or moved: {seen.get(mark)}")
    check.count("artifact_saves_unacknowledged", len(set(ledger.artifact_intents) - set(ledger.artifacts_acked)))
    if storage_root is not None:
        blobs = await asyncio.to_thread(_blob_uris, storage_root)
        check.count("orphan_blobs", len(blobs - referenced))
        for uri in sorted(referenced - blobs):
            check.fail(f"row refers to missing blob {uri}")
    return check


def _blob_uris(root: Path) -> set[str]:
    return {path.as_uri() for path in root.rglob("*") if path.is_file()} if root.exists() else set()


# --------------------------------------------------------------------------- worker processes
class Workers:
    """Worker subprocesses (``python -m tests.reliability.worker``), each bounded and always killed at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[str]] = []
        self._stderr: dict[int, Path] = {}
        self._buffers: dict[int, bytes] = {}

    def spawn(self, mode: str, *args: str) -> subprocess.Popen[str]:
        err_path = self.workdir / f"worker-{len(self.procs)}.stderr"
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.worker", mode, *args],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        self.procs.append(proc)
        self._stderr[proc.pid] = err_path
        return proc

    def stderr(self, proc: subprocess.Popen[str]) -> str:
        path = self._stderr.get(proc.pid)
        return path.read_text()[-4000:] if path and path.exists() else ""

    def wait_line(self, proc: subprocess.Popen[str], prefix: str, timeout: float) -> str:
        """Block until the worker prints a line starting with ``prefix`` (AssertionError on exit or timeout).

        Reads the pipe's file descriptor directly (a buffered reader would hide lines from ``select``).
        """
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                buffered = self._buffers.get(proc.pid, b"")
                if b"\n" in buffered:
                    line, rest = buffered.split(b"\n", 1)
                    self._buffers[proc.pid] = rest
                    if line.decode().startswith(prefix):
                        return line.decode().strip()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"worker did not print {prefix!r} within {timeout}s: {self.stderr(proc)}")
                if selector.select(remaining):
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        proc.wait()
                        raise AssertionError(
                            f"worker exited ({proc.returncode}) before printing {prefix!r}: {self.stderr(proc)}"
                        )
                    self._buffers[proc.pid] = buffered + chunk

    def finish(self, proc: subprocess.Popen[str], timeout: float) -> None:
        """Wait for a worker to exit on its own; kill it and fail if it does not, or if it failed."""
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(proc)
            raise AssertionError(f"worker overran its time bound: {self.stderr(proc)}") from None
        assert proc.returncode == 0, f"worker failed ({proc.returncode}): {self.stderr(proc)}"

    @staticmethod
    def kill(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdout, proc.stdin):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        for proc in self.procs:
            self.kill(proc)
        self.procs.clear()


@dataclass
class Watch:
    """A wrapper around a store's ``arun`` that records every statement run through it."""

    statements: list[Stmt] = field(default_factory=list)

    def wrap(self, store: Any) -> None:
        intercept(store.config, lambda op, operation: self._recording(op))

    def _recording(self, op: Op[Any]) -> Generator[Stmt, Any, Any]:
        try:
            stmt = next(op)
            while True:
                self.statements.append(stmt)
                result = yield stmt
                stmt = op.send(result)
        except StopIteration as stop:
            return stop.value

    def sql_containing(self, needles: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(needle, sql) for each statement text that contains a needle (case-insensitive)."""
        lowered = [needle.lower() for needle in needles if needle]
        for stmt in self.statements:
            text = stmt.sql.lower()
            for needle in lowered:
                if needle in text:
                    yield needle, stmt.sql
