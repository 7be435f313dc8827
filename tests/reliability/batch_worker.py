"""The child of the group-commit crash test: ``python -m tests.reliability.batch_worker ...`` (cwd = repo root).

``--tasks`` writers, one session each, append to one shared config (group commit
on) until the parent kills the process. Journaled with one ``write(2)`` each:
``intent`` before an append, ``ack`` after it returned, and ``batch`` (its
number and the event ids of its appends) when a batch transaction starts. When
a batch of at least ``--announce`` appends reaches its ``COMMIT``, the child
prints ``COMMITTING <batch> <size>`` on stdout and goes on: the parent kills it
a moment later, during or around that commit.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextvars
import itertools
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlspec_adk.engine import group as group_module
from sqlspec_adk.engine.batch import Ticket
from sqlspec_adk.engine.transaction import Inspector, Plan
from sqlspec_adk.protocol import Operation, TransactionRules
from tests.reliability.support import Journal, Stack, Target, event_id, initial_state, make_event

_appending: contextvars.ContextVar[str | None] = contextvars.ContextVar("appending", default=None)


def say(line: str) -> None:
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def _journaled(journal: Journal, events: dict[int, str], announce: int) -> Any:
    """The engine's batch plan, journaling each batch's appends first and announcing big batches' COMMIT."""
    original = group_module.batch_transaction
    numbers = itertools.count(1)

    def batch_transaction(tickets: Sequence[Ticket[Any]], rules: TransactionRules, driver: Inspector) -> Plan[None]:
        number = next(numbers)
        ids = [events[id(ticket.operation)] for ticket in tickets if id(ticket.operation) in events]
        journal.write("batch", n=number, ids=ids)
        plan = original(tickets, rules, driver)
        result: Any = None
        while True:
            try:
                call = plan.send(result)
            except StopIteration as stop:
                return stop.value
            if call[0] == "command" and call[1][-1] == rules.commit and len(ids) >= announce:
                say(f"COMMITTING {number} {len(ids)}")
            result = yield call

    return batch_transaction


async def main(args: argparse.Namespace) -> None:
    target = Target.from_json(args.target)
    journal = Journal(Path(args.journal))
    # A sync adapter's callers wait on worker threads: enough of them for every writer at once.
    asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(args.tasks + 8))
    stack = Stack(target, group_commit=True)
    config, service = stack.config, stack.sessions
    events: dict[int, str] = {}  #: id(operation) -> the event id it appends
    original_arun = config.arun

    def note(operation: Operation[Any]) -> None:
        eid = _appending.get()
        if eid is not None and operation.name == "append_event":
            events[id(operation)] = eid

    # The service's appends reach ``arun`` on every config (a sync config batches them on the loop); ``run``
    # is wrapped too, so a sync store's direct calls would be journaled as well.
    async def arun(operation: Operation[Any]) -> Any:
        note(operation)
        return await original_arun(operation)

    config.arun = arun  # type: ignore[method-assign]
    if not config.is_async:
        original_run = config.run

        def run(operation: Operation[Any]) -> Any:
            note(operation)
            return original_run(operation)

        config.run = run
    group_module.batch_transaction = _journaled(journal, events, args.announce)  # type: ignore[assignment]
    writers = [f"r{args.run:03d}w{task:02d}" for task in range(args.tasks)]
    sessions = []
    for writer in writers:
        sessions.append(
            await service.create_session(
                app_name=args.app, user_id="u0", session_id=f"{writer}-s", state=initial_state(writer)
            )
        )
    say("READY")

    async def append(index: int) -> None:
        writer, session = writers[index], sessions[index]
        for seq in itertools.count(1):
            eid = event_id(writer, seq)
            journal.write("intent", eid=eid, uid="u0", sid=session.id, w=writer, seq=seq)
            _appending.set(eid)
            await service.append_event(session, make_event(writer, seq))
            journal.write("ack", eid=eid)

    await asyncio.gather(*(append(index) for index in range(len(writers))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.batch_worker")
    parser.add_argument("--target", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--announce", type=int, default=32)
    parser.add_argument("--max-seconds", type=int, default=60)
    arguments = parser.parse_args()
    signal.alarm(arguments.max_seconds)  # a child whose parent vanished still exits
    asyncio.run(main(arguments))
