"""Group commit on every adapter that has it: what a batch does to each of its callers.

Each test holds the config's group as if a write transaction were in flight
(:class:`Held`), so the appends it starts queue up and then run as one batch,
deterministically; then it checks every caller's outcome and what storage
holds. Families without group commit (no ``SAVEPOINT ... RELEASE`` here, or no
server to measure on) refuse ``group_commit=True`` at construction and skip;
so does PostgreSQL, whose append is one autocommit statement (never batched).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.sessions.session import Session

from sqlspec_adk.converters import from_marker, to_marker
from sqlspec_adk.engine.batch import Ticket
from sqlspec_adk.engine.group import AsyncGroup, SyncGroup
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Op, Operation
from sqlspec_adk.records import Expected
from tests.helpers import event

APP = "app"
USER = "u"


def _nothing() -> Op[None]:
    return None
    yield  # a generator


class Held:
    """While inside, the group behaves as if every slot ran a write transaction: arrivals queue."""

    def __init__(self, config: Any, group: SyncGroup | AsyncGroup | None = None) -> None:
        self.group: SyncGroup | AsyncGroup = group or appends_group(config)
        assert self.group is not None

    async def __aenter__(self) -> Held:
        group = self.group
        self.queue = group._queue if isinstance(group, SyncGroup) else group._current()[0]
        self.held = 0
        while self.queue.arrive(Ticket(Operation("hold", _nothing, True))):
            self.held += 1
        self.queue.withdraw(self.queue._waiting[-1])  # the arrival that found every slot taken
        assert self.held == group.slots
        return self

    async def queued(self, count: int) -> None:
        """Wait until ``count`` operations wait in the queue (sync callers arrive from worker threads)."""
        deadline = time.monotonic() + 20
        while len(self.queue._waiting) < count:
            assert time.monotonic() < deadline, f"{len(self.queue._waiting)} of {count} queued"
            await asyncio.sleep(0.005)

    async def start(self, *calls: Callable[[], Coroutine[Any, Any, Any]]) -> list[asyncio.Task[Any]]:
        """Start each call once the previous one is queued, so the batch holds them in this order."""
        tasks = []
        for call in calls:
            tasks.append(asyncio.create_task(call()))
            await self.queued(len(tasks))
        return tasks

    def release(self) -> None:
        """One held transaction ended: what queued runs now, as the next batch, in its slot."""
        assert self.held > 0
        self.held -= 1
        group = self.group
        # A slot that ends takes only its share of what waits (ceil(waiting / slots)): here it takes all of
        # it, so a test's arrivals form one batch on any pool size.
        slots, self.queue.slots = self.queue.slots, 1
        try:
            if isinstance(group, SyncGroup):
                group._hand_off()
            else:
                group._hand_off(self.queue, asyncio.get_running_loop())
        finally:
            self.queue.slots = slots

    async def __aexit__(self, *exc: object) -> None:
        while self.held:
            self.release()


def appends_group(config: Any) -> Any:
    """The group a service's appends wait in: a sync config's loop group (its callers are tasks too)."""
    return config.group_commit if config.is_async else config.loop_group_commit


def grouped(backend: Any, **adk: Any) -> Any:
    try:
        config = backend.config(group_commit=True, **adk)
    except ConfigError as error:
        pytest.skip(f"{backend.name}: {error}")
    if config.dialect.rules.alone_autocommit:  # PostgreSQL: an append is one autocommit statement
        pytest.skip(f"{backend.name}: appends are lone autocommit statements, never batched")
    return config


def twin(session: Session, revision: int | None = None) -> Session:
    """Another caller's copy of ``session`` (as loaded at ``revision``, default: the same one)."""
    copy = session.model_copy(deep=True)
    marker = session._storage_update_marker if revision is None else to_marker(revision)
    copy._storage_update_marker = marker
    return copy


async def texts(service: Any, session_id: str) -> list[str]:
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session_id)
    assert loaded is not None
    return [e.content.parts[0].text for e in loaded.events if e.content and e.content.parts]


async def test_one_batch_isolates_a_stale_member_and_orders_two_appends_to_one_session(backend: Any) -> None:
    """A stale append fails alone; the others commit together; of two appends to one session in the
    batch, the second sees the first's revision, exactly as in sequence (and a copy still at the old
    revision is stale, as in sequence)."""
    config = grouped(backend)
    service = await backend.sessions(config)
    one = await service.create_session(app_name=APP, user_id=USER, session_id="one", state={"n": 0})
    two = await service.create_session(app_name=APP, user_id=USER, session_id="two")
    revision = from_marker(one._storage_update_marker)
    assert revision is not None
    stale_two = twin(two, revision=from_marker(two._storage_update_marker) + 5)  # type: ignore[operator]
    after_first = twin(one, revision=revision + 1)  # as if loaded after the first append
    before_first = twin(one)
    async with Held(config) as held:
        tasks = await held.start(
            lambda: service.append_event(one, event("first", delta={"n": 1, "user:seen": 1})),
            lambda: service.append_event(stale_two, event("stale")),
            lambda: service.append_event(after_first, event("second", delta={"n": 2, "app:k": "v"})),
            lambda: service.append_event(before_first, event("late")),
            lambda: service.append_event(two, event("other session")),
        )
        stats = held.group.stats.transactions
        held.release()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert held.group.stats.transactions == stats + 1  # the five ran as one batch
    assert held.group.stats.largest >= 5
    first, stale, second, late, other = outcomes
    assert isinstance(stale, StaleSessionError) and isinstance(late, StaleSessionError)
    assert not isinstance(first, BaseException) and not isinstance(second, BaseException)
    assert not isinstance(other, BaseException)
    assert await texts(service, "one") == ["first", "second"]
    assert await texts(service, "two") == ["other session"]
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="one")
    assert loaded is not None and loaded.state == {"n": 2, "user:seen": 1, "app:k": "v"}
    assert from_marker(loaded._storage_update_marker) == revision + 2
    await service.append_event(loaded, event("after the batch"))  # the markers handed back are right


async def test_a_failed_commit_fails_every_caller_of_the_batch_and_writes_nothing(
    backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = grouped(backend)
    service = await backend.sessions(config)
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"s{k}") for k in range(3)]
    armed = {"commit": False}

    class InjectedCommitFailure(Exception):
        pass

    def failing(original: Callable[..., Any]) -> Callable[..., Any]:
        def command(*args: Any) -> Any:
            if args[-1] == config.dialect.rules.commit and armed["commit"]:
                armed["commit"] = False
                raise InjectedCommitFailure("COMMIT refused (injected)")  # not sent: the server rolls back
            return original(*args)

        async def acommand(*args: Any) -> Any:
            if args[-1] == config.dialect.rules.commit and armed["commit"]:
                armed["commit"] = False
                raise InjectedCommitFailure("COMMIT refused (injected)")
            return await original(*args)

        return acommand if asyncio.iscoroutinefunction(original) else command

    if backend.name == "aiosqlite":  # its plans run in the connection's thread, on this driver
        from sqlspec_adk.adapters.aiosqlite import config as aiosqlite_config

        held_driver = aiosqlite_config._Held
        monkeypatch.setattr(held_driver, "command", failing(held_driver.command))
    else:
        monkeypatch.setattr(config, "command", failing(config.command))
    async with Held(config) as held:
        tasks = await held.start(
            *(lambda s=s: service.append_event(s, event("lost", delta={"k": 1})) for s in sessions)
        )
        armed["commit"] = True
        held.release()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(outcome, InjectedCommitFailure) for outcome in outcomes), outcomes
    for session in sessions:
        loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
        assert loaded is not None and loaded.events == [] and loaded.state == {}
        assert loaded._storage_update_marker == session._storage_update_marker
        await service.append_event(loaded, event("works again"))


async def test_cancelling_one_caller_never_cancels_the_others(backend: Any) -> None:
    """A caller cancelled while it waits in the queue is withdrawn (its append never runs); one
    cancelled after its batch took it gets the cancellation, but its append commits with the batch.
    (A sync config's service callers wait on the event loop too: only a batch runs on a thread.)
    """
    config = grouped(backend)
    service = await backend.sessions(config)
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"s{k}") for k in range(4)]
    async with Held(config) as held:
        tasks = await held.start(*(lambda s=s: service.append_event(s, event(f"to {s.id}")) for s in sessions))
        tasks[1].cancel()  # still waiting in the queue
        await asyncio.sleep(0.05)
        held.release()
        tasks[2].cancel()  # taken into the batch, which has not finished yet
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[1], asyncio.CancelledError) and isinstance(outcomes[2], asyncio.CancelledError)
    assert not isinstance(outcomes[0], BaseException) and not isinstance(outcomes[3], BaseException)
    assert await texts(service, "s0") == ["to s0"]
    assert await texts(service, "s2") == ["to s2"]  # cancelled inside its batch: committed with it
    assert await texts(service, "s3") == ["to s3"]
    assert await texts(service, "s1") == []  # withdrawn from the queue: never ran


async def test_a_sync_store_called_on_threads_batches_in_its_thread_group(backend: Any) -> None:
    """Called directly on threads (not through the service), a sync store's appends wait in the config's
    thread group: one batch, a stale member failing alone, a thread that cannot be withdrawn."""
    config = grouped(backend)
    if config.is_async:
        pytest.skip(f"{backend.name}: an async config's callers are tasks")
    service = await backend.sessions(config)
    store = service.store
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"t{k}") for k in range(3)]

    def append(session: Session, text: str, ahead: int = 0) -> Any:
        revision = from_marker(session._storage_update_marker)
        assert revision is not None
        expected = Expected(revision=revision + ahead, update_time=session.last_update_time, last_event_id=None)
        return store.append_event(
            app_name=APP, user_id=USER, session_id=session.id, expected=expected, event=event(text)
        )

    async with Held(config, config.group_commit) as held:
        tasks = await held.start(
            lambda: asyncio.to_thread(append, sessions[0], "first"),
            lambda: asyncio.to_thread(append, sessions[1], "stale", 5),
            lambda: asyncio.to_thread(append, sessions[2], "third"),
        )
        transactions = held.group.stats.transactions
        held.release()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert held.group.stats.transactions == transactions + 1  # the three ran as one batch
    first, stale, third = outcomes
    assert isinstance(stale, StaleSessionError)
    assert not isinstance(first, BaseException) and first.revision == 1
    assert not isinstance(third, BaseException) and third.revision == 1
    assert await texts(service, "t0") == ["first"]
    assert await texts(service, "t1") == []
    assert await texts(service, "t2") == ["third"]


async def test_a_batch_holds_at_most_group_commit_max_operations(backend: Any) -> None:
    config = grouped(backend, group_commit_max=2)
    service = await backend.sessions(config)
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"s{k}") for k in range(5)]
    before = appends_group(config).stats
    transactions = before.transactions
    async with Held(config) as held:
        tasks = await held.start(*(lambda s=s: service.append_event(s, event("capped")) for s in sessions))
        held.release()
        await asyncio.gather(*tasks)
    stats = appends_group(config).stats
    assert stats.largest == 2
    # The holds, then the released slot's batch of 2; then each batch that ends takes its slot's share
    # of what waits, at most 2 (one slot: 2 + 2 + 1).
    sizes, waiting = [2], 3
    while waiting:
        sizes.append(min(2, -(-waiting // held.group.slots)))
        waiting -= sizes[-1]
    assert stats.transactions - transactions == held.group.slots + len(sizes)
    for session in sessions:
        assert await texts(service, session.id) == ["capped"]


async def test_reads_do_not_wait_for_the_write_in_flight(backend: Any) -> None:
    config = grouped(backend)
    service = await backend.sessions(config)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="r", state={"k": "v"})
    async with Held(config) as held:
        task = (await held.start(lambda: service.append_event(session, event("queued"))))[0]
        loaded = await asyncio.wait_for(service.get_session(app_name=APP, user_id=USER, session_id="r"), 10)
        assert loaded is not None and loaded.state == {"k": "v"} and not task.done()
        held.release()
        await task
    assert await texts(service, "r") == ["queued"]


async def test_many_sessions_appending_at_once_over_every_slot_lose_nothing(backend: Any) -> None:
    """Free-running: 16 sessions append at once, each event also writing the shared app and user state rows,
    so batches in different slots contend for the same rows (a deadlock retries the batch, never fails it)."""
    config = grouped(backend)
    service = await backend.sessions(config)
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"m{k}") for k in range(16)]
    group = appends_group(config)
    before = group.stats.operations

    async def appends(session: Session) -> None:
        for n in range(6):
            delta = {"app:last": f"{session.id}-{n}", "user:last": n, "mine": n}
            await asyncio.wait_for(service.append_event(session, event(f"{session.id}-{n}", delta=delta)), 60)

    await asyncio.gather(*(appends(session) for session in sessions))
    assert group.stats.operations - before == 16 * 6
    for session in sessions:
        assert await texts(service, session.id) == [f"{session.id}-{n}" for n in range(6)]
        loaded = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
        assert loaded is not None and loaded.state["mine"] == 5 and loaded.state["user:last"] == 5
    assert str(loaded.state["app:last"]).endswith("-5")


async def test_a_redelivery_and_a_reused_id_in_one_batch_decide_alone(backend: Any) -> None:
    """Events without a state change, held back and sent together: one batch holds new events of three
    sessions, an event re-delivered on its up-to-date session object (a no-op returning the stored event)
    and an id reused for other content (refused); the new events commit, nothing else changes."""
    config = grouped(backend)
    service = await backend.sessions(config)
    sessions = [await service.create_session(app_name=APP, user_id=USER, session_id=f"f{k}") for k in range(4)]
    stored = event("stored")
    await service.append_event(sessions[0], stored)
    revision = sessions[0]._storage_update_marker
    reused = event("other content")
    reused.id = stored.id
    async with Held(config) as held:
        tasks = await held.start(
            lambda: service.append_event(sessions[1], event("new one")),
            lambda: service.append_event(sessions[0], stored.model_copy(deep=True)),
            lambda: service.append_event(sessions[2], event("new two")),
            lambda: service.append_event(twin(sessions[0]), reused),
            lambda: service.append_event(sessions[3], event("new three")),
        )
        held.release()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    new_one, again, new_two, refused, new_three = outcomes
    assert not any(isinstance(outcome, BaseException) for outcome in (new_one, again, new_two, new_three))
    assert again.id == stored.id and again.content == stored.content  # type: ignore[union-attr]
    assert type(refused).__name__ == "EventConflictError"
    assert [await texts(service, f"f{k}") for k in range(4)] == [["stored"], ["new one"], ["new two"], ["new three"]]
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="f0")
    assert loaded is not None and loaded._storage_update_marker == revision
    assert loaded.last_update_time == stored.timestamp
