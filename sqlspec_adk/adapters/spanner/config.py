"""``spanner`` connection glue: google-cloud-spanner's sync client, run in worker threads.

A write operation runs in one read-write transaction (``run_in_transaction``),
which the client retries when Spanner aborts it. A retry replays the
statements the operation already ran and continues only if each returns what
it returned before, since the operation's decisions depend on nothing else;
otherwise it stops (a changed session row is ADK's stale session). Reads run in
one read-only snapshot, where ``SEARCH`` is allowed. DDL goes through the
schema API, outside any transaction.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar, TypeVar

from google.api_core import exceptions
from google.cloud import spanner

from sqlspec_adk.config import AsyncDatabaseConfig
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.dialects.spanner import DDL_VERBS, SpannerDialect, to_named_params
from sqlspec_adk.protocol import Fetch, Op, Stmt, drive_sync

__all__ = ["SpannerConfig", "TransactionReplayError"]

T = TypeVar("T")
_ABORTED = 10  # google.rpc.Code.ABORTED
_TYPES = ((bool, spanner.param_types.BOOL), (int, spanner.param_types.INT64), (float, spanner.param_types.FLOAT64))


class TransactionReplayError(RuntimeError):
    """A retried transaction read different data than the aborted attempt; the operation cannot continue."""


class SpannerConfig(AsyncDatabaseConfig):
    """Config for Cloud Spanner.

    ``connection_config`` takes ``instance_id`` and ``database_id`` plus
    ``google.cloud.spanner.Client`` keywords (``project``, ``credentials``,
    ``client_options``, ...); ``pool_config`` goes to ``Instance.database``
    (``pool=...``).
    """

    dialect_class: ClassVar[type[BaseDialect]] = SpannerDialect
    dialect: SpannerDialect
    ddl_timeout: ClassVar[float] = 600.0
    _client: Any = None
    _database: Any = None

    def database(self) -> Any:
        with _LOCK:
            if self._database is None:
                options = dict(self.connection_config)
                instance, database = options.pop("instance_id"), options.pop("database_id")
                self._client = spanner.Client(**options)
                self._database = self._client.instance(instance).database(database, **self.pool_config)
            return self._database

    async def run(self, op: Op[T], *, write: bool) -> T:
        return await asyncio.to_thread(self.run_sync, op, write=write)

    def run_sync(self, op: Op[T], *, write: bool) -> T:
        database = self.database()
        if not write:
            with database.snapshot(multi_use=True) as snapshot:
                return drive_sync(op, lambda stmt: self.execute(snapshot, stmt))
        replay = _Replay(self, op)
        result: T = database.run_in_transaction(replay)
        return result

    def execute(self, transaction: Any, stmt: Stmt) -> Any:
        """Run one statement in ``transaction``; DDL goes to the schema API instead."""
        if stmt.sql.startswith(DDL_VERBS):
            return self.apply_ddl(stmt.sql)
        sql = to_named_params(stmt.sql)
        if stmt.many:
            if stmt.params:
                status, _ = transaction.batch_update([(sql, *_bind(row)) for row in stmt.params])
                if status.code:
                    raise (exceptions.Aborted if status.code == _ABORTED else TransactionReplayError)(status.message)
            return None
        params, types = _bind(stmt.params)
        if stmt.fetch in (Fetch.ONE, Fetch.ALL):
            rows = [tuple(row) for row in transaction.execute_sql(sql, params=params, param_types=types)]
            return rows if stmt.fetch is Fetch.ALL else (rows[0] if rows else None)
        count = transaction.execute_update(sql, params=params, param_types=types)
        return count if stmt.fetch is Fetch.ROWCOUNT else None

    def apply_ddl(self, sql: str) -> None:
        try:
            self.database().update_ddl([sql]).result(self.ddl_timeout)
        except exceptions.GoogleAPICallError as error:
            if not self.dialect.is_tolerated_ddl_error(sql, str(error)):
                raise

    async def close_pool(self) -> None:
        with _LOCK:
            client, self._client, self._database = self._client, None, None
        if client is not None and hasattr(client, "close"):
            await asyncio.to_thread(client.close)


class _Replay:
    """The function ``run_in_transaction`` calls per attempt: replays earlier statements, then goes on."""

    def __init__(self, config: SpannerConfig, op: Op[Any]) -> None:
        self.config, self.op = config, op
        self.history: list[tuple[Stmt, Any]] = []
        self.pending: Stmt | None = None
        self.done, self.value = False, None

    def __call__(self, transaction: Any) -> Any:
        for stmt, result in self.history:
            if not stmt.sql.startswith(DDL_VERBS) and self.config.execute(transaction, stmt) != result:
                raise self.config.dialect.replay_mismatch_error(stmt) or TransactionReplayError(
                    "Spanner aborted the transaction and its retry read different data; retry the operation"
                )
        try:
            if self.pending is None and not self.done:
                self.pending = next(self.op)
            while not self.done and self.pending is not None:
                result = self.config.execute(transaction, self.pending)
                self.history.append((self.pending, result))
                self.pending = self.op.send(result)
        except StopIteration as stop:
            self.done, self.value, self.pending = True, stop.value, None
        return self.value


def _bind(params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Named parameters ``p1..pn`` and their Spanner types (a NULL stays untyped: Spanner infers it)."""
    values = {f"p{index}": value for index, value in enumerate(params, start=1)}
    types = {name: _type(value) for name, value in values.items() if value is not None}
    return values, types


def _type(value: Any) -> Any:
    for python_type, spanner_type in _TYPES:
        if isinstance(value, python_type):
            return spanner_type
    return spanner.param_types.STRING


_LOCK = threading.Lock()
