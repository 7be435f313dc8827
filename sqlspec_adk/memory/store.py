"""The memory store contract, async and sync.

Mirrors :mod:`sqlspec_adk.store`: :class:`MemoryStoreBase` validates each call
and turns ADK objects into rows once (:mod:`sqlspec_adk.memory.rows`), before
any connection is touched; the async and sync stores run the prepared
operation (``dialect.memory``) through their config.

Entries are keyed per ``(app_name, user_id, event_id)``; the memory id callers
see is that ``event_id`` (the ADK event id, or an explicit entry's id).

With ``memory_embedder`` set, ingest and search are plans of embedder calls
and operations (:mod:`sqlspec_adk.memory.semantic`): vectors are computed
before the write transaction and written with their rows, and
``memory_search_mode`` (``semantic``/``hybrid``) ranks by them. The embedder's
identity (name, dimensions) is recorded in the metadata table by
``create_tables`` and the first write with vectors; a store whose embedder
differs from the recorded one refuses to search or write
(:class:`~sqlspec_adk.errors.EmbedderMismatchError`, naming ``sqlspec-adk memory reembed``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from google.adk.platform import time as platform_time

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.converters import check_key_text
from sqlspec_adk.dialects.memory_vectors import parse_identity
from sqlspec_adk.errors import ConfigError, EmbedderMismatchError
from sqlspec_adk.lifecycle import AsyncLifecycle, SyncLifecycle
from sqlspec_adk.memory.embedders.base import embed_documents, embed_query, embedder_identity
from sqlspec_adk.memory.rows import check_scope, encode_metadata, entry_write, event_write
from sqlspec_adk.memory.semantic import (
    EMBED_CHARS,
    Await,
    Step,
    drive_async,
    drive_sync,
    one,
    run_coroutine_sync,
    vector_search,
)
from sqlspec_adk.memory.vector_cache import VectorCache
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import upgrade, upgrade_sync
from sqlspec_adk.protocol import Op, Operation, operation
from sqlspec_adk.records import MemoryRecord, MemoryWrite
from sqlspec_adk.tokens import query_tokens

if TYPE_CHECKING:
    from google.adk.events.event import Event
    from google.adk.memory.memory_entry import MemoryEntry

__all__ = ["BaseAsyncADKMemoryStore", "BaseSyncADKMemoryStore", "MemoryStoreBase"]

T = TypeVar("T")
C = TypeVar("C", bound=DatabaseConfig)
#: Event ids per "which are stored already" read (every family takes this many in one IN list).
_IDS_PER_READ = 400
Plan = Generator[Step, Any, T]
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig[Any])


class MemoryStoreBase(Generic[C]):
    """Memory operations prepared for one config; shared by the async and sync stores.

    Raises ``ConfigError`` when the config disables memory, or asks for
    full-text search on a dialect without it, or vector search on one that
    stores no vectors.
    """

    component: ClassVar[str] = "memory"

    def __init__(self, config: C) -> None:
        if not config.adk.enable_memory:
            raise ConfigError("extension_config['adk']['enable_memory'] is false: this config has no memory table")
        self.config = config
        self.dialect = config.dialect
        self.sql = config.dialect.memory
        _ = self.sql.memory_fts  # an impossible memory_use_fts fails here, not at the first search
        self.max_results: int = config.adk.memory_max_results
        self.embedder = config.adk.memory_embedder
        self.search_mode: str = config.adk.memory_search_mode
        if self.embedder is not None and not self.sql.stores_vectors:
            raise ConfigError(
                f"extension_config['adk']['memory_embedder'] is set, but {type(self.sql).__name__} does not "
                "store vectors yet; leave memory_embedder unset for this backend"
            )
        #: The stored vectors this store ranks itself (families without vector distance in SQL).
        self.vector_cache = VectorCache(config.adk.memory_vector_cache_mb * 1024 * 1024)
        #: The embedder's (name, dimensions), once its model is loaded.
        self.identity: tuple[str, int] | None = None
        self._identity_checked = False
        self._identity_recorded = False

    def _op(self, name: str, build: Any, *, write: bool) -> Operation[Any]:
        return operation(name, build, write=write, table=self.config.adk.memory_table)

    def _add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> Operation[None]:
        writes = self._unique_writes(entries, replace=replace)
        return self._op("add_memory_entries", lambda: self.sql.add_memory_entries(writes, replace=replace), write=True)

    def _unique_writes(self, entries: Sequence[MemoryWrite], *, replace: bool) -> list[MemoryWrite]:
        """``entries`` checked, one per key (the first when duplicates are ignored, the last when they replace)."""
        unique: dict[tuple[str, str, str], MemoryWrite] = {}
        for entry in entries:
            check_key_text(
                app_name=entry.app_name,
                user_id=entry.user_id,
                session_id=entry.session_id,
                memory_id=entry.event_id,
                author=entry.author,
            )
            key = (entry.app_name, entry.user_id, entry.event_id)
            # One statement must not touch a row twice: the first write wins
            # when duplicates are ignored, the last when they replace.
            if replace or key not in unique:
                unique[key] = entry
        return list(unique.values())

    def _add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None,
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> Operation[None]:
        return self._add_memory_entries(
            self._event_writes(app_name, user_id, events, session_id, custom_metadata, owner_id), replace=False
        )

    def _event_writes(
        self,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None,
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> list[MemoryWrite]:
        check_scope(app_name, user_id, session_id)
        metadata = encode_metadata(custom_metadata)
        return [
            write
            for event in events
            if (write := event_write(event, app_name, user_id, session_id, metadata, owner_id)) is not None
        ]

    def _entry_writes(
        self,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> list[MemoryWrite]:
        check_scope(app_name, user_id, None)
        now = platform_time.get_time()
        return [entry_write(entry, app_name, user_id, custom_metadata, owner_id, now) for entry in memories]

    def _add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None,
        owner_id: Any,
    ) -> tuple[Operation[None], list[str]]:
        writes = self._entry_writes(app_name, user_id, memories, custom_metadata, owner_id)
        return self._add_memory_entries(writes, replace=True), [write.event_id for write in writes]

    def _search_limit(self, limit: int | None) -> int:
        if limit is None:
            return self.max_results
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        return limit

    def _search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None, owner_id: Any = None
    ) -> Operation[list[MemoryRecord]]:
        """The lexical search as one operation (every mode's search: :meth:`_search_plan`)."""
        check_scope(app_name, user_id, None)
        tokens, most = query_tokens(query), self._search_limit(limit)

        def build() -> Op[list[MemoryRecord]]:
            if not tokens:
                return []  # nothing can match: no statement, no connection
            return (
                yield from self.sql.search_memory(
                    app_name=app_name, user_id=user_id, tokens=tokens, limit=most, owner=owner_id
                )
            )

        return self._op("search_memory", build, write=False)

    # ---------------------------------------------------------------- plans
    def _identity_plan(self) -> Plan[tuple[str, int]]:
        """The embedder's identity, checked once against the recorded one (a mismatch is refused)."""
        assert self.embedder is not None
        embedder = self.embedder
        if self.identity is None:
            self.identity = yield Await(lambda: embedder_identity(embedder))
        identity = self.identity
        if not self._identity_checked:
            row = yield self._op("memory_identity", partial(one, self.sql.identity_stmt()), write=False)
            recorded = parse_identity(row[0]) if row else None
            if recorded is not None and recorded != identity:
                raise EmbedderMismatchError(recorded, identity, self.config.adk.memory_table)
            self._identity_checked = True
        return identity

    def _open_plan(self) -> Plan[None]:
        """After ``create_tables``: record the embedder (or refuse a database whose vectors another one made)."""
        if self.embedder is None:
            return
        identity = yield from self._identity_plan()
        yield self._op("memory_identity", lambda: self.sql.record_identity(*identity), write=True)
        self._identity_recorded = True

    def _stored_ids(self, writes: Sequence[MemoryWrite]) -> Op[set[tuple[str, str, str]]]:
        """The keys among ``writes`` that have a row (a tombstone included)."""
        found: set[tuple[str, str, str]] = set()
        scopes: dict[tuple[str, str], list[str]] = {}
        for write in writes:
            scopes.setdefault((write.app_name, write.user_id), []).append(write.event_id)
        for (app_name, user_id), ids in scopes.items():
            for start in range(0, len(ids), _IDS_PER_READ):
                rows = yield self.sql.existing_ids_stmt(app_name, user_id, ids[start : start + _IDS_PER_READ])
                found.update((app_name, user_id, str(row[0])) for row in rows)
        return found

    def _ingest_plan(self, entries: Sequence[MemoryWrite], *, replace: bool) -> Plan[None]:
        """Embed what is new (one call), then write rows and vectors in one transaction."""
        writes = self._unique_writes(entries, replace=replace)
        if not writes:
            return
        identity: tuple[str, int] | None = None
        if self.embedder is not None:
            embedder = self.embedder
            identity = yield from self._identity_plan()
            todo = writes
            if not replace:  # a stored event is left as it is: never embed it again
                stored = yield self._op("memory_stored_ids", partial(self._stored_ids, writes), write=False)
                todo = [w for w in writes if (w.app_name, w.user_id, w.event_id) not in stored]
            texted = [w for w in todo if w.text.strip()]
            if texted:
                texts = [w.text[:EMBED_CHARS] for w in texted]
                vectors = yield Await(lambda: embed_documents(embedder, texts))
                embedded = {id(w): tuple(v) for w, v in zip(texted, vectors, strict=True)}
                writes = [dataclasses.replace(w, embedding=embedded[id(w)]) if id(w) in embedded else w for w in writes]
            else:
                identity = None  # no vector written: nothing to record
        record = identity if identity is not None and not self._identity_recorded else None

        def build() -> Op[None]:
            if record is not None:
                yield from self.sql.record_identity(*record)
            yield from self.sql.add_memory_entries(writes, replace=replace)

        yield self._op("add_memory_entries", build, write=True)
        if record is not None:
            self._identity_recorded = True

    def _search_plan(
        self, *, app_name: str, user_id: str, query: str, limit: int | None, owner_id: Any
    ) -> Plan[list[MemoryRecord]]:
        """The search of this store's mode: lexical (one operation), or an embedded query and one operation."""
        if self.search_mode == "lexical" or self.embedder is None:
            lexical = self._search_memory(
                app_name=app_name, user_id=user_id, query=query, limit=limit, owner_id=owner_id
            )
            found: list[MemoryRecord] = yield lexical
            return found
        check_scope(app_name, user_id, None)
        most, tokens = self._search_limit(limit), query_tokens(query)
        if not tokens:
            return []  # nothing to search for, in every mode
        embedder = self.embedder
        yield from self._identity_plan()
        text = query[:EMBED_CHARS]
        vector = yield Await(lambda: embed_query(embedder, text))
        mode = self.search_mode

        def build() -> Op[list[MemoryRecord]]:
            return (
                yield from vector_search(
                    self.sql,
                    self.vector_cache,
                    mode=mode,
                    app_name=app_name,
                    user_id=user_id,
                    owner=owner_id,
                    tokens=tokens,
                    vector=vector,
                    limit=most,
                )
            )

        records: list[MemoryRecord] = yield self._op("search_memory", build, write=False)
        return records

    def _delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any) -> Operation[int]:
        check_scope(app_name, user_id, None)
        if not isinstance(memory_id, str) or not memory_id:
            raise ValueError(f"memory_id must be a non-empty string, got {memory_id!r}")
        check_key_text(memory_id=memory_id)
        return self._op(
            "delete_memory",
            lambda: self.sql.delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner=owner_id),
            write=True,
        )

    def _delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None, owner_id: Any
    ) -> Operation[int]:
        check_scope(app_name, user_id, session_id)
        return self._op(
            "delete_user_memory",
            lambda: self.sql.delete_user_memory(
                app_name=app_name, user_id=user_id, session_id=session_id, owner=owner_id
            ),
            write=True,
        )

    def _delete_memory_before(self, *, before: float, app_name: str | None) -> Operation[int]:
        cutoff = float(before)
        return self._op(
            "delete_memory_before", lambda: self.sql.delete_memory_before(before=cutoff, app_name=app_name), write=True
        )


class BaseAsyncADKMemoryStore(MemoryStoreBase[AC], AsyncLifecycle[AC]):
    """Memory store over an async driver."""

    async def _arun(self, operation: Operation[T]) -> T:
        if self.embedder is not None and self.identity is None:
            # Loaded off the event loop before anything may ask for its dimensions (the schema's options do).
            self.identity = await embedder_identity(self.embedder)
        return await super()._arun(operation)

    async def _drive(self, plan: Plan[T]) -> T:
        return await drive_async(plan, self._arun)

    async def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it.

        With an embedder, record it (or refuse a database whose vectors another embedder made).
        """
        if self.embedder is not None and self.identity is None:
            self.identity = await embedder_identity(self.embedder)
        version = await upgrade(self.config)
        mark_current(self.config)
        await self._drive(self._open_plan())
        return version

    async def add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> None:
        """Store prepared rows; ``replace``: an entry with a stored id replaces it (else the stored row stays)."""
        await self._drive(self._ingest_plan(entries, replace=replace))

    async def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> None:
        """Store the events that have searchable text; an event already stored (or deleted) is left alone."""
        writes = self._event_writes(app_name, user_id, events, session_id, custom_metadata, owner_id)
        await self._drive(self._ingest_plan(writes, replace=False))

    async def add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> list[str]:
        """Store explicit entries, replacing any stored with the same id; returns each entry's memory id."""
        writes = self._entry_writes(app_name, user_id, memories, custom_metadata, owner_id)
        await self._drive(self._ingest_plan(writes, replace=True))
        return [write.event_id for write in writes]

    async def search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None = None, owner_id: Any = None
    ) -> list[MemoryRecord]:
        """Entries of one app and user (and owner) for any text ``query``, best first, at most ``limit``."""
        plan = self._search_plan(app_name=app_name, user_id=user_id, query=query, limit=limit, owner_id=owner_id)
        return await self._drive(plan)

    async def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any = None) -> int:
        """Delete one entry by memory id (it stays deleted when its session is added again); returns 0 or 1."""
        op = self._delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner_id=owner_id)
        return await self._arun(op)

    async def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> int:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        op = self._delete_user_memory(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return await self._arun(op)

    async def delete_memory_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: remove entries whose timestamp is before ``before`` (epoch seconds); returns the count."""
        return await self._arun(self._delete_memory_before(before=before, app_name=app_name))


class BaseSyncADKMemoryStore(MemoryStoreBase[SC], SyncLifecycle[SC]):
    """Memory store over a sync driver: the same operations, run on the calling thread (embedder calls on
    the process's embedder loop, see :func:`~sqlspec_adk.memory.semantic.run_coroutine_sync`)."""

    def _run(self, operation: Operation[T]) -> T:
        if self.embedder is not None and self.identity is None:
            embedder = self.embedder
            self.identity = run_coroutine_sync(lambda: embedder_identity(embedder))
        return super()._run(operation)

    def _drive(self, plan: Plan[T]) -> T:
        return drive_sync(plan, self._run)

    def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it.

        With an embedder, record it (or refuse a database whose vectors another embedder made).
        """
        if self.embedder is not None and self.identity is None:
            embedder = self.embedder
            self.identity = run_coroutine_sync(lambda: embedder_identity(embedder))
        version = upgrade_sync(self.config)
        mark_current(self.config)
        self._drive(self._open_plan())
        return version

    def add_memory_entries(self, entries: Sequence[MemoryWrite], *, replace: bool) -> None:
        """Store prepared rows; ``replace``: an entry with a stored id replaces it (else the stored row stays)."""
        self._drive(self._ingest_plan(entries, replace=replace))

    def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> None:
        """Store the events that have searchable text; an event already stored (or deleted) is left alone."""
        writes = self._event_writes(app_name, user_id, events, session_id, custom_metadata, owner_id)
        self._drive(self._ingest_plan(writes, replace=False))

    def add_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        memories: Sequence[MemoryEntry],
        custom_metadata: Mapping[str, object] | None = None,
        owner_id: Any = None,
    ) -> list[str]:
        """Store explicit entries, replacing any stored with the same id; returns each entry's memory id."""
        writes = self._entry_writes(app_name, user_id, memories, custom_metadata, owner_id)
        self._drive(self._ingest_plan(writes, replace=True))
        return [write.event_id for write in writes]

    def search_memory(
        self, *, app_name: str, user_id: str, query: str, limit: int | None = None, owner_id: Any = None
    ) -> list[MemoryRecord]:
        """Entries of one app and user (and owner) for any text ``query``, best first, at most ``limit``."""
        plan = self._search_plan(app_name=app_name, user_id=user_id, query=query, limit=limit, owner_id=owner_id)
        return self._drive(plan)

    def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner_id: Any = None) -> int:
        """Delete one entry by memory id (it stays deleted when its session is added again); returns 0 or 1."""
        op = self._delete_memory(app_name=app_name, user_id=user_id, memory_id=memory_id, owner_id=owner_id)
        return self._run(op)

    def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> int:
        """Remove every entry of a user (or of one of their sessions) for good; returns the count."""
        op = self._delete_user_memory(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return self._run(op)

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> int:
        """Retention: remove entries whose timestamp is before ``before`` (epoch seconds); returns the count."""
        return self._run(self._delete_memory_before(before=before, app_name=app_name))
