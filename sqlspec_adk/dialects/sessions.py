"""Session SQL, written once for every family: sessions, events, app and user state.

Each operation states its keyword API and maps its results here, once; the
storage work is a smaller step (:meth:`SessionSQL.insert_session`,
:meth:`SessionSQL.select_session`, :meth:`SessionSQL.select_session_page`,
:meth:`SessionSQL.write_event`, :meth:`SessionSQL.merge_scoped_state`) that a
family overrides where it can do better (one-round-trip appends, atomic JSON
merges, row locks).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError

from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.common import EVENT_KEY_ROOM, DialectCore
from sqlspec_adk.errors import EventConflictError
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import (
    AppendResult,
    EventRecord,
    EventWrite,
    Expected,
    SessionPage,
    SessionRecord,
    SessionSnapshot,
)

__all__ = [
    "MAX_RANGES",
    "STALE_MESSAGE",
    "Redelivery",
    "SessionSQL",
    "covered_ranges",
    "decode_cursor",
    "encode_cursor",
    "session_not_found",
]

#: ADK's own wording ("modified in storage"), so code matching DatabaseSessionService's message keeps working.
STALE_MESSAGE = (
    "The session has been modified in storage since it was loaded. "
    "Please reload the session before appending more events."
)


def session_not_found(keys: tuple[str, str, str]) -> SessionNotFoundError:
    """ADK's error for an unknown (or deleted) session ``(app_name, user_id, session_id)``."""
    return SessionNotFoundError(f"Session {keys[2]!r} not found (app {keys[0]!r}, user {keys[1]!r}).")


class Redelivery(Exception):
    """An append's event row met its id already stored (:attr:`SessionSQL.redelivery_by_insert`): its
    transaction is rolled back and the store runs the append again with ``probe=True``, which reads first."""


class SessionSQL(DialectCore):
    """Session statements and operations; a family subclasses it with its own core mixin."""

    #: Whether deleting a session row deletes its events (an enforced ON DELETE CASCADE);
    #: when False the operations delete the events first, explicitly.
    cascades_events: ClassVar[bool] = False
    #: The re-delivery check of an append without a state change is the event row's unique key (its INSERT
    #: counts 0, :class:`Redelivery`) rather than a ``NOT EXISTS`` in the session's ``UPDATE``. Only where a
    #: failed statement leaves the transaction usable and the subquery costs the server (MySQL/MariaDB).
    redelivery_by_insert: ClassVar[bool] = False

    # ------------------------------------------------------------ statements
    @cached_property
    def insert_session_sql(self) -> str:
        owner = [self.owner.name] if self.owner else []
        columns = ["app_name", "user_id", "id", *owner, "state", "create_time", "update_time", "revision"]
        values = ["?", "?", "?", *("?" for _ in owner), self.json.param, "?", "?", "0"]
        return self.insert_skip_sql(self.session_table, columns, values, ("app_name", "user_id", "id"))

    @cached_property
    def select_scoped_state_sql(self) -> str:
        return (
            f"SELECT (SELECT {self.json.select('state')} FROM {self.app_state_table} WHERE app_name = ?), "
            f"(SELECT {self.json.select('state')} FROM {self.user_state_table} WHERE app_name = ? AND user_id = ?)"
            f"{self.no_table}"
        )

    @cached_property
    def select_session_sql(self) -> str:
        """Session row plus app and user state, in one statement."""
        return (
            f"SELECT {self.json.select('s.state')}, s.create_time, s.update_time, s.revision, "
            f"(SELECT {self.json.select('a.state')} FROM {self.app_state_table} a WHERE a.app_name = s.app_name), "
            f"(SELECT {self.json.select('u.state')} FROM {self.user_state_table} u "
            "WHERE u.app_name = s.app_name AND u.user_id = s.user_id) "
            f"FROM {self.session_table} s WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?"
        )

    def select_events_sql(self, *, after: bool, limit: bool) -> str:
        """Events of one session, newest first; the caller reverses them."""
        return (
            f"SELECT id, seq, timestamp, {self.json.select('event_data')} FROM {self.events_table} "
            "WHERE app_name = ? AND user_id = ? AND session_id = ?"
            + (" AND timestamp >= ?" if after else "")
            + " ORDER BY seq DESC"
            + (f" {self.limit_sql}" if limit else "")
        )

    @cached_property
    def insert_event_sql(self) -> str:
        """Insert one event; its parameters are :meth:`event_params`."""
        return (
            f"INSERT INTO {self.events_table} "
            "(app_name, user_id, session_id, seq, id, invocation_id, author, timestamp, event_data, compaction) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, {self.json.param}, ?)"
        )

    def event_params(self, keys: tuple[str, str, str], seq: int, event: EventWrite) -> tuple[Any, ...]:
        """The parameters of :attr:`insert_event_sql` for ``event`` at position ``seq``."""
        flag = self.true_value if event.compaction else self.false_value
        text = self.json.text(event.event_json)
        return (*keys, seq, event.id, event.invocation_id, event.author, event.timestamp, text, flag)

    @cached_property
    def select_app_state_sql(self) -> str:
        return f"SELECT {self.json.select('state')} FROM {self.app_state_table} WHERE app_name = ?"

    @cached_property
    def delete_session_sql(self) -> str:
        return f"DELETE FROM {self.session_table} WHERE app_name = ? AND user_id = ? AND id = ?"

    @cached_property
    def delete_session_events_sql(self) -> str:
        return f"DELETE FROM {self.events_table} WHERE app_name = ? AND user_id = ? AND session_id = ?"

    def retention_sql(self, table: str, column: str, *, by_app: bool, returning: str = "") -> str:
        """``DELETE`` of the rows of ``table`` with ``column < ?`` (and ``app_name = ?``), optionally RETURNING."""
        sql = f"DELETE FROM {table} WHERE {column} < ?" + (" AND app_name = ?" if by_app else "")
        return f"{sql} RETURNING {returning}" if returning else sql

    def idle_events_sql(self, *, by_app: bool) -> str:
        """Delete the events of sessions not updated since ``?`` (and of app ``?``)."""
        return (
            f"DELETE FROM {self.events_table} WHERE (app_name, user_id, session_id) IN "
            f"(SELECT app_name, user_id, id FROM {self.session_table} WHERE update_time < ?"
            + (" AND app_name = ?)" if by_app else ")")
        )

    def list_sessions_sql(self, *, by_user: bool, after: bool, limit: bool, owned: bool = False) -> str:
        sql = (
            f"SELECT s.user_id, s.id, {self.json.select('s.state')}, s.create_time, s.update_time, s.revision, "
            f"{self.json.select('u.state')} "
            f"FROM {self.session_table} s LEFT JOIN {self.user_state_table} u "
            "ON u.app_name = s.app_name AND u.user_id = s.user_id WHERE s.app_name = ?"
        )
        if by_user:
            sql += " AND s.user_id = ?"
        if owned and self.owner is not None:
            sql += f" AND s.{self.owner.name} = ?"
        if after:
            # The leading ``>=`` is implied by the OR; it is the bound an index range scan starts from.
            sql += (
                " AND s.update_time >= ? AND (s.update_time > ? OR (s.update_time = ? AND (s.user_id > ? "
                "OR (s.user_id = ? AND s.id > ?))))"
            )
        sql += " ORDER BY s.update_time, s.user_id, s.id"
        return sql + (f" {self.limit_sql}" if limit else "")

    def bump_sql(self, *, with_state: bool) -> str:
        """Advance a session's revision (and set its state) if it is still at revision ``?``.

        The fast path (no state read first) also checks that the event id is new: a re-delivered event
        then changes nothing, and the probe that follows tells why. Not where the event row's INSERT is
        that check (:attr:`redelivery_by_insert`).
        """
        where = "WHERE app_name = ? AND user_id = ? AND id = ? AND revision = ?"
        if with_state:
            return (
                f"UPDATE {self.session_table} SET state = {self.json.param}, revision = revision + 1, update_time = ? "
                f"{where}"
            )
        bump = f"UPDATE {self.session_table} SET revision = revision + 1, update_time = ? {where}"
        if self.redelivery_by_insert:
            return bump
        return (
            f"{bump} AND NOT EXISTS (SELECT 1 FROM {self.events_table} e WHERE e.app_name = ? AND e.user_id = ? "
            "AND e.session_id = ? AND e.id = ?)"
        )

    def select_revision_sql(self, *, newest: bool) -> str:
        """The session's revision, update time and state, the stored data of event ``?`` and (``newest``) the
        id of its newest event."""
        latest = (
            f", (SELECT n.id FROM {self.events_table} n WHERE n.app_name = s.app_name AND n.user_id = s.user_id "
            f"AND n.session_id = s.id AND n.seq = (SELECT MAX(m.seq) FROM {self.events_table} m "
            "WHERE m.app_name = s.app_name AND m.user_id = s.user_id AND m.session_id = s.id))"
            if newest
            else ""
        )
        return (
            f"SELECT s.revision, s.update_time, {self.json.select('s.state')}, "
            f"(SELECT {self.json.select('e.event_data')} FROM {self.events_table} e "
            "WHERE e.app_name = s.app_name AND e.user_id = s.user_id AND e.session_id = s.id AND e.id = ?)"
            f"{latest} FROM {self.session_table} s WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?"
        )

    # --------------------------------------------------------- state merging
    def scoped_state_target(self, scope: str) -> tuple[str, tuple[str, ...]]:
        if scope == "app":
            return self.app_state_table, ("app_name",)
        return self.user_state_table, ("app_name", "user_id")

    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Apply ``delta`` to the app or user state row, dict.update style; return the new state.

        Runs inside the caller's write transaction. This default reads, merges in
        Python and upserts, which is exact when the family's write transaction
        serializes writers (SQLite's ``BEGIN IMMEDIATE``); families with atomic
        JSON merges or row locks override it.
        """
        table, columns = self.scoped_state_target(scope)
        where = " AND ".join(f"{column} = ?" for column in columns)
        row = yield Stmt(f"SELECT {self.json.select('state')} FROM {table} WHERE {where}", keys, Fetch.ONE)
        state = self.json.read_state(row[0]) if row else {}
        state.update(delta)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        yield Stmt(
            f"INSERT INTO {table} ({names}, state, update_time) VALUES ({marks}, {self.json.param}, ?) "
            f"ON CONFLICT ({names}) DO UPDATE SET state = excluded.state, update_time = excluded.update_time",
            (*keys, self.json.state(state), now),
        )
        return state

    def session_record(self, app_name: str, user_id: str, session_id: str, values: Sequence[Any]) -> SessionRecord:
        """A session record from stored ``(state, create_time, update_time, revision)``; state may be a dict."""
        state, create_time, update_time, revision = values
        return SessionRecord(
            app_name=app_name,
            user_id=user_id,
            id=session_id,
            state=self.json.read_state(state),
            create_time=float(create_time),
            update_time=float(update_time),
            revision=int(revision),
        )

    # ------------------------------------------------------------- operations
    def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        delta: StateDelta,
        now: float,
        owner_id: Any = None,
    ) -> Op[SessionSnapshot]:
        """Insert a session at revision 0 and apply its app/user state, or raise AlreadyExistsError.

        Ids too long for the family's keys are refused first, leaving room for its events' keys."""
        owner = owner_id if self.owner else None
        self.check_key(
            "session", EVENT_KEY_ROOM, app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner
        )
        keys = (app_name, user_id, session_id)
        params: tuple[Any, ...] = (*keys, owner_id) if self.owner else keys
        params += (self.json.state(delta.session), now, now)
        states = yield from self.insert_session(keys, params, delta, now)
        if states is None:
            raise AlreadyExistsError(
                f"Session with id {session_id!r} already exists for app {app_name!r}, user {user_id!r}."
            )
        record = self.session_record(app_name, user_id, session_id, (delta.session, now, now, 0))
        return SessionSnapshot(session=record, events=[], app_state=states[0], user_state=states[1])

    def insert_session(
        self, keys: tuple[str, str, str], params: tuple[Any, ...], delta: StateDelta, now: float
    ) -> Op[tuple[dict[str, Any], dict[str, Any]] | None]:
        """Insert the session row (``params`` of :attr:`insert_session_sql`) and merge ``delta.app``/``delta.user``.

        Returns the app and user state after the merges, or None (nothing
        written) when the session already exists.
        """
        app_name, user_id, _ = keys
        inserted = yield self.insert_skip(self.insert_session_sql, params)
        if not inserted:
            return None
        app_state: dict[str, Any] | None = None
        user_state: dict[str, Any] | None = None
        if delta.app:
            app_state = yield from self.merge_scoped_state("app", (app_name,), delta.app, now)
        if delta.user:
            user_state = yield from self.merge_scoped_state("user", (app_name, user_id), delta.user, now)
        if app_state is None or user_state is None:
            row = yield Stmt(self.select_scoped_state_sql, (app_name, app_name, user_id), Fetch.ONE)
            app_state = self.json.read_state(row[0]) if app_state is None else app_state
            user_state = self.json.read_state(row[1]) if user_state is None else user_state
        return app_state, user_state

    def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None = None,
        after_timestamp: float | None = None,
        skip_compacted: bool = False,
    ) -> Op[SessionSnapshot | None]:
        """The session with its newest events (in append order) and scoped state, or None.

        ``skip_compacted``: of the raw events, only those no compaction event covers (see
        :meth:`select_uncompacted`); the compaction events themselves are always there.
        """
        keys = (app_name, user_id, session_id)
        if skip_compacted:
            found = yield from self.select_uncompacted(keys, num_recent_events, after_timestamp)
        else:
            found = yield from self.select_session(keys, num_recent_events, after_timestamp)
        if found is None:
            return None
        row, event_rows = found
        events = [
            EventRecord(id=r[0], seq=int(r[1]), timestamp=float(r[2]), event_json=self.json.read(r[3]))
            for r in event_rows
        ]
        return SessionSnapshot(
            session=self.session_record(app_name, user_id, session_id, row[:4]),
            events=events,
            app_state=self.json.read_state(row[4]),
            user_state=self.json.read_state(row[5]),
        )

    def select_session(
        self, keys: tuple[str, str, str], num_recent_events: int | None, after_timestamp: float | None
    ) -> Op[tuple[Sequence[Any], Sequence[Sequence[Any]]] | None]:
        """The session row and its events, or None when there is no such session.

        The row is ``(state, create_time, update_time, revision, app state,
        user state)``; the events are ``(id, seq, timestamp, event_data)`` rows,
        the newest ``num_recent_events`` (all when None, none when 0) at or
        after ``after_timestamp``, in append order.
        """
        row = yield Stmt(self.select_session_sql, keys, Fetch.ONE)
        if row is None:
            return None
        if num_recent_events == 0:
            return row, []
        params: tuple[Any, ...] = keys
        if after_timestamp is not None:
            params += (after_timestamp,)
        if num_recent_events is not None:
            params += (num_recent_events,)
        sql = self.select_events_sql(after=after_timestamp is not None, limit=num_recent_events is not None)
        rows = yield Stmt(sql, params, Fetch.ALL)
        return row, rows[::-1]

    def compaction_events_sql(self, *, after: bool) -> str:
        """A session's compaction events, oldest first."""
        return (
            f"SELECT id, seq, timestamp, {self.json.select('event_data')} FROM {self.events_table} "
            "WHERE app_name = ? AND user_id = ? AND session_id = ? AND compaction = ?"
            + (" AND timestamp >= ?" if after else "")
            + " ORDER BY seq"
        )

    def uncovered_events_sql(self, *, ranges: int, after: bool, limit: bool) -> str:
        """A session's other events outside ``ranges`` timestamp ranges (``?``, ``?`` each), newest first."""
        outside = "".join(" AND NOT (timestamp >= ? AND timestamp <= ?)" for _ in range(ranges))
        return (
            f"SELECT id, seq, timestamp, {self.json.select('event_data')} FROM {self.events_table} "
            f"WHERE app_name = ? AND user_id = ? AND session_id = ? AND compaction = ?{outside}"
            + (" AND timestamp >= ?" if after else "")
            + " ORDER BY seq DESC"
            + (f" {self.limit_sql}" if limit else "")
        )

    def select_uncompacted(
        self, keys: tuple[str, str, str], num_recent_events: int | None, after_timestamp: float | None
    ) -> Op[tuple[Sequence[Any], Sequence[Sequence[Any]]] | None]:
        """:meth:`select_session`, minus the raw events a compaction covers: what ADK's flow would drop anyway.

        The compaction events are read first; the timestamp ranges they cover (start to end, inclusive, as
        ADK's compaction processor reads them) are merged, and the other events are read outside them, so a
        long compacted history is never read. At most :data:`MAX_RANGES` of the widest ranges are left out
        (reading more events than needed is always safe: ADK's processor drops the covered ones itself).
        """
        row = yield Stmt(self.select_session_sql, keys, Fetch.ONE)
        if row is None:
            return None
        if num_recent_events == 0:
            return row, []
        after = after_timestamp is not None
        first: tuple[Any, ...] = (*keys, self.true_value) + ((after_timestamp,) if after else ())
        compactions = yield Stmt(self.compaction_events_sql(after=after), first, Fetch.ALL)
        ranges = covered_ranges(self.json.read(r[3]) for r in compactions)
        params: tuple[Any, ...] = (*keys, self.false_value, *(bound for pair in ranges for bound in pair))
        if after:
            params += (after_timestamp,)
        if num_recent_events is not None:
            params += (num_recent_events,)
        sql = self.uncovered_events_sql(ranges=len(ranges), after=after, limit=num_recent_events is not None)
        others = yield Stmt(sql, params, Fetch.ALL)
        merged = sorted([*compactions, *others], key=lambda event: int(event[1]))
        return row, merged if num_recent_events is None else merged[-num_recent_events:]

    def list_sessions(
        self,
        *,
        app_name: str,
        user_id: str | None,
        limit: int | None = None,
        cursor: str | None = None,
        owner: Any = None,
    ) -> Op[SessionPage]:
        """Sessions oldest-updated first (tie-break user_id, id), no events, one statement per page.

        ``owner`` (with an owner column): only that owner's sessions.
        """
        after = decode_cursor(cursor) if cursor else None
        app_state, rows = yield from self.select_session_page(app_name, user_id, limit, after, owner)
        next_cursor = None
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(float(last[4]), last[0], last[1])
        user_states: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r[0] not in user_states:
                user_states[r[0]] = self.json.read_state(r[6])
        return SessionPage(
            sessions=[self.session_record(app_name, r[0], r[1], r[2:6]) for r in rows],
            app_state=self.json.read_state(app_state),
            user_states=user_states,
            next_cursor=next_cursor,
        )

    def select_session_page(
        self,
        app_name: str,
        user_id: str | None,
        limit: int | None,
        after: tuple[float, str, str] | None,
        owner: Any = None,
    ) -> Op[tuple[Any, Sequence[Sequence[Any]]]]:
        """The app state value (None when unset) and one page of session rows, ``limit + 1`` at most.

        Rows are ``(user_id, id, state, create_time, update_time, revision,
        user state)`` in list order, starting after the ``(update_time,
        user_id, id)`` of ``after``; the extra row tells that a next page exists.
        """
        params: list[Any] = [app_name]
        if user_id is not None:
            params.append(user_id)
        if self.scoped(owner):
            params.append(owner)
        if after is not None:
            update_time, after_user, after_id = after
            params += [update_time, update_time, update_time, after_user, after_user, after_id]
        if limit is not None:
            params.append(limit + 1)
        sql = self.list_sessions_sql(
            by_user=user_id is not None, after=after is not None, limit=limit is not None, owned=self.scoped(owner)
        )
        rows = yield Stmt(sql, params, Fetch.ALL)
        app_row = yield Stmt(self.select_app_state_sql, (app_name,), Fetch.ONE)
        return (app_row[0] if app_row else None), rows

    def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> Op[int]:
        """Delete a session and its events (explicitly first, unless the family cascades); returns 0 or 1."""
        keys = (app_name, user_id, session_id)
        if not self.cascades_events:
            yield Stmt(self.delete_session_events_sql, keys)
        deleted: int = yield Stmt(self.delete_session_sql, keys, Fetch.ROWCOUNT)
        return deleted

    @cached_property
    def select_owned_sql(self) -> str:
        assert self.owner is not None
        return (
            f"SELECT COUNT(*) FROM {self.session_table} WHERE app_name = ? AND user_id = ? AND id = ? "
            f"AND {self.owner.name} = ?"
        )

    def session_owned(self, keys: tuple[str, str, str], owner: Any) -> Op[bool]:
        """Whether the session exists and belongs to ``owner`` (a session's owner never changes)."""
        row = yield Stmt(self.select_owned_sql, (*keys, owner), Fetch.ONE)
        return bool(row and int(row[0]))

    def get_scoped_state(self, *, app_name: str, user_id: str) -> Op[tuple[dict[str, Any], dict[str, Any]]]:
        """(app state, user state), unprefixed; empty dicts when none is stored."""
        row = yield Stmt(self.select_scoped_state_sql, (app_name, app_name, user_id), Fetch.ONE)
        return self.json.read_state(row[0]), self.json.read_state(row[1])

    def bump_session(
        self,
        keys: tuple[str, str, str],
        expected: Expected,
        session_delta: Mapping[str, Any],
        event: EventWrite,
        probe: bool = False,
    ) -> Op[int | AppendResult]:
        """Advance the session row for one append and return the new revision (or the re-delivery's result).

        The stale check is the ``WHERE revision = ?`` of the UPDATE itself, run
        inside the append transaction, so of two writers holding the same
        revision exactly one matches a row. A session object without a marker
        is accepted when storage did not move on since its update time, or when
        its newest event is storage's newest (as ADK's ``DatabaseSessionService``
        accepts a session rebuilt from JSON).

        Without a session-state change (most events) the UPDATE goes first and
        the row is read only when it matched nothing, to tell a missing session,
        a re-delivered event and a stale session apart: one statement fewer on
        the common path. ``probe``: read the row first (an append run again after
        its event row met a stored id, :class:`Redelivery`).
        """
        if expected.revision is not None and not session_delta and not probe:
            params = self.bump_params(keys, expected.revision, event)
            changed = yield Stmt(self.bump_sql(with_state=False), params, Fetch.ROWCOUNT)
            if changed == 1:
                return expected.revision + 1
        newest = expected.revision is None
        row = yield Stmt(self.select_revision_sql(newest=newest), (event.id, *keys), Fetch.ONE)
        if row is None:
            raise session_not_found(keys)
        revision = int(row[0])
        if row[3] is not None:
            return self.redelivered(keys, revision, row[3], event)
        if expected.revision is not None:
            if revision != expected.revision:
                raise StaleSessionError(STALE_MESSAGE)
        elif float(row[1]) > expected.update_time and row[4] != expected.last_event_id:
            raise StaleSessionError(STALE_MESSAGE)
        if session_delta:
            state = self.json.read_state(row[2])
            state.update(session_delta)
            params = (self.json.state(state), event.timestamp, *keys, revision)
        else:
            params = self.bump_params(keys, revision, event)
        changed = yield Stmt(self.bump_sql(with_state=bool(session_delta)), params, Fetch.ROWCOUNT)
        if changed != 1:
            raise StaleSessionError(STALE_MESSAGE)
        return revision + 1

    def bump_params(self, keys: tuple[str, str, str], revision: int, event: EventWrite) -> tuple[Any, ...]:
        """The parameters of ``bump_sql(with_state=False)``."""
        if self.redelivery_by_insert:
            return (event.timestamp, *keys, revision)
        return (event.timestamp, *keys, revision, *keys, event.id)

    def redelivered(self, keys: tuple[str, str, str], revision: int, stored: Any, event: EventWrite) -> AppendResult:
        """An event whose id the session already holds: a no-op when it is the same event, else EventConflictError."""
        text = self.json.read(stored)
        if isinstance(text, bytes | bytearray | memoryview):
            text = bytes(text).decode("utf-8")
        same = (json.loads(text) if isinstance(text, str) else text) == json.loads(event.event_json)
        if not same:
            raise EventConflictError(
                f"event {event.id!r} is already stored in session {keys[2]!r} (app {keys[0]!r}, user {keys[1]!r}) "
                "with different content; an event id names one event"
            )
        return AppendResult(revision=revision, stored_event_json=text if isinstance(text, str) else json.dumps(text))

    def append_event(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        expected: Expected,
        event: EventWrite,
        delta: StateDelta,
        probe: bool = False,
    ) -> Op[AppendResult]:
        """One append, all or nothing: stale check, session state, event row, app/user state.

        Returns the session's new revision (also the event's ``seq``). An event whose id the session
        already holds changes nothing: the same event returns the stored one (``stored_event_json``),
        another one raises ``EventConflictError``. Raises ``SessionNotFoundError`` for an unknown
        session and ``StaleSessionError`` when the session changed since ``expected``.
        """
        # The events' unique index: (app, user, session, event id), with seq where the family adds the key.
        self.check_key("event", 8, app_name=app_name, user_id=user_id, session_id=session_id, event_id=event.id)
        keys = (app_name, user_id, session_id)
        return (yield from self.write_event(keys, expected, event, delta, probe))

    def write_event(
        self, keys: tuple[str, str, str], expected: Expected, event: EventWrite, delta: StateDelta, probe: bool = False
    ) -> Op[AppendResult]:
        """The writes of :meth:`append_event`: bump the session, insert the event, merge app/user state.

        With :attr:`redelivery_by_insert`, an event row that meets a stored id raises :class:`Redelivery`
        (or, on a ``probe`` run, which read first and found none, ``StaleSessionError``: the session moved).
        """
        app_name, user_id, _ = keys
        bumped = yield from self.bump_session(keys, expected, delta.session, event, probe)
        if isinstance(bumped, AppendResult):
            return bumped
        # Nothing below reads the events table, so a batch may send this row with its other members' rows
        # (then it is sent None here; a row that fails there makes the batch run again unfused).
        params = self.event_params(keys, bumped, event)
        if not self.redelivery_by_insert:
            yield Stmt(self.insert_event_sql, params, deferrable=True)
        elif (yield Stmt(self.insert_event_sql, params, Fetch.ROWCOUNT, duplicate_is_zero=True, deferrable=True)) == 0:
            if probe:
                raise StaleSessionError(STALE_MESSAGE)
            raise Redelivery(event.id)
        if delta.app:
            yield from self.merge_scoped_state("app", (app_name,), delta.app, event.timestamp)
        if delta.user:
            yield from self.merge_scoped_state("user", (app_name, user_id), delta.user, event.timestamp)
        return AppendResult(revision=bumped)

    def delete_events_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Delete events with ``timestamp < before`` (optionally one app); return the count."""
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        sql = self.retention_sql(self.events_table, "timestamp", by_app=app_name is not None)
        count: int = yield Stmt(sql, params, Fetch.ROWCOUNT)
        return count

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Delete sessions not updated since ``before`` (and their events); return the count."""
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        if not self.cascades_events:
            yield Stmt(self.idle_events_sql(by_app=app_name is not None), params)
        sql = self.retention_sql(self.session_table, "update_time", by_app=app_name is not None)
        count: int = yield Stmt(sql, params, Fetch.ROWCOUNT)
        return count

    def count_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[tuple[int, int]]:
        """Retention dry run: (sessions not updated since ``before``, their events), optionally of one app."""
        by_app = " AND s.app_name = ?" if app_name is not None else ""
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        events = yield Stmt(
            f"SELECT COUNT(*) FROM {self.events_table} e WHERE EXISTS (SELECT 1 FROM {self.session_table} s "
            "WHERE s.app_name = e.app_name AND s.user_id = e.user_id AND s.id = e.session_id "
            f"AND s.update_time < ?{by_app})",
            params,
            Fetch.ONE,
        )
        sessions = yield Stmt(
            f"SELECT COUNT(*) FROM {self.session_table} s WHERE s.update_time < ?{by_app}", params, Fetch.ONE
        )
        return int(sessions[0]), int(events[0])

    def count_events_before(
        self, *, before: float, app_name: str | None = None, idle_before: float | None = None
    ) -> Op[int]:
        """Retention dry run: events older than ``before``, leaving out those of sessions idle since ``idle_before``."""
        sql = f"SELECT COUNT(*) FROM {self.events_table} e WHERE e.timestamp < ?"
        params: tuple[Any, ...] = (before,)
        if app_name is not None:
            sql, params = f"{sql} AND e.app_name = ?", (*params, app_name)
        if idle_before is not None:
            sql += (
                f" AND NOT EXISTS (SELECT 1 FROM {self.session_table} s WHERE s.app_name = e.app_name "
                "AND s.user_id = e.user_id AND s.id = e.session_id AND s.update_time < ?)"
            )
            params += (idle_before,)
        row = yield Stmt(sql, params, Fetch.ONE)
        return int(row[0])

    def statements(self) -> list[str]:
        """Every fixed statement text of this part (for parse checks)."""
        texts = [
            self.insert_session_sql,
            self.select_scoped_state_sql,
            self.select_session_sql,
            self.insert_event_sql,
            self.select_app_state_sql,
            self.delete_session_sql,
            self.delete_session_events_sql,
            self.select_revision_sql(newest=False),
            self.select_revision_sql(newest=True),
            self.bump_sql(with_state=False),
            self.bump_sql(with_state=True),
        ]
        for first in (False, True):
            for second in (False, True):
                texts.append(self.select_events_sql(after=first, limit=second))
                texts += [
                    self.list_sessions_sql(by_user=by_user, after=first, limit=second) for by_user in (False, True)
                ]
            texts.append(self.idle_events_sql(by_app=first))
            texts.append(self.compaction_events_sql(after=first))
            texts += [self.uncovered_events_sql(ranges=n, after=first, limit=second) for n in (0, 2)]
        return texts


def encode_cursor(update_time: float, user_id: str, session_id: str) -> str:
    """An opaque, URL-safe list_sessions cursor."""
    raw = json.dumps([update_time, user_id, session_id], ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> tuple[float, str, str]:
    """Inverse of :func:`encode_cursor`; a malformed cursor is a clear ValueError."""
    try:
        update_time, user_id, session_id = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        return float(update_time), str(user_id), str(session_id)
    except (ValueError, TypeError, UnicodeError) as error:
        raise ValueError(f"list_sessions cursor {cursor!r} is not one this library issued") from error


#: Most timestamp ranges :meth:`SessionSQL.select_uncompacted` leaves out of one read.
MAX_RANGES = 16


def covered_ranges(event_datas: Iterable[Any]) -> list[tuple[float, float]]:
    """The merged (start, end) timestamp ranges the compaction events' summaries cover, widest kept first."""
    spans: list[tuple[float, float]] = []
    for data in event_datas:
        if isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data).decode("utf-8")
        event = json.loads(data) if isinstance(data, str) else data
        compaction = (event.get("actions") or {}).get("compaction") or {}
        start = compaction.get("start_timestamp", compaction.get("startTimestamp"))
        end = compaction.get("end_timestamp", compaction.get("endTimestamp"))
        if isinstance(start, int | float) and isinstance(end, int | float) and start <= end:
            spans.append((float(start), float(end)))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return sorted(merged, key=lambda span: span[0] - span[1])[:MAX_RANGES]
