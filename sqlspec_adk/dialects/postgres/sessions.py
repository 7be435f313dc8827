"""PostgreSQL session SQL: every session operation is one statement, sent alone (no BEGIN/COMMIT).

- ``append_event`` is one statement: data-modifying CTEs run the
  revision-checked ``UPDATE ... RETURNING``, insert the event and upsert
  app/user state with ``state || delta`` (jsonb ``||`` keeps null values,
  which is exactly ``dict.update``). The stale check is the UPDATE's
  ``WHERE revision = ?``, so of two writers holding the same revision exactly
  one wins; the atomic ``||`` upserts lose no concurrent app:/user: write.
- ``create_session`` inserts the row and merges app/user state for the
  inserted row only; ``get_session`` reads the row, the newest N events (as
  arrays) and the app and user state; ``list_sessions`` is keyset paged on an
  index and carries the app state in the same statement; deletes are counted
  in the statement itself (see :func:`~sqlspec_adk.dialects.postgres.core.counted`).
- Events go by the ``ON DELETE CASCADE`` of their foreign key.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from google.adk.errors import StaleSessionError

from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.postgres.core import PostgresCore, alone, counted, memoized
from sqlspec_adk.dialects.sessions import STALE_MESSAGE, SessionSQL, session_not_found
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import AppendResult, EventWrite, Expected

__all__ = ["PostgresSessionSQL"]

#: ``list_sql(after=...)``: no cursor, a ``(update_time, id)`` cursor within one user, a full cursor.
NO_CURSOR, USER_CURSOR, FULL_CURSOR = 0, 2, 3


class PostgresSessionSQL(PostgresCore, SessionSQL):
    """One-statement session operations with atomic JSONB merges."""

    cascades_events: ClassVar[bool] = True

    # ------------------------------------------------------------ statements
    def upsert_state_cte(self, name: str, scope: str, source: str) -> str:
        """A CTE ``name`` merging ``?`` JSON into the app or user state row, once per row of ``source``."""
        table, columns = self.scoped_state_target(scope)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        return (
            f"{name} AS (INSERT INTO {table} AS t ({names}, state, update_time) "
            f"SELECT {marks}, {self.json.param}, ? FROM {source} "
            f"ON CONFLICT ({names}) DO UPDATE SET state = t.state || EXCLUDED.state, "
            "update_time = EXCLUDED.update_time RETURNING t.state)"
        )

    @memoized
    def merge_state_sql(self, scope: str) -> str:
        """Merge ``?`` JSON into the app or user state row; select the merged state."""
        return f"WITH {self.upsert_state_cte('m', scope, '(SELECT 1) one')} SELECT {self.json.select('state')} FROM m"

    @memoized
    def create_session_sql(self, *, app: bool, user: bool) -> str:
        """Insert the session; merge app/user state for the inserted row; select (inserted, app, user state)."""
        owner = f"{self.owner.name}, " if self.owner else ""
        owner_param = "?, " if self.owner else ""
        ctes = [
            f"s AS (INSERT INTO {self.session_table} "
            f"(app_name, user_id, id, {owner}state, create_time, update_time, revision) "
            f"VALUES (?, ?, ?, {owner_param}{self.json.param}, ?, ?, 0) "
            "ON CONFLICT DO NOTHING RETURNING 1 AS ok)"
        ]
        app_state = f"(SELECT state FROM {self.app_state_table} WHERE app_name = ?)"
        user_state = f"(SELECT state FROM {self.user_state_table} WHERE app_name = ? AND user_id = ?)"
        if app:
            ctes.append(self.upsert_state_cte("a", "app", "s"))
            app_state = f"COALESCE((SELECT state FROM a), {app_state})"
        if user:
            ctes.append(self.upsert_state_cte("u", "user", "s"))
            user_state = f"COALESCE((SELECT state FROM u), {user_state})"
        selected = f"{self.json.select(f'({app_state})')}, {self.json.select(f'({user_state})')}"
        return f"WITH {', '.join(ctes)} SELECT (SELECT ok FROM s), {selected}"

    @memoized
    def get_session_sql(self, *, events: bool, after: bool, limit: bool) -> str:
        """The session row, app and user state and (``events``) the newest events as arrays, oldest first."""
        head = (
            f"SELECT {self.json.select('s.state')}, s.create_time, s.update_time, s.revision, "
            f"(SELECT {self.json.select('a.state')} FROM {self.app_state_table} a WHERE a.app_name = s.app_name), "
            f"(SELECT {self.json.select('u.state')} FROM {self.user_state_table} u "
            "WHERE u.app_name = s.app_name AND u.user_id = s.user_id)"
        )
        where = " WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?"
        if not events:
            return f"{head} FROM {self.session_table} s{where}"
        arrays = (
            "SELECT array_agg(x.id ORDER BY x.seq) AS ids, array_agg(x.seq ORDER BY x.seq) AS seqs, "
            "array_agg(x.timestamp ORDER BY x.seq) AS times, "
            f"array_agg({self.json.select('x.event_data')} ORDER BY x.seq) AS datas "
            f"FROM ({self.select_events_sql(after=after, limit=limit)}) x"
        )
        return f"{head}, e.ids, e.seqs, e.times, e.datas FROM {self.session_table} s CROSS JOIN ({arrays}) e{where}"

    @memoized
    def append_sql(self, *, by_revision: bool, app: bool, user: bool) -> str:
        """The whole append: stale-checked UPDATE, event INSERT, app/user merges; then what happened.

        The UPDATE matches only when the session is as the caller saw it
        (``revision = ?``; without a marker, not updated since ``?`` or its
        newest event is the caller's newest) and the event id is new, so a
        re-delivered event changes nothing. The final SELECT then tells the
        cases apart: the new ``seq``; else the session's revision (NULL: no such
        session) and the stored data of an event with this id (re-delivered).
        """
        event_key = "e.app_name = ? AND e.user_id = ? AND e.session_id = ?"
        check = (
            "revision = ?"
            if by_revision
            else f"(update_time <= ? OR (SELECT e.id FROM {self.events_table} e WHERE {event_key} "
            "ORDER BY e.seq DESC LIMIT 1) IS NOT DISTINCT FROM ?)"
        )
        ctes = [
            f"s AS (UPDATE {self.session_table} SET state = state || {self.json.param}, "
            f"revision = revision + 1, update_time = ? WHERE app_name = ? AND user_id = ? AND id = ? "
            f"AND {check} AND NOT EXISTS (SELECT 1 FROM {self.events_table} e WHERE {event_key} AND e.id = ?) "
            "RETURNING revision)",
            f"n AS (INSERT INTO {self.events_table} "
            "(app_name, user_id, session_id, seq, id, invocation_id, author, timestamp, event_data, compaction) "
            f"SELECT ?, ?, ?, s.revision, ?, ?, ?, ?, {self.json.param}, ? FROM s RETURNING seq)",
        ]
        if app:
            ctes.append(self.upsert_state_cte("a", "app", "s"))
        if user:
            ctes.append(self.upsert_state_cte("u", "user", "s"))
        # The session row and the event probe are read as they were before this statement (PostgreSQL's
        # snapshot rule), which is what the cases need; they do not depend on seeing the CTEs' writes.
        # Reading a, then u, fixes the lock order: session, app state, user state.
        merged = "".join(f", (SELECT count(*) FROM {name})" for name, on in (("a", app), ("u", user)) if on)
        return (
            f"WITH {', '.join(ctes)} SELECT (SELECT seq FROM n), "
            f"(SELECT revision FROM {self.session_table} WHERE app_name = ? AND user_id = ? AND id = ?), "
            f"(SELECT {self.json.select('e.event_data')} FROM {self.events_table} e WHERE {event_key} "
            f"AND e.id = ?){merged}"
        )

    @memoized
    def list_sql(self, *, by_user: bool, after: int, limit: bool, owned: bool = False) -> str:
        """One keyset page (``after``: :data:`NO_CURSOR`, :data:`USER_CURSOR` or :data:`FULL_CURSOR`).

        ``owned``: only the sessions of owner ``?`` (with an owner column).
        Always one row at least, which carries the app state.
        """
        inner = (
            f"SELECT s.user_id, s.id, {self.json.select('s.state')} AS state, s.create_time, s.update_time, "
            f"s.revision, {self.json.select('u.state')} AS user_state FROM {self.session_table} s "
            f"LEFT JOIN {self.user_state_table} u ON u.app_name = s.app_name AND u.user_id = s.user_id "
            "WHERE s.app_name = ?"
        )
        if by_user:
            inner += " AND s.user_id = ?"
        if owned and self.owner is not None:
            inner += f" AND s.{self.owner.name} = ?"
        if after == USER_CURSOR:
            inner += " AND (s.update_time, s.id) > (?, ?)"
        elif after == FULL_CURSOR:
            inner += " AND (s.update_time, s.user_id, s.id) > (?, ?, ?)"
        inner += " ORDER BY s.update_time, s.user_id, s.id" + (f" {self.limit_sql}" if limit else "")
        return (
            f"SELECT (SELECT {self.json.select('a.state')} FROM {self.app_state_table} a WHERE a.app_name = ?), "
            "x.user_id, x.id, x.state, x.create_time, x.update_time, x.revision, x.user_state "
            f"FROM (SELECT 1 AS one) d LEFT JOIN ({inner}) x ON true "
            "ORDER BY x.update_time, x.user_id, x.id"
        )

    @cached_property
    def select_scoped_state_sql(self) -> str:
        return (
            f"SELECT (SELECT {self.json.select('state')} FROM {self.app_state_table} WHERE app_name = ?), "
            f"(SELECT {self.json.select('state')} FROM {self.user_state_table} WHERE app_name = ? AND user_id = ?)"
        )

    @cached_property
    def delete_session_count_sql(self) -> str:
        """Delete one session (its events by the cascade); select 0 or 1."""
        return counted(self.delete_session_sql)

    @memoized
    def retention_count_sql(self, table: str, column: str, *, by_app: bool) -> str:
        """:meth:`retention_sql`, selecting the number of rows deleted."""
        return counted(self.retention_sql(table, column, by_app=by_app))

    # ------------------------------------------------------------- operations
    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Atomic ``state || delta`` upsert: concurrent writers of other keys lose nothing."""
        row = yield Stmt(self.merge_state_sql(scope), (*keys, self.json.state(delta), now), Fetch.ONE)
        return self.json.read_state(row[0])

    def insert_session(
        self, keys: tuple[str, str, str], params: tuple[Any, ...], delta: StateDelta, now: float
    ) -> Op[tuple[dict[str, Any], dict[str, Any]] | None]:
        """The insert and the app/user merges for the inserted row, in one statement."""
        app_name, user_id, _ = keys
        args = [*params]
        if delta.app:
            args += [app_name, self.json.state(delta.app), now]
        if delta.user:
            args += [app_name, user_id, self.json.state(delta.user), now]
        args += [app_name, app_name, user_id]
        sql = self.create_session_sql(app=bool(delta.app), user=bool(delta.user))
        row = yield Stmt(sql, args, Fetch.ONE, alone=True)
        return None if row[0] is None else (self.json.read_state(row[1]), self.json.read_state(row[2]))

    def select_session(
        self, keys: tuple[str, str, str], num_recent_events: int | None, after_timestamp: float | None
    ) -> Op[tuple[Sequence[Any], Sequence[Sequence[Any]]] | None]:
        """Session row, scoped state and the newest events (as arrays, oldest first), in one statement."""
        events = num_recent_events != 0
        params: list[Any] = []
        if events:
            params += keys
            if after_timestamp is not None:
                params.append(float(after_timestamp))
            if num_recent_events is not None:
                params.append(num_recent_events)
        sql = self.get_session_sql(
            events=events, after=events and after_timestamp is not None, limit=events and num_recent_events is not None
        )
        row = yield Stmt(sql, [*params, *keys], Fetch.ONE, alone=True)
        if row is None:
            return None
        if not events or row[6] is None:
            return row, []
        return row, list(zip(row[6], row[7], row[8], row[9], strict=True))

    def select_session_page(
        self,
        app_name: str,
        user_id: str | None,
        limit: int | None,
        after: tuple[float, str, str] | None,
        owner: Any = None,
    ) -> Op[tuple[Any, Sequence[Sequence[Any]]]]:
        """One keyset-paged statement: the page's sessions with user state, plus the app state."""
        params: list[Any] = [app_name, app_name]
        if user_id is not None:
            params.append(user_id)
        owned = self.scoped(owner)
        if owned:
            params.append(owner)
        cursor = NO_CURSOR
        if after is not None:
            update_time, after_user, after_id = after
            if user_id is not None and after_user == user_id:
                cursor, params = USER_CURSOR, [*params, update_time, after_id]
            else:
                cursor, params = FULL_CURSOR, [*params, update_time, after_user, after_id]
        if limit is not None:
            params.append(limit + 1)
        sql = self.list_sql(by_user=user_id is not None, after=cursor, limit=limit is not None, owned=owned)
        rows = yield Stmt(sql, params, Fetch.ALL, alone=True)
        return (rows[0][0] if rows else None), [row[1:] for row in rows if row[1] is not None]

    def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> Op[int]:
        """Delete the session (its events by the cascade); 0 or 1. Deleting again is harmless (idempotent)."""
        keys = (app_name, user_id, session_id)
        row = yield Stmt(self.delete_session_count_sql, keys, Fetch.ONE, alone=True, idempotent=True)
        return int(row[0])

    def get_scoped_state(self, *, app_name: str, user_id: str) -> Op[tuple[dict[str, Any], dict[str, Any]]]:
        return alone(super().get_scoped_state(app_name=app_name, user_id=user_id))

    def write_event(
        self, keys: tuple[str, str, str], expected: Expected, event: EventWrite, delta: StateDelta, probe: bool = False
    ) -> Op[AppendResult]:
        """One statement: stale-checked session update, event row, app/user state merges.

        An event whose id the session already holds changes nothing (see
        :meth:`redelivered`); that is also what a retry finds when the
        connection was lost after the statement committed, so an append with a
        revision marker is safe to retry (``idempotent``).
        """
        app_name, user_id, _ = keys
        params: list[Any] = [self.json.state(delta.session), event.timestamp, *keys]
        if expected.revision is not None:
            params.append(expected.revision)
        else:
            params += [float(expected.update_time), *keys, expected.last_event_id]
        params += [*keys, event.id, *keys, event.id, event.invocation_id, event.author, event.timestamp]
        params += [self.json.text(event.event_json), self.true_value if event.compaction else self.false_value]
        if delta.app:
            params += [app_name, self.json.state(delta.app), event.timestamp]
        if delta.user:
            params += [app_name, user_id, self.json.state(delta.user), event.timestamp]
        params += [*keys, *keys, event.id]
        sql = self.append_sql(by_revision=expected.revision is not None, app=bool(delta.app), user=bool(delta.user))
        row = yield Stmt(sql, params, Fetch.ONE, alone=True, idempotent=expected.revision is not None)
        if row[0] is not None:
            return AppendResult(revision=int(row[0]))
        if row[1] is None:
            raise session_not_found(keys)
        if row[2] is not None:
            return self.redelivered(keys, int(row[1]), row[2], event)
        raise StaleSessionError(STALE_MESSAGE)

    def delete_events_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        params: tuple[Any, ...] = (float(before),) if app_name is None else (float(before), app_name)
        sql = self.retention_count_sql(self.events_table, "timestamp", by_app=app_name is not None)
        row = yield Stmt(sql, params, Fetch.ONE, alone=True, idempotent=True)
        return int(row[0])

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Delete sessions not updated since ``before`` (their events by the cascade); return the count."""
        params: tuple[Any, ...] = (float(before),) if app_name is None else (float(before), app_name)
        sql = self.retention_count_sql(self.session_table, "update_time", by_app=app_name is not None)
        row = yield Stmt(sql, params, Fetch.ONE, alone=True, idempotent=True)
        return int(row[0])

    def count_events_before(
        self, *, before: float, app_name: str | None = None, idle_before: float | None = None
    ) -> Op[int]:
        return alone(super().count_events_before(before=before, app_name=app_name, idle_before=idle_before))

    def statements(self) -> list[str]:
        texts = super().statements()
        flags = (False, True)
        for app, user in itertools.product(flags, flags):
            texts.append(self.create_session_sql(app=app, user=user))
            for first in flags:
                texts.append(self.get_session_sql(events=first, after=app, limit=user))
                texts.append(self.append_sql(by_revision=first, app=app, user=user))
        cursors = (NO_CURSOR, USER_CURSOR, FULL_CURSOR)
        for by_user, after, limit, owned in itertools.product(flags, cursors, flags, flags[: 1 + bool(self.owner)]):
            texts.append(self.list_sql(by_user=by_user, after=after, limit=limit, owned=owned))
        texts += [self.delete_session_count_sql, self.merge_state_sql("app"), self.merge_state_sql("user")]
        for by_app in flags:
            texts.append(self.retention_count_sql(self.events_table, "timestamp", by_app=by_app))
            texts.append(self.retention_count_sql(self.session_table, "update_time", by_app=by_app))
        return texts
