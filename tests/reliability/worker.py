"""Worker processes of the reliability checks: ``python -m tests.reliability.worker MODE ...`` (cwd = repo root).

Modes:

- ``torture``: ``--tasks`` writers, each with its own config and pool (drivers
  rotating over the ``--target`` options), append
  events to shared sessions until ``--seconds`` pass; a StaleSessionError is
  retried after reloading the session. Journals intents, acknowledgements,
  refusals and errors, then a summary per writer.
- ``crash``: one writer appends events (creating sessions now and then) while
  a second task saves artifacts, forever; the parent kills it with SIGKILL.
  ``--stall`` pauses between statements so kills land mid-transaction.
- ``forkserver``: imports everything once, then forks a ``crash`` child per
  line of JSON arguments read from stdin and prints ``CHILD <pid>``; children
  are reaped by the kernel (``SIGCHLD`` ignored). Kill loops restart writers
  in milliseconds instead of paying the imports every time.
- ``lock``: holds an exclusive SQLite lock until stdin closes or ``--hold``
  seconds pass (or the parent kills it).

Every mode arms ``SIGALRM`` (``--max-seconds``), so a worker whose parent
vanished still exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.reliability.support import Journal

# The ADK and driver imports take seconds; only the modes that use them pay (``lock`` starts at once).


def say(line: str) -> None:
    """One protocol line on stdout in one ``write(2)``: the fork server and its children share the pipe."""
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def _error_fields(error: BaseException) -> dict[str, str]:
    return {"type": f"{type(error).__module__}.{type(error).__name__}", "msg": str(error)[:500]}


async def _torture_writer(args: argparse.Namespace, task: int, journal: Journal, shared: dict[str, Any]) -> None:
    from google.adk.errors import StaleSessionError

    from tests.reliability.support import EMPTY_SESSION_CONFIG, Stack, Target, event_id, make_event

    # Task t of process p uses target (p + t) mod n: every driver runs in every process.
    target = Target.from_json(args.target[(args.index + task) % len(args.target)])
    writer = f"{args.name}t{task}"
    rng = random.Random(f"{args.seed}-{writer}")
    sessions: list[tuple[str, str]] = [tuple(pair) for pair in json.loads(args.sessions)]
    # --shared: the process's writers on one target share one config, so their appends meet in group commit.
    stack = shared.setdefault(target.adapter, Stack(target, group_commit=True)) if args.shared else Stack(target)
    service = stack.sessions
    cache: dict[tuple[str, str], Any] = {}
    acked = retries = errors = refused = 0
    seq = 0
    started = time.monotonic()
    deadline = started + args.seconds
    try:
        while time.monotonic() < deadline:
            user, session_id = rng.choice(sessions)
            seq += 1
            eid = event_id(writer, seq)
            journal.write("intent", eid=eid, uid=user, sid=session_id, w=writer, seq=seq)
            while True:
                try:
                    session = cache.get((user, session_id))
                    if session is None:
                        session = await service.get_session(
                            app_name=args.app, user_id=user, session_id=session_id, config=EMPTY_SESSION_CONFIG
                        )
                        cache[(user, session_id)] = session
                    await service.append_event(session, make_event(writer, seq))
                except StaleSessionError:
                    retries += 1
                    cache.pop((user, session_id), None)
                    if time.monotonic() > deadline + 5:
                        journal.write("refused", eid=eid)
                        refused += 1
                        break
                    continue
                except Exception as error:
                    errors += 1
                    cache.pop((user, session_id), None)
                    journal.write("error", eid=eid, w=writer, **_error_fields(error))
                    break
                journal.write("ack", eid=eid)
                acked += 1
                break
    finally:
        elapsed = time.monotonic() - started
        journal.write(
            "summary",
            w=writer,
            adapter=target.adapter,
            appends=acked,
            retries=retries,
            errors=errors,
            refused=refused,
            seconds=round(elapsed, 3),
        )
        if not args.shared:
            await stack.close()


async def torture(args: argparse.Namespace) -> None:
    from tests.reliability.support import Journal, Stack, Target, initial_state

    if args.setup:  # the tables and sessions, created here when no other process may open the database
        stack = Stack(Target.from_json(args.target[0]))
        try:
            await stack.create_tables()
            for user, session_id in json.loads(args.sessions):
                await stack.sessions.create_session(
                    app_name=args.app, user_id=user, session_id=session_id, state=initial_state(session_id)
                )
        finally:
            await stack.close()
    journal = Journal(Path(args.journal))
    shared: dict[str, Stack] = {}
    try:
        await asyncio.gather(*(_torture_writer(args, task, journal, shared) for task in range(args.tasks)))
    finally:
        for stack in shared.values():
            await stack.close()
        journal.close()
    say("DONE")


async def crash(args: argparse.Namespace) -> None:
    """Append and save forever (until killed), journaling every step."""
    from google.genai import types

    from tests.reliability.support import (
        ARTIFACT_MIME,
        EMPTY_SESSION_CONFIG,
        Journal,
        Stack,
        Target,
        blob,
        event_id,
        initial_state,
        install_stall,
        make_event,
    )

    target = Target.from_json(args.target)
    writer = f"r{args.run:04d}"
    rng = random.Random(f"{args.seed}-{writer}")
    journal = Journal(Path(args.journal))
    sessions: list[tuple[str, str]] = [tuple(pair) for pair in json.loads(args.sessions)]
    users = [f"u{index}" for index in range(args.users)]
    stack = Stack(target)
    service = stack.sessions
    if args.stall:
        install_stall(service.store, args.stall, rng)
    artifacts = stack.artifacts if args.artifacts else None
    if artifacts is not None and args.stall:
        install_stall(artifacts.store, args.stall, rng)
    say("READY")

    async def appends() -> None:
        seq = 0
        created = 0
        cache: dict[tuple[str, str], Any] = {}
        while True:
            if not sessions or rng.random() < 0.08:
                created += 1
                key = (rng.choice(users), f"{writer}-s{created}")
                journal.write("create_intent", uid=key[0], sid=key[1])
                try:
                    cache[key] = await service.create_session(
                        app_name=args.app, user_id=key[0], session_id=key[1], state=initial_state(key[1])
                    )
                except Exception as error:
                    journal.write("error", op="create", sid=key[1], **_error_fields(error))
                    continue
                journal.write("created", uid=key[0], sid=key[1])
                sessions.append(key)
                continue
            key = rng.choice(sessions)
            seq += 1
            eid = event_id(writer, seq)
            journal.write("intent", eid=eid, uid=key[0], sid=key[1], w=writer, seq=seq)
            try:
                session = cache.get(key)
                if session is None:
                    session = await service.get_session(
                        app_name=args.app, user_id=key[0], session_id=key[1], config=EMPTY_SESSION_CONFIG
                    )
                    cache[key] = session
                await service.append_event(session, make_event(writer, seq))
            except Exception as error:
                cache.pop(key, None)
                journal.write("error", eid=eid, **_error_fields(error))
                continue
            journal.write("ack", eid=eid)

    async def saves() -> None:
        assert artifacts is not None
        seq = 0
        while True:
            seq += 1
            user = rng.choice(users)
            filename = rng.choice(["a.bin", "b.bin", "user:u.bin"])
            session_id = None if filename.startswith("user:") else rng.choice(["art-1", "art-2"])
            size = rng.choice([0, 1, 700, 40_000, 150_000])
            journal.write("artifact_intent", w=writer, seq=seq, uid=user, sid=session_id, file=filename, size=size)
            try:
                version = await artifacts.save_artifact(
                    app_name=args.app,
                    user_id=user,
                    filename=filename,
                    session_id=session_id,
                    artifact=types.Part(inline_data=types.Blob(mime_type=ARTIFACT_MIME, data=blob(writer, seq, size))),
                    custom_metadata={"w": writer, "seq": seq, "size": size},
                )
            except Exception as error:
                journal.write("error", op="artifact", seq=seq, **_error_fields(error))
                continue
            journal.write("artifact_ack", w=writer, seq=seq, version=version)

    await asyncio.gather(appends(), *([saves()] if artifacts is not None else []))


def lock(args: argparse.Namespace) -> None:
    """Hold an exclusive lock on a SQLite database until stdin closes or ``--hold`` seconds pass."""
    connection = sqlite3.connect(args.database, isolation_level=None, timeout=10)
    connection.execute("BEGIN EXCLUSIVE")
    say("LOCKED")
    signal.alarm(max(1, int(args.hold)))
    sys.stdin.read()  # returns when the parent closes stdin; SIGALRM ends the process otherwise
    connection.execute("ROLLBACK")
    connection.close()
    say("RELEASED")


def forkserver(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Fork one ``crash`` child per stdin line (a JSON list of arguments) until stdin closes."""
    import sqlspec_adk.artifact.service
    import sqlspec_adk.service  # noqa: F401
    from tests.reliability.support import Target

    for name in filter(None, args.preload.split(",")):
        Target(name, {}, {}).spec.classes()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed children
    say("SERVING")
    for line in sys.stdin:
        child_args = parser.parse_args(json.loads(line))
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.alarm(child_args.max_seconds)
            try:
                asyncio.run(crash(child_args))
            finally:
                os._exit(1)
        say(f"CHILD {pid}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.worker")
    sub = parser.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--max-seconds", type=int, default=120, help="hard bound: SIGALRM ends the worker")
    t = sub.add_parser("torture", parents=[common])
    t.add_argument("--target", required=True, action="append", help="repeat: the writers rotate over targets")
    t.add_argument("--journal", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--index", type=int, default=0)
    t.add_argument("--tasks", type=int, default=2)
    t.add_argument("--seconds", type=float, default=5.0)
    t.add_argument("--app", required=True)
    t.add_argument("--sessions", required=True)
    t.add_argument("--seed", default="0")
    t.add_argument("--setup", action="store_true", help="create the tables and sessions first")
    t.add_argument("--shared", action="store_true", help="writers of a target share one config, group commit on")
    c = sub.add_parser("crash", parents=[common])
    c.add_argument("--target", required=True)
    c.add_argument("--journal", required=True)
    c.add_argument("--run", type=int, required=True)
    c.add_argument("--app", required=True)
    c.add_argument("--sessions", default="[]")
    c.add_argument("--users", type=int, default=2)
    c.add_argument("--stall", type=float, default=0.0)
    c.add_argument("--artifacts", type=int, default=1)
    c.add_argument("--seed", default="0")
    lk = sub.add_parser("lock", parents=[common])
    lk.add_argument("--database", required=True)
    lk.add_argument("--hold", type=float, default=30.0)
    fs = sub.add_parser("forkserver", parents=[common])
    fs.add_argument("--preload", default="", help="comma-separated adapter names to import before forking")
    args = parser.parse_args(argv)
    signal.alarm(args.max_seconds)
    if args.mode == "forkserver":
        forkserver(args, parser)
    elif args.mode == "torture":
        asyncio.run(torture(args))
    elif args.mode == "crash":
        asyncio.run(crash(args))
    else:
        lock(args)


if __name__ == "__main__":
    main()
