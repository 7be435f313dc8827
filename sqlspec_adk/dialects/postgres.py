"""PostgreSQL family: shared by the ``asyncpg``, ``psycopg`` (async and sync) and ``psqlpy`` adapters.

- State and event data are JSONB. JSON is bound as text (``?::text::jsonb``)
  and read back as text (``::text``), so every driver hands the converters the
  same thing and big integers survive exactly.
- Timestamps are DOUBLE PRECISION: the float ADK hands us comes back bit for bit.
- ``append_event`` is one statement: data-modifying CTEs run the
  revision-checked ``UPDATE ... RETURNING``, insert the event and upsert
  app/user state with ``state || delta`` (jsonb ``||`` keeps null values, which
  is exactly ``dict.update``). The stale check is the UPDATE's
  ``WHERE revision = ?``, so of two writers holding the same revision exactly
  one wins; the atomic ``||`` upserts lose no concurrent app:/user: write.
- ``create_session``, ``get_session`` (row, newest N events, app and user
  state), ``list_sessions`` (keyset paged, on an index) and deletes are one
  statement each. A single-statement operation yields a :class:`SoleStmt`,
  which adapters run without ``BEGIN``/``COMMIT``: one round trip.
- :meth:`PostgresDialect.plan` wraps an operation in its transaction and
  retries it (bounded) when the connection was dropped before anything could
  have committed, or on serialization failures. Adapters only execute the
  steps it yields (:func:`run_async` / :func:`run_sync`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import itertools
import random
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, ClassVar, Protocol, TypeVar

from google.adk.errors import StaleSessionError

from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.artifact_sql import _COLUMNS as ARTIFACT_COLUMNS
from sqlspec_adk.dialects.artifact_sql import _KEY_WHERE as ARTIFACT_KEY_WHERE
from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactRow, ArtifactWrite
from sqlspec_adk.dialects.base import STALE_MESSAGE, BaseDialect, EventWrite, session_not_found
from sqlspec_adk.dialects.memory_sql import MEMORY_COLUMNS, MemoryWrite
from sqlspec_adk.identifiers import quote_identifier
from sqlspec_adk.protocol import Fetch, Op, Stmt, to_dollar_params
from sqlspec_adk.records import MemoryRecord

__all__ = [
    "ADMIN_SHUTDOWN",
    "AsyncGlue",
    "ErrorKind",
    "Failure",
    "PostgresDialect",
    "SoleStmt",
    "Step",
    "SyncGlue",
    "dollar_sql",
    "glue_calls",
    "from_jsonb_text",
    "kind_of_sqlstate",
    "rowcount_sql",
    "run_async",
    "run_sync",
    "to_jsonb_text",
    "tsquery_text",
]

T = TypeVar("T")
C = TypeVar("C")


# ----------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True)
class SoleStmt(Stmt):
    """The operation's only statement: an adapter may run it without BEGIN/COMMIT.

    PostgreSQL runs a lone statement in its own implicit transaction, so this is
    as atomic as an explicit one and saves two round trips. ``retry_safe``
    marks a write whose re-execution after an unknown outcome is harmless.
    """

    retry_safe: bool = False


dollar_sql: Callable[[str], str] = lru_cache(maxsize=2048)(to_dollar_params)


@lru_cache(maxsize=512)
def rowcount_sql(sql: str) -> str:
    """``sql`` with a top-level ``RETURNING 1`` added, for drivers that report no row count (psqlpy).

    The caller counts the returned rows. A statement that already ends in a
    top-level RETURNING is left alone.
    """
    depth, quote, last_returning = 0, "", -1
    upper = sql.upper()
    for index, char in enumerate(sql):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and upper.startswith("RETURNING", index) and not sql[index - 1 : index].isalnum():
            last_returning = index
    return sql if last_returning >= 0 else f"{sql} RETURNING 1"


# ----------------------------------------------------------------- JSON text
# JSONB cannot hold U+0000. JSON text bound to JSONB carries each ``\u0000``
# escape as MARK + "0" and each MARK (U+10FFFF, a noncharacter) as MARK + MARK;
# JSON read back as text is mapped back. Strings keep their exact content.
_MARK = "\U0010ffff"
_VERSION_SLOT = "VALUES (?, ?, ?, ?, ?,"  # the key, then the version, in ArtifactSQL.artifact_insert_sql
_TO_JSONB = re.compile(r"\\\\|\\u0000|\U0010ffff|\\u[dD][bB][fF][fF]\\u[dD][fF][fF][fF]")
_FROM_JSONB = re.compile("\U0010ffff(.)", re.DOTALL)


def to_jsonb_text(text: str) -> str:
    """JSON text that JSONB accepts, NUL characters included (see :func:`from_jsonb_text`)."""
    if "\\u0000" not in text and _MARK not in text and "\\u" not in text:
        return text
    return _TO_JSONB.sub(_mark_match, text)


def _mark_match(match: re.Match[str]) -> str:
    found = match.group()
    if found == "\\\\":
        return found
    return _MARK + "0" if found == "\\u0000" else _MARK + _MARK


def from_jsonb_text(text: Any) -> Any:
    """Inverse of :func:`to_jsonb_text` for JSON read back as text; None passes through."""
    if not isinstance(text, str) or _MARK not in text:
        return text
    return _FROM_JSONB.sub(lambda match: "\\u0000" if match.group(1) == "0" else _MARK, text)


def _memoized(build: Callable[..., str]) -> Callable[..., str]:
    """Cache a statement builder's text per dialect instance and keyword arguments."""

    @functools.wraps(build)
    def cached(self: BaseDialect, **options: Any) -> str:
        cache: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_statement_cache", {})
        key = (build.__name__, *sorted(options.items()))
        if key not in cache:
            cache[key] = build(self, **options)
        return cache[key]

    return cached


def tsquery_text(tokens: Sequence[str]) -> str:
    """A ``to_tsquery`` input matching any of ``tokens``, each one a quoted operand.

    Inside quotes a backslash escapes the next character in both PostgreSQL and
    CockroachDB, so no character of a token can act as tsquery syntax.
    """
    return " | ".join("'" + re.sub(r"(['\\])", r"\\\1", token) + "'" for token in tokens)


def _sole(op: Op[T], *, retry_safe: bool = False) -> Op[T]:
    """Run an operation that issues exactly one statement as a :class:`SoleStmt` (no BEGIN/COMMIT)."""
    try:
        stmt = next(op)
    except StopIteration as stop:
        result: T = stop.value
        return result
    while True:
        outcome = yield SoleStmt(stmt.sql, stmt.params, stmt.fetch, stmt.many, retry_safe=retry_safe)
        try:
            stmt = op.send(outcome)
        except StopIteration as stop:
            value: T = stop.value
            return value


# ------------------------------------------------------------ the transaction
class Step(enum.Enum):
    """What the plan asks the adapter to do next."""

    CONNECT = "connect"  #: payload (delay, replace): have a usable connection, out of any transaction
    BEGIN = "begin"  #: payload: the BEGIN statement text
    EXECUTE = "execute"  #: payload: a Stmt; send back its result
    COMMIT = "commit"  #: payload: "COMMIT"


class ErrorKind(enum.Enum):
    """Driver errors the plan may retry."""

    SERIALIZATION = "serialization"  #: 40001/40P01: the server rolled the transaction back
    UNSENT = "unsent"  #: the connection was unusable before the statement ran (closed, shut down, refused)
    LOST = "lost"  #: the connection broke mid-statement: an autocommit write may have committed


@dataclass(frozen=True, slots=True)
class Failure:
    """A driver exception, sent back into the plan instead of a result."""

    error: Exception


#: The server's message when its backend was terminated (57P01): the statement did not run.
ADMIN_SHUTDOWN = "terminating connection due to administrator command"
_UNSENT_STATES = frozenset({"57P01", "57P02", "57P03", "08001", "08004"})


def kind_of_sqlstate(code: str | None) -> ErrorKind | None:
    """The retry class of a SQLSTATE: admin/crash shutdown and refused connects never ran the statement."""
    if not code:
        return None
    if code in ("40001", "40P01"):
        return ErrorKind.SERIALIZATION
    if code in _UNSENT_STATES:
        return ErrorKind.UNSENT
    if code.startswith("08"):
        return ErrorKind.LOST
    return None


Plan = Generator[tuple[Step, Any], Any, T]


class AsyncGlue(Protocol[C]):
    """What an async adapter supplies to :func:`run_async`: connections and statement execution.

    ``release(connection, broken=...)`` returns a connection to the pool, or throws
    it away when ``broken``; ``refresh`` lets the pool drop other dead
    connections after one was found broken.
    """

    async def acquire(self) -> C: ...
    async def release(self, connection: C, *, broken: bool) -> None: ...
    async def refresh(self) -> None: ...
    async def execute(self, connection: C, stmt: Stmt) -> Any: ...
    async def command(self, connection: C, sql: str) -> None: ...
    def in_transaction(self, connection: C) -> bool: ...
    def classify(self, error: BaseException) -> ErrorKind | None: ...


class SyncGlue(Protocol[C]):
    """Sync twin of :class:`AsyncGlue`, for :func:`run_sync`."""

    def acquire(self) -> C: ...
    def release(self, connection: C, *, broken: bool) -> None: ...
    def refresh(self) -> None: ...
    def execute(self, connection: C, stmt: Stmt) -> Any: ...
    def command(self, connection: C, sql: str) -> None: ...
    def in_transaction(self, connection: C) -> bool: ...
    def classify(self, error: BaseException) -> ErrorKind | None: ...


#: One call of a glue method (or ``sleep``) with its arguments.
Call = tuple[str, tuple[Any, ...], dict[str, Any]]
_NO_KEYWORDS: dict[str, Any] = {}


def glue_calls(glue: AsyncGlue[Any] | SyncGlue[Any], plan: Plan[T]) -> Generator[Call, Any, T]:
    """The plan as glue calls, written once for sync and async drivers.

    Yields ``(method, args, kwargs)`` and receives the call's result, or a
    :class:`Failure` when the call raised. Owns the connection: acquires it,
    replaces it when the plan says so, rolls back an open transaction when the
    operation fails, and releases it (as broken after a lost link or a
    cancellation) at the end.
    """
    connection: Any = None
    try:
        step = next(plan)
        while True:
            action, payload = step
            if action is Step.CONNECT:
                result: Any = None
                old, connection = connection, None
                if old is not None and not payload[1] and (yield from _rolled_back(glue, old)):
                    connection = old
                elif old is not None:
                    yield "release", (old,), {"broken": True}
                    yield "refresh", (), _NO_KEYWORDS
                if payload[0]:
                    yield "sleep", (payload[0],), _NO_KEYWORDS
                if connection is None:
                    result = yield "acquire", (), _NO_KEYWORDS
                    connection, result = (None, result) if isinstance(result, Failure) else (result, None)
            else:
                result = yield ("execute" if action is Step.EXECUTE else "command"), (connection, payload), _NO_KEYWORDS
            step = plan.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
    except BaseException as error:
        reusable = isinstance(error, Exception) and glue.classify(error) not in (ErrorKind.LOST, ErrorKind.UNSENT)
        if connection is not None and not (reusable and (yield from _rolled_back(glue, connection))):
            old, connection = connection, None
            yield "release", (old,), {"broken": True}
        raise
    finally:
        if connection is not None:
            yield "release", (connection,), {"broken": False}


def _rolled_back(glue: AsyncGlue[Any] | SyncGlue[Any], connection: Any) -> Generator[Call, Any, bool]:
    """Roll back an open transaction; False if the connection could not (it is then thrown away)."""
    if not glue.in_transaction(connection):
        return True
    result = yield "command", (connection, "ROLLBACK"), _NO_KEYWORDS
    return not isinstance(result, Failure)


async def _drive(glue: AsyncGlue[Any] | SyncGlue[Any], plan: Plan[T], invoke: Callable[[Call], Awaitable[Any]]) -> T:
    """Make each glue call of ``plan`` with ``invoke`` and send back its result, or its failure.

    An exception is sent back as a :class:`Failure`; a cancellation or an
    interrupt is thrown into the calls, which clean up and re-raise it.
    """
    calls = glue_calls(glue, plan)
    send: Callable[[Any], Call] = calls.send
    result: Any = None
    while True:
        try:
            call = send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value
        send = calls.send
        try:
            result = await invoke(call)
        except Exception as error:
            result = Failure(error)
        except BaseException as error:
            send, result = calls.throw, error


async def run_async(glue: AsyncGlue[Any], plan: Plan[T]) -> T:
    """Execute a :meth:`PostgresDialect.plan` on an async driver."""

    def invoke(call: Call) -> Awaitable[Any]:
        name, args, kwargs = call
        return asyncio.sleep(*args) if name == "sleep" else getattr(glue, name)(*args, **kwargs)

    return await _drive(glue, plan, invoke)


def run_sync(glue: SyncGlue[Any], plan: Plan[T]) -> T:
    """Execute a :meth:`PostgresDialect.plan` on a sync driver.

    The same loop as :func:`run_async`: its calls never suspend, so the
    coroutine runs to the end in one ``send``.
    """

    async def invoke(call: Call) -> Any:  # never on an event loop: run_sync drives it
        name, args, kwargs = call
        return time.sleep(*args) if name == "sleep" else getattr(glue, name)(*args, **kwargs)  # noqa: ASYNC251

    coroutine = _drive(glue, plan, invoke)
    try:
        coroutine.send(None)
    except StopIteration as stop:
        value: T = stop.value
        return value
    coroutine.close()
    raise RuntimeError("a sync plan awaited something")  # pragma: no cover


# -------------------------------------------------------------------- dialect
class PostgresDialect(BaseDialect):
    """PostgreSQL DDL, statements and one-round-trip session operations."""

    sqlglot_name: ClassVar[str] = "postgres"
    json_type: ClassVar[str] = "JSONB"  # the other column types are the base's (TEXT, DOUBLE PRECISION, ...)
    has_fts: ClassVar[bool] = True
    #: Events go by the ON DELETE CASCADE of their foreign key, in the session's DELETE statement.
    cascades_events: ClassVar[bool] = True
    #: Metadata read as text, so :meth:`read_json` can undo the NUL escape of :meth:`json_text`.
    artifact_select_columns: ClassVar[str] = ARTIFACT_COLUMNS.replace("custom_metadata", "custom_metadata::text")

    #: Attempts per operation when the connection dropped before anything could commit.
    connection_attempts: ClassVar[int] = 4
    #: Attempts per operation on serialization failures (40001) and deadlocks (40P01).
    serialization_attempts: ClassVar[int] = 4

    # ------------------------------------------------------------ transaction
    def begin_sql(self, write: bool) -> str:
        """Multi-statement reads get one snapshot; writes run at the server default (READ COMMITTED)."""
        return "BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based), with jitter."""
        return min(0.02 * 2.0**attempt, 1.0) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto

    def plan(self, op: Op[T], *, write: bool, classify: Callable[[BaseException], ErrorKind | None]) -> Plan[T]:
        """Run ``op`` in one transaction, retrying the whole operation when that is safe.

        A retry replays the statements already executed and continues only if
        each returns what it returned before (the operation's decisions depend
        on nothing else); otherwise the original error is raised. A connection
        lost during COMMIT, or during a lone autocommit write not marked
        ``retry_safe``, is never retried: it may have committed.
        """
        try:
            stmt = next(op)
        except StopIteration as stop:
            result: T = stop.value
            return result
        sole = isinstance(stmt, SoleStmt)
        history: list[tuple[Stmt, Any]] = []
        done, value = False, None
        delay, replace, first_error = 0.0, False, None
        for attempt in range(1, 1_000):
            phase = "connect"
            outcome = yield Step.CONNECT, (delay, replace)
            if not isinstance(outcome, Failure):
                phase = "statement"
                if not sole:
                    outcome = yield Step.BEGIN, self.begin_sql(write)
            for old_stmt, old_result in history:
                if isinstance(outcome, Failure):
                    break
                outcome = yield Step.EXECUTE, old_stmt
                if not isinstance(outcome, Failure) and outcome != old_result:
                    assert first_error is not None
                    raise first_error
            while not done and not isinstance(outcome, Failure):
                outcome = yield Step.EXECUTE, stmt
                if isinstance(outcome, Failure):
                    break
                history.append((stmt, outcome))
                try:
                    stmt = op.send(outcome)
                except StopIteration as stop:
                    done, value = True, stop.value
                    break
                if sole:
                    raise RuntimeError("an operation that yielded a SoleStmt yielded a second statement")
            if not isinstance(outcome, Failure) and not sole:
                phase = "commit"
                outcome = yield Step.COMMIT, "COMMIT"
            if not isinstance(outcome, Failure):
                done_value: T = value  # type: ignore[assignment]
                return done_value
            kind = classify(outcome.error)
            if kind is not None and phase == "connect":
                kind = ErrorKind.UNSENT  # no statement reached the server
            limit = self.serialization_attempts if kind is ErrorKind.SERIALIZATION else self.connection_attempts
            ambiguous = phase == "commit" or (sole and write and not (isinstance(stmt, SoleStmt) and stmt.retry_safe))
            if kind is None or (kind is ErrorKind.LOST and ambiguous) or attempt >= limit:
                raise outcome.error
            first_error = first_error or outcome.error
            replace = kind is not ErrorKind.SERIALIZATION
            delay = self.backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # -------------------------------------------------------------------- DDL
    def json_param(self) -> str:
        return "?::text::jsonb"

    def json_text(self, text: str) -> str:
        return to_jsonb_text(text)

    def read_json(self, value: Any) -> Any:
        return from_jsonb_text(value)

    def json_select(self, column: str) -> str:
        return f"{column}::text"

    def lock_ddl(self) -> list[str]:
        """Serialize concurrent schema upgrades (CREATE ... IF NOT EXISTS races on the catalog)."""
        key = zlib.crc32(f"sqlspec_adk:{self.adk.schema}:{self.adk.metadata_table}".encode()) & 0x7FFFFFFF
        return [f"SELECT pg_advisory_xact_lock({key})"]

    def metadata_ddl(self) -> list[str]:
        statements = self.lock_ddl()
        if self.adk.schema:
            statements.append(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(self.adk.schema, self.sqlglot_name)}")
        return statements + super().metadata_ddl()

    def session_ddl(self) -> list[str]:
        name = self.adk.session_table
        return [
            *super().session_ddl(),
            f"CREATE INDEX IF NOT EXISTS {self.index_name(name, 'app_list_idx')} "
            f"ON {self.session_table} (app_name, update_time, user_id, id)",
        ]

    # ------------------------------------------------------------- statements
    def _upsert_cte(self, name: str, scope: str, source: str) -> str:
        """A CTE ``name`` merging ``?`` JSON into the app or user state row, for each row of ``source``."""
        table, columns = self.scoped_state_target(scope)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        return (
            f"{name} AS (INSERT INTO {table} AS t ({names}, state, update_time) "
            f"SELECT {marks}, {self.json_param()}, ? FROM {source} "
            f"ON CONFLICT ({names}) DO UPDATE SET state = t.state || EXCLUDED.state, "
            "update_time = EXCLUDED.update_time RETURNING t.state)"
        )

    @_memoized
    def create_session_sql(self, *, app: bool, user: bool) -> str:
        """Insert the session; merge app/user state for the inserted row; return (inserted, app, user state)."""
        owner = f"{self.owner.name}, " if self.owner else ""
        owner_param = "?, " if self.owner else ""
        ctes = [
            f"s AS (INSERT INTO {self.session_table} "
            f"(app_name, user_id, id, {owner}state, create_time, update_time, revision) "
            f"VALUES (?, ?, ?, {owner_param}{self.json_param()}, ?, ?, 0) "
            "ON CONFLICT DO NOTHING RETURNING 1 AS ok)"
        ]
        app_state = f"(SELECT state FROM {self.app_state_table} WHERE app_name = ?)"
        user_state = f"(SELECT state FROM {self.user_state_table} WHERE app_name = ? AND user_id = ?)"
        if app:
            ctes.append(self._upsert_cte("a", "app", "s"))
            app_state = f"COALESCE((SELECT state FROM a), {app_state})"
        if user:
            ctes.append(self._upsert_cte("u", "user", "s"))
            user_state = f"COALESCE((SELECT state FROM u), {user_state})"
        return f"WITH {', '.join(ctes)} SELECT (SELECT ok FROM s), ({app_state})::text, ({user_state})::text"

    @_memoized
    def get_session_sql(self, *, events: bool, after: bool, limit: bool) -> str:
        """The session row, app and user state and (``events``) the newest events as arrays, oldest first."""
        head = (
            "SELECT s.state::text, s.create_time, s.update_time, s.revision, "
            f"(SELECT a.state::text FROM {self.app_state_table} a WHERE a.app_name = s.app_name), "
            f"(SELECT u.state::text FROM {self.user_state_table} u "
            "WHERE u.app_name = s.app_name AND u.user_id = s.user_id)"
        )
        where = " WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?"
        if not events:
            return f"{head} FROM {self.session_table} s{where}"
        inner = (
            f"SELECT id, seq, timestamp, event_data FROM {self.events_table} "
            "WHERE app_name = ? AND user_id = ? AND session_id = ?"
            + (" AND timestamp >= ?" if after else "")
            + " ORDER BY seq DESC"
            + (" LIMIT ?" if limit else "")
        )
        arrays = (
            "SELECT array_agg(x.id ORDER BY x.seq) AS ids, array_agg(x.seq ORDER BY x.seq) AS seqs, "
            "array_agg(x.timestamp ORDER BY x.seq) AS times, "
            f"array_agg(x.event_data::text ORDER BY x.seq) AS datas FROM ({inner}) x"
        )
        return f"{head}, e.ids, e.seqs, e.times, e.datas FROM {self.session_table} s CROSS JOIN ({arrays}) e{where}"

    @_memoized
    def append_sql(self, *, by_revision: bool, app: bool, user: bool) -> str:
        """The whole append: stale-checked UPDATE, event INSERT, app/user merges; then what happened."""
        check = "revision = ?" if by_revision else "update_time <= ?"
        ctes = [
            f"s AS (UPDATE {self.session_table} SET state = state || {self.json_param()}, "
            f"revision = revision + 1, update_time = ? WHERE app_name = ? AND user_id = ? AND id = ? "
            f"AND {check} RETURNING revision)",
            f"e AS (INSERT INTO {self.events_table} "
            "(app_name, user_id, session_id, seq, id, invocation_id, author, timestamp, event_data) "
            f"SELECT ?, ?, ?, s.revision, ?, ?, ?, ?, {self.json_param()} FROM s RETURNING seq)",
        ]
        if app:
            ctes.append(self._upsert_cte("a", "app", "s"))
        if user:
            ctes.append(self._upsert_cte("u", "user", "s"))
        # Existence and the event-id probe are not changed by this statement, so they read
        # the same under PostgreSQL's snapshot rule and any engine that shows CTE writes.
        # Reading a, then u, fixes the lock order: session, app state, user state.
        merged = "".join(f", (SELECT count(*) FROM {name})" for name, on in (("a", app), ("u", user)) if on)
        return (
            f"WITH {', '.join(ctes)} SELECT (SELECT seq FROM e), "
            f"EXISTS (SELECT 1 FROM {self.session_table} WHERE app_name = ? AND user_id = ? AND id = ?), "
            f"(SELECT seq FROM {self.events_table} WHERE app_name = ? AND user_id = ? AND session_id = ? "
            f"AND id = ?){merged}"
        )

    @_memoized
    def list_sql(self, *, by_user: bool, after: int, limit: bool) -> str:
        """One keyset page; ``after``: 0 no cursor, 2 ``(update_time, id)`` within one user,
        3 ``(update_time, user_id, id)``. Always one row at least, for the app state."""
        inner = (
            "SELECT s.user_id, s.id, s.state::text AS state, s.create_time, s.update_time, s.revision, "
            f"u.state::text AS user_state FROM {self.session_table} s LEFT JOIN {self.user_state_table} u "
            "ON u.app_name = s.app_name AND u.user_id = s.user_id WHERE s.app_name = ?"
        )
        if by_user:
            inner += " AND s.user_id = ?"
        if after == 2:
            inner += " AND (s.update_time, s.id) > (?, ?)"
        elif after == 3:
            inner += " AND (s.update_time, s.user_id, s.id) > (?, ?, ?)"
        inner += " ORDER BY s.update_time, s.user_id, s.id" + (" LIMIT ?" if limit else "")
        return (
            f"SELECT (SELECT a.state::text FROM {self.app_state_table} a WHERE a.app_name = ?), "
            "x.user_id, x.id, x.state, x.create_time, x.update_time, x.revision, x.user_state "
            f"FROM (SELECT 1 AS one) d LEFT JOIN ({inner}) x ON true "
            "ORDER BY x.update_time, x.user_id, x.id"
        )

    @cached_property
    def select_scoped_state_sql(self) -> str:
        return (
            f"SELECT (SELECT state::text FROM {self.app_state_table} WHERE app_name = ?), "
            f"(SELECT state::text FROM {self.user_state_table} WHERE app_name = ? AND user_id = ?)"
        )

    # ------------------------------------------------------------- operations
    def merge_scoped_state(
        self, scope: str, keys: tuple[str, ...], delta: Mapping[str, Any], now: float
    ) -> Op[dict[str, Any]]:
        """Atomic ``state || delta`` upsert: concurrent writers of other keys lose nothing."""
        sql = f"WITH {self._upsert_cte('m', scope, '(SELECT 1) one')} SELECT state::text FROM m"
        row = yield Stmt(sql, (*keys, self.state_param(delta), now), Fetch.ONE)
        return self.read_state(row[0])

    def insert_session(
        self, keys: tuple[str, str, str], params: tuple[Any, ...], delta: StateDelta, now: float
    ) -> Op[tuple[dict[str, Any], dict[str, Any]] | None]:
        """The insert and the app/user merges for the inserted row, in one statement."""
        app_name, user_id, _ = keys
        args = [*params]
        if delta.app:
            args += [app_name, self.state_param(delta.app), now]
        if delta.user:
            args += [app_name, user_id, self.state_param(delta.user), now]
        args += [app_name, app_name, user_id]
        row = yield SoleStmt(self.create_session_sql(app=bool(delta.app), user=bool(delta.user)), args, Fetch.ONE)
        return None if row[0] is None else (self.read_state(row[1]), self.read_state(row[2]))

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
        row = yield SoleStmt(sql, [*params, *keys], Fetch.ONE)
        if row is None:
            return None
        if not events or row[6] is None:
            return row, []
        return row, list(zip(row[6], row[7], row[8], row[9], strict=True))

    def select_session_page(
        self, app_name: str, user_id: str | None, limit: int | None, after: tuple[float, str, str] | None
    ) -> Op[tuple[Any, Sequence[Sequence[Any]]]]:
        """One keyset-paged statement: the page's sessions with user state, plus the app state."""
        params: list[Any] = [app_name, app_name]
        if user_id is not None:
            params.append(user_id)
        kind = 0
        if after is not None:
            update_time, after_user, after_id = after
            if user_id is not None and after_user == user_id:
                kind, params = 2, [*params, update_time, after_id]
            else:
                kind, params = 3, [*params, update_time, after_user, after_id]
        if limit is not None:
            params.append(limit + 1)
        rows = yield SoleStmt(
            self.list_sql(by_user=user_id is not None, after=kind, limit=limit is not None), params, Fetch.ALL
        )
        return (rows[0][0] if rows else None), [row[1:] for row in rows if row[1] is not None]

    def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> Op[int]:
        op = super().delete_session(app_name=app_name, user_id=user_id, session_id=session_id)
        return _sole(op, retry_safe=True)

    def get_scoped_state(self, *, app_name: str, user_id: str) -> Op[tuple[dict[str, Any], dict[str, Any]]]:
        return _sole(super().get_scoped_state(app_name=app_name, user_id=user_id))

    def write_event(
        self,
        keys: tuple[str, str, str],
        expected_revision: int | None,
        expected_update_time: float,
        event: EventWrite,
        delta: StateDelta,
    ) -> Op[int]:
        """One statement: stale-checked session update, event row, app/user state merges.

        If the statement already ran (a retry after a dropped connection), the
        stored event proves it and its revision is returned.
        """
        app_name, user_id, _ = keys
        params: list[Any] = [self.state_param(delta.session), event.timestamp, *keys]
        params.append(expected_revision if expected_revision is not None else float(expected_update_time))
        params += [*keys, event.id, event.invocation_id, event.author, event.timestamp, to_jsonb_text(event.event_json)]
        if delta.app:
            params += [app_name, self.state_param(delta.app), event.timestamp]
        if delta.user:
            params += [app_name, user_id, self.state_param(delta.user), event.timestamp]
        params += [*keys, *keys, event.id]
        sql = self.append_sql(by_revision=expected_revision is not None, app=bool(delta.app), user=bool(delta.user))
        row = yield SoleStmt(sql, params, Fetch.ONE, retry_safe=expected_revision is not None)
        if row[0] is not None:
            return int(row[0])
        if not row[1]:
            raise session_not_found(keys)
        if expected_revision is not None and row[2] is not None and int(row[2]) == expected_revision + 1:
            return expected_revision + 1
        raise StaleSessionError(STALE_MESSAGE)

    def delete_events_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        return _sole(super().delete_events_before(before=float(before), app_name=app_name), retry_safe=True)

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        return _sole(super().delete_idle_sessions(before=float(before), app_name=app_name), retry_safe=True)

    def count_rows(self, table: str) -> Op[int]:
        return _sole(super().count_rows(table))

    # ----------------------------------------------------------------- memory
    #: Relevance function over the tsvector column (CockroachDB has only ``ts_rank``).
    rank_function: ClassVar[str] = "ts_rank_cd"
    #: Storage parameters of the tsvector GIN index. ``fastupdate = off``: no pending list, so a
    #: search right after a bulk ingest does not scan unmerged entries linearly until autovacuum
    #: merges them; each insert updates the index itself instead (CockroachDB takes no parameter).
    fts_index_options: ClassVar[str] = " WITH (fastupdate = off)"

    @cached_property
    def fts_config_literal(self) -> str:
        """``fts_config`` as a SQL literal; a validated identifier, so it needs no escaping."""
        return f"'{self.adk.fts_config.lower()}'"

    @cached_property
    def fts_column(self) -> str:
        """The generated tsvector column; one per text search configuration, so switching configs is safe."""
        return quote_identifier(f"search_vector_{self.adk.fts_config.lower()}"[:63], self.sqlglot_name)

    def memory_fts_ddl(self) -> list[str]:
        """A stored tsvector of the folded ``search_text`` and its GIN index."""
        suffix = f"fts_{self.adk.fts_config.lower()}_idx"
        return [
            f"ALTER TABLE {self.memory_table} ADD COLUMN IF NOT EXISTS {self.fts_column} tsvector "
            f"GENERATED ALWAYS AS (to_tsvector({self.fts_config_literal}, search_text)) STORED",
            f"CREATE INDEX IF NOT EXISTS {self.index_name(self.adk.memory_table, suffix)} "
            f"ON {self.memory_table} USING GIN ({self.fts_column}){self.fts_index_options}",
        ]

    @cached_property
    def memory_select_columns(self) -> str:
        return ", ".join(
            f"{column}::text" if column in ("content_json", "custom_metadata") else column for column in MEMORY_COLUMNS
        )

    def memory_fts_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        """Entries holding any query token, ranked by relevance, then newest; one statement.

        The GIN index finds candidates through ``fts_config`` (stemmed with
        'english'); a hit must also contain one of the query's tokens whole,
        the library's matching rule on every backend, so stemming ranks but
        never widens a match ("pancake" does not find "pancakes"). The tsquery
        is built from the library's own tokens, each a quoted operand
        (:func:`tsquery_text`), and bound as a parameter like the patterns.

        A configuration with stop words turns a query made only of them ("what
        is it") into an empty tsquery that matches nothing; the second branch
        then ranks by whole tokens as :meth:`memory_fallback_search_stmt` does.
        Its condition holds no column, so PostgreSQL checks it once and skips
        the branch otherwise.
        """
        query = f"to_tsquery({self.fts_config_literal}, ?)"
        indexed = (
            f"SELECT {self.memory_select_columns} FROM {self.memory_table} "
            f"WHERE app_name = ? AND user_id = ? AND content_json IS NOT NULL AND {self.fts_column} @@ {query} "
            "AND search_text LIKE ANY (?::text[]) "
            f"ORDER BY {self.rank_function}({self.fts_column}, {query}) DESC, timestamp DESC, id "
            f"{self.memory_limit_sql()}"
        )
        fallback = self.memory_fallback_search_stmt(app_name, user_id, tokens, limit)
        sql = f"({indexed}) UNION ALL (SELECT * FROM ({fallback.sql}) f WHERE numnode({query}) = 0)"
        text = tsquery_text(tokens)
        patterns = [f"% {token} %" for token in tokens]  # safe tokens: no wildcard, quote or backslash
        params = (app_name, user_id, text, patterns, text, limit, *fallback.params, text)
        return SoleStmt(sql, params, Fetch.ALL)

    def memory_fallback_search_stmt(self, app_name: str, user_id: str, tokens: Sequence[str], limit: int) -> Stmt:
        stmt = super().memory_fallback_search_stmt(app_name, user_id, tokens, limit)
        columns = ", ".join(MEMORY_COLUMNS)
        sql = stmt.sql.replace(f"SELECT {columns} FROM (", f"SELECT {self.memory_select_columns} FROM (", 1)
        return SoleStmt(sql, stmt.params, stmt.fetch)

    def memory_upsert_params(self, write: MemoryWrite) -> tuple[Any, ...]:
        return super().memory_upsert_params(
            dataclasses.replace(
                write,
                content_json=to_jsonb_text(write.content_json),
                custom_metadata_json=None
                if write.custom_metadata_json is None
                else to_jsonb_text(write.custom_metadata_json),
            )
        )

    def memory_record(self, row: Sequence[Any], app_name: str, user_id: str) -> MemoryRecord:
        row = [*row[:5], from_jsonb_text(row[5]), from_jsonb_text(row[6])]
        return super().memory_record(row, app_name, user_id)

    def forget_memory_entry(self, *, app_name: str, user_id: str, memory_id: str) -> Op[int]:
        return _sole(super().forget_memory_entry(app_name=app_name, user_id=user_id, memory_id=memory_id))

    def delete_memory_entries(self, *, app_name: str, user_id: str, session_id: str | None = None) -> Op[int]:
        op = super().delete_memory_entries(app_name=app_name, user_id=user_id, session_id=session_id)
        return _sole(op, retry_safe=True)

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        return _sole(super().delete_memory_before(before=float(before), app_name=app_name), retry_safe=True)

    # -------------------------------------------------------------- artifacts
    def artifact_save_sql(self) -> str | None:
        """:attr:`artifact_insert_sql` with :attr:`artifact_next_version_sql` as its version, or None.

        One statement allocates and inserts; a lost race inserts nothing and
        returns no row. Parameters: the key, the key again (for the subquery),
        then the version's columns. None when the insert statement does not
        have the expected shape (then the two-statement base save runs).
        """
        insert = self.artifact_insert_sql
        if _VERSION_SLOT not in insert or not insert.endswith("ON CONFLICT DO NOTHING"):
            return None
        subquery = f"VALUES (?, ?, ?, ?, ({self.artifact_next_version_sql}),"
        return insert.replace(_VERSION_SLOT, subquery, 1) + " RETURNING version"

    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        """One statement; None after a lost race, which the caller retries in a new transaction."""
        sql = self.artifact_save_sql()
        if sql is None:
            return (yield from super().save_artifact_version(key, write))
        params = (*key.params(), *key.params(), *self.artifact_write_params(write))
        row = yield SoleStmt(sql, params, Fetch.ONE)
        return None if row is None else int(row[0])

    def get_artifact_version(self, key: ArtifactKey, version: int | None = None) -> Op[ArtifactRow | None]:
        return _sole(super().get_artifact_version(key, version))

    def list_artifact_versions(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        return _sole(super().list_artifact_versions(key))

    def list_artifact_keys(self, *, app_name: str, user_id: str, session_id: str | None) -> Op[list[str]]:
        return _sole(super().list_artifact_keys(app_name=app_name, user_id=user_id, session_id=session_id))

    def artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> Op[bool]:
        return _sole(super().artifact_uri_exists(key, canonical_uri))

    @cached_property
    def artifact_delete_key_sql(self) -> str:
        return f"DELETE FROM {self.artifact_table} WHERE {ARTIFACT_KEY_WHERE} RETURNING {self.artifact_select_columns}"

    def delete_artifact(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Delete every version and return exactly the deleted rows, in one statement."""
        rows = yield SoleStmt(self.artifact_delete_key_sql, key.params(), Fetch.ALL)
        return sorted((self.artifact_row(row) for row in rows), key=lambda row: row["version"])

    def delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[list[ArtifactRow]]:
        """Retention in one statement: the rows returned are exactly the rows deleted."""
        sql = self.retention_sql(
            self.artifact_table, "create_time", by_app=app_name is not None, returning=self.artifact_select_columns
        )
        params: tuple[Any, ...] = (float(before),) if app_name is None else (float(before), app_name)
        rows = yield SoleStmt(sql, params, Fetch.ALL)
        return [self.artifact_row(row) for row in rows]

    def statements(self) -> Iterator[str]:
        yield from super().statements()
        flags = (False, True)
        for app, user in itertools.product(flags, flags):
            yield self.create_session_sql(app=app, user=user)
            for first in flags:
                yield self.get_session_sql(events=first, after=app, limit=user)
                yield self.append_sql(by_revision=first, app=app, user=user)
        for by_user, after, limit in itertools.product(flags, (0, 2, 3), flags):
            yield self.list_sql(by_user=by_user, after=after, limit=limit)
        yield self.delete_session_sql
        yield self.artifact_delete_key_sql
        for by_app in (False, True):
            yield self.retention_sql(self.events_table, "timestamp", by_app=by_app)
            yield self.retention_sql(self.session_table, "update_time", by_app=by_app)
            yield self.retention_sql(
                self.artifact_table, "create_time", by_app=by_app, returning=self.artifact_select_columns
            )
        yield f"WITH {self._upsert_cte('m', 'app', '(SELECT 1) one')} SELECT state::text FROM m"
        yield f"WITH {self._upsert_cte('m', 'user', '(SELECT 1) one')} SELECT state::text FROM m"
        yield from self.memory_statements()
        yield from self.artifact_statements()
        yield self.artifact_save_sql() or ""
