"""W7 contenders: this library on one adapter per family, once at today's sizes and once at scale.

Both stores of an adapter hold the same shapes, only more of them: the same
entries per memory user, the same events per session, the same sessions per
user, and the measured memory user (:data:`SEARCH_USER`) holds the very same
entries at both sizes. Seeding goes through the library's own write paths:
memory through the store's ``add_memory_entries`` (the rows
``add_events_to_memory`` prepares, built directly so a million of them do not
have to be pydantic events first), sessions and events through the library's
own schema in bulk transactions (as W2 seeds its histories).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.session import Session

from benchmarks.contenders.adapters import Adapter, available_adapters, close_config, make_config
from benchmarks.contenders.base import APP, Endpoint, Family, Spec
from benchmarks.events import make_event, session_state
from benchmarks.memory_corpus import FillerSource, Question
from benchmarks.sizes import Sizes
from sqlspec_adk.converters import encode_event, encode_state
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Fetch, Op, Stmt, operation
from sqlspec_adk.records import EventWrite, MemoryWrite
from sqlspec_adk.service import SQLSpecSessionService
from sqlspec_adk.tokens import search_text

__all__ = ["SCALE_ADAPTERS", "SEARCH_USER", "Layout", "OursScale", "Scale", "layout", "scale_specs"]

Scale = Literal["base", "large"]
SCALES: tuple[Scale, ...] = ("base", "large")
#: The adapter each family's W7 runs on (the issue's goal names SQLite and PostgreSQL).
SCALE_ADAPTERS: dict[str, str] = {"sqlite": "aiosqlite", "postgres": "asyncpg"}
SEARCH_USER = "m-00000"
#: Sessions per session user, and events' timestamps: seq 1..n at EVENT_EPOCH + seq seconds.
SESSIONS_PER_USER = 100
SESSION_EPOCH = 1_600_000_000.0
EVENT_EPOCH = 1_650_000_000.0
MEMORY_EPOCH = 1_700_000_000.0
MEMORY_BATCH = 2_000
EVENT_CHUNK = 10_000
_TEMPLATE_ID = "e-template-0000"
_TEMPLATE_TS = 1234567890.5


@dataclass(frozen=True, slots=True)
class Layout:
    """How many of everything one W7 store holds."""

    memory: int
    memory_users: int
    sessions: int
    event_sessions: int
    events_per_session: int

    @property
    def events(self) -> int:
        return self.event_sessions * self.events_per_session

    @property
    def idle_sessions(self) -> int:
        """Sessions without events: they hold the oldest update times (retention removes 10% of all sessions)."""
        return self.sessions - self.event_sessions


def layout(sizes: Sizes, scale: Scale) -> Layout:
    per_session = sizes.scale_events // sizes.scale_event_sessions
    per_user = sizes.scale_memory // sizes.scale_memory_users
    if scale == "large":
        return Layout(
            sizes.scale_memory, sizes.scale_memory_users, sizes.scale_sessions, sizes.scale_event_sessions, per_session
        )
    return Layout(
        sizes.base_memory,
        max(1, sizes.base_memory // per_user),
        sizes.base_sessions,
        sizes.base_event_sessions,
        per_session,
    )


def session_id(index: int) -> str:
    return f"s-{index:06d}"


def session_user(index: int) -> str:
    return f"u-{index // SESSIONS_PER_USER:05d}"


def event_session(shape: Layout, number: int) -> int:
    """The session index of the ``number``-th session holding events (they follow the idle ones)."""
    return shape.idle_sessions + number


class _EventJson:
    """Event JSON from a few encoded templates, their id and timestamp replaced (a million pydantic dumps
    would take minutes); every result decodes as an ``Event`` (checked after seeding by the reads)."""

    def __init__(self) -> None:
        self.templates = []
        for index in range(4):
            event = make_event(index, invocation_id="seed", timestamp=_TEMPLATE_TS)
            event.id = _TEMPLATE_ID
            text = encode_event(event)
            assert text.count(_TEMPLATE_ID) == 1 and text.count(repr(_TEMPLATE_TS)) == 1, text
            self.templates.append((text, event.invocation_id, event.author))

    def row(self, sessions: Any, keys: tuple[str, str, str], seq: int, event_id: str, timestamp: float) -> Any:
        text, invocation, author = self.templates[seq % len(self.templates)]
        encoded = text.replace(_TEMPLATE_ID, event_id).replace(repr(_TEMPLATE_TS), repr(timestamp))
        return sessions.event_params(keys, seq, EventWrite(event_id, invocation, author, timestamp, encoded))


def _sessions_op(dialect: Any, first: int, last: int, shape: Layout, events: _EventJson) -> Op[None]:
    """One transaction: sessions ``first..last-1``; those holding events get them and their revision."""
    sessions = dialect.sessions
    rows = [
        (APP, session_user(k), session_id(k), encode_state(session_state(k)), SESSION_EPOCH, SESSION_EPOCH + k / 1000)
        for k in range(first, last)
    ]
    yield Stmt(sessions.insert_session_sql, rows, many=True)
    with_events = [k for k in range(first, last) if k >= shape.idle_sessions]
    if not with_events:
        return
    per = shape.events_per_session
    event_rows = [
        events.row(sessions, (APP, session_user(k), session_id(k)), seq, f"e{k:06d}-{seq:04d}", EVENT_EPOCH + seq)
        for k in with_events
        for seq in range(1, per + 1)
    ]
    yield Stmt(sessions.insert_event_sql, event_rows, many=True)
    yield Stmt(
        f"UPDATE {dialect.session_table} SET revision = ? WHERE app_name = ? AND user_id = ? AND id = ?",
        [(per, APP, session_user(k), session_id(k)) for k in with_events],
        many=True,
    )


def _memory_write(index: int, user: int, text: str, timestamp: float) -> MemoryWrite:
    content = json.dumps({"parts": [{"text": text}], "role": "user"}, ensure_ascii=False, separators=(",", ":"))
    return MemoryWrite(
        app_name=APP,
        user_id=f"m-{user:05d}",
        event_id=f"w7-{index:08d}",
        session_id=f"ms-{user:05d}",
        author="user",
        timestamp=timestamp,
        content_json=content,
        custom_metadata_json=None,
        search_text=search_text(text),
    )


def memory_rows(shape: Layout, facts: list[Question]) -> Iterator[list[MemoryWrite]]:
    """Batches of :data:`MEMORY_BATCH` rows, user after user: entry ``i`` (timestamp ``MEMORY_EPOCH + i``)
    belongs to memory user ``i % users``, so every user's entries span the whole time range and retention
    of the oldest 10% takes a tenth of everyone's. The search user's entries (``facts`` spread among them)
    come from their own seeded source, the same at every scale; everyone else's are filler.

    Loaded user by user (each user's rows are adjacent in the ``(app, user, ...)`` indexes): a bulk load
    in time order would scatter every batch over every user's index pages, which is a property of the
    load order, not of the table size. :func:`interleaved_rows` measures that ingest separately.
    """
    own, others = FillerSource(1), FillerSource(2)
    users = shape.memory_users
    per_user = shape.memory // users
    spacing = max(1, per_user // (len(facts) + 1))
    fact_at = {spacing * (number + 1): question.fact for number, question in enumerate(facts)}
    batch: list[MemoryWrite] = []
    for user in range(users):
        for position in range(per_user):
            index = position * users + user
            if user == 0:
                text = fact_at.get(position) or own.text()
            else:
                text = others.text()
            batch.append(_memory_write(index, user, text, MEMORY_EPOCH + index))
            if len(batch) == MEMORY_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def interleaved_rows(shape: Layout, batches: int, size: int, start: int = 0) -> Iterator[list[MemoryWrite]]:
    """New entries arriving as they would live: one batch spans every user (entry ``j`` to user ``j % users``),
    newer than everything seeded."""
    source = FillerSource(3)
    offset = shape.memory + 1_000_000_000
    for number in range(start, start + batches):
        first = offset + number * size
        yield [
            _memory_write(j, (j - offset) % shape.memory_users, source.text(), MEMORY_EPOCH + j)
            for j in range(first, first + size)
        ]


class OursScale:
    """This library's session and memory stores on one adapter, at one scale."""

    spec: Spec
    #: Pages of 100 in the app's session list (set by the walk to the last page).
    pages: int | None = None

    def __init__(self, adapter: Adapter, scale: Scale, sizes: Sizes, endpoint: Endpoint) -> None:
        from sqlspec_adk.memory.service import SQLSpecMemoryService

        self.scale = scale
        self.shape = layout(sizes, scale)
        self.config = make_config(adapter, endpoint, memory_max_results=20)
        _, session_store, memory_store, _ = adapter.classes()
        self.store = session_store(self.config)
        self.memory = memory_store(self.config)
        self.sessions = SQLSpecSessionService(self.store)
        self.memories = SQLSpecMemoryService(self.memory)

    async def open(self) -> None:
        await call(self.store.create_tables)
        await call(self.memory.create_tables)

    async def close(self) -> None:
        await close_config(self.config)

    # ---------------------------------------------------------------- seeding
    async def seed_memory(self, facts: list[Question], on_batch: Callable[[int, int], None]) -> None:
        """Every memory row, batch by batch through ``add_memory_entries``; ``on_batch(rows, ns)`` times each."""
        for batch in memory_rows(self.shape, facts):
            start = time.perf_counter_ns()
            await call(self.memory.add_memory_entries, batch, replace=False)
            on_batch(len(batch), time.perf_counter_ns() - start)

    async def ingest_live(self, batches: int, size: int, on_batch: Callable[[int, int], None], start: int = 0) -> None:
        """Timed ingest into the loaded store: ``batches`` calls of ``size`` entries spread over every user
        (``start``: the number of the first batch, so calls made one by one write new entries)."""
        for batch in interleaved_rows(self.shape, batches, size, start):
            start = time.perf_counter_ns()
            await call(self.memory.add_memory_entries, batch, replace=False)
            on_batch(len(batch), time.perf_counter_ns() - start)

    async def seed_sessions(self, on_chunk: Callable[[int, int], None]) -> None:
        """Every session (idle ones first) and every event, in bulk transactions; ``on_chunk(events, ns)``."""
        dialect = self.config.dialect
        events = _EventJson()
        shape = self.shape
        step_idle = 5_000
        step_events = max(1, EVENT_CHUNK // shape.events_per_session)
        start = 0
        while start < shape.sessions:
            step = step_idle if start < shape.idle_sessions else step_events
            end = min(shape.sessions, start + step)
            if start < shape.idle_sessions < end:
                end = shape.idle_sessions
            first, last = start, end
            began = time.perf_counter_ns()
            await self.config.arun(
                operation("seed", partial(_sessions_op, dialect, first, last, shape, events), write=True)
            )
            with_events = max(0, last - max(first, shape.idle_sessions))
            if with_events:
                on_chunk(with_events * shape.events_per_session, time.perf_counter_ns() - began)
            start = end

    async def settle(self) -> str | None:
        """After the bulk load: PostgreSQL ANALYZEs every table (autovacuum does within about a minute);
        SQLite checkpoints the WAL, so the live ingest measured next does not pay for copying the bulk
        load's pages back (the first automatic checkpoint after the load would)."""
        dialect = self.config.dialect
        if dialect.family == "sqlite":

            def checkpoint() -> Op[Any]:
                row = yield Stmt("PRAGMA wal_checkpoint(TRUNCATE)", (), Fetch.ONE)
                return row

            busy, _, _ = await self.config.arun(operation("checkpoint", checkpoint, write=False))
            return None if busy else "PRAGMA wal_checkpoint(TRUNCATE)"
        if dialect.family != "postgresql":
            return None
        tables = [dialect.session_table, dialect.events_table, dialect.memory.memory_table]

        def analyze() -> Op[None]:
            for table in tables:
                yield Stmt(f"ANALYZE {table}", ())

        await self.config.arun(operation("analyze", analyze, write=True))
        return "ANALYZE"

    # ------------------------------------------------------------ operations
    async def search(self, query: str) -> list[str]:
        response = await self.memories.search_memory(app_name=APP, user_id=SEARCH_USER, query=query)
        texts = []
        for memory in response.memories:
            parts = memory.content.parts or [] if memory.content else []
            texts.append(" ".join(part.text or "" for part in parts))
        return texts

    async def get(self, number: int) -> Session | None:
        k = event_session(self.shape, number % self.shape.event_sessions)
        return await self.sessions.get_session(
            app_name=APP,
            user_id=session_user(k),
            session_id=session_id(k),
            config=GetSessionConfig(num_recent_events=20),
        )

    async def page(self, token: str | None) -> tuple[int, str | None]:
        response, following = await self.sessions.list_sessions_page(app_name=APP, page_size=100, page_token=token)
        return len(response.sessions), following

    async def last_page_token(self) -> tuple[str | None, int]:
        """The token of the app's last page of 100 sessions and the number of pages (walked, untimed)."""
        token: str | None = None
        previous: str | None = None
        pages = 0
        while True:
            _, following = await self.page(token)
            pages += 1
            if following is None:
                return token, pages
            previous, token = token, following
        return previous, pages  # pragma: no cover

    async def append(self, session: Session, index: int) -> Session:
        await self.sessions.append_event(session, make_event(index, invocation_id="w7"))
        return session

    async def delete_events(self) -> int:
        """Retention: the oldest 10% of events (seq 1..n/10 of every session)."""
        cutoff = EVENT_EPOCH + self.shape.events_per_session // 10 + 0.5
        return await self.sessions.delete_events_before(before=cutoff, app_name=APP)

    async def delete_sessions(self) -> int:
        """Retention: the 10% of sessions updated longest ago (idle ones, no events)."""
        cutoff = SESSION_EPOCH + (self.shape.sessions // 10) / 1000 - 0.0005
        return await self.sessions.delete_idle_sessions(before=cutoff, app_name=APP)

    async def delete_memory(self) -> int:
        """Retention: the oldest 10% of memory entries."""
        cutoff = MEMORY_EPOCH + self.shape.memory // 10 - 0.5
        return await call(self.memory.delete_memory_before, before=cutoff, app_name=APP)


def scale_specs(family: Family, sizes: Sizes) -> list[Spec]:
    """Two contenders per family (today's sizes and scale) on its :data:`SCALE_ADAPTERS` adapter."""
    name = SCALE_ADAPTERS.get(family)
    adapter = next((a for a in available_adapters() if a.name == name), None)
    if adapter is None:
        return []
    return [
        Spec(
            f"w7-{adapter.name}-{scale}",
            "ours",
            family,
            adapter.name,
            f"sqlspec-adk {adapter.name}, " + ("today's sizes" if scale == "base" else "at scale"),
            partial(OursScale, adapter, scale, sizes),
            "none",
            variant=scale,
        )
        for scale in SCALES
    ]
