"""``spanner`` connection glue: google-cloud-spanner's sync client, one operation per worker thread.

The engine runs the transaction (:attr:`~sqlspec_adk.dialects.spanner.SpannerDialect.rules`)
on a :class:`SpannerConnection`: a session checked out of the database's
session manager (a multiplexed session by default) plus the transaction open
on it. ``BEGIN`` starts a read-write transaction (it begins on the server with
its first statement), ``BEGIN READ ONLY`` a multi-use read-only snapshot (where
``SEARCH`` is allowed), COMMIT commits it, ROLLBACK rolls it back. An aborted
transaction is retried by the engine with a fresh run of the operation, so a
retried append reads the session anew and fails its own stale check when
another writer won.

The first operation of a config reads the database's SQL dialect
(:func:`~sqlspec_adk.dialects.spanner.database_dialect_op`): a PostgreSQL-dialect
database is refused with a ``ConfigError`` before anything is written.

DDL goes through the schema API (``Database.update_ddl``), outside any
transaction: Spanner (and its emulator) refuse a schema change while a
read-write transaction is open, so DDL first commits the work before it, as
DDL does in Oracle, and what follows runs in a new transaction.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from google.cloud.spanner_v1.database_sessions_manager import DatabaseSessionsManager, TransactionType
from google.cloud.spanner_v1.session import Session

from sqlspec_adk.adapters._spanner import (
    DDL_VERBS,
    ReadOnly,
    ReadWrite,
    SpannerClient,
    SpannerDatabase,
    SpannerSession,
    bind,
    classify_spanner,
    new_client,
    raise_status,
)
from sqlspec_adk.config import AsyncDatabaseConfig
from sqlspec_adk.dialects.spanner import READ_ONLY, SpannerDialect, check_googlesql_column, database_dialect_op
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.loop import run_sync
from sqlspec_adk.engine.tracing import traced
from sqlspec_adk.engine.transaction import Plan, transaction
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.paramstyle import named_at
from sqlspec_adk.protocol import Fetch, Operation, Stmt

__all__ = ["SpannerConfig", "SpannerConnection"]

T = TypeVar("T")


@dataclass
class SpannerConnection:
    """A checked-out session and the read-write transaction or read-only snapshot open on it, if any."""

    session: Session
    manager: DatabaseSessionsManager  #: where the session goes back
    transaction: ReadWrite | None = None
    snapshot: ReadOnly | None = None
    used: bool = False  #: a statement ran in ``transaction``, so it has begun on the server

    def begin(self, transaction: ReadWrite | None = None, snapshot: ReadOnly | None = None) -> None:
        self.transaction, self.snapshot, self.used = transaction, snapshot, False

    def starter(self) -> SpannerSession:
        """The session, as the calls that start a transaction or snapshot."""
        return self.session

    def writer(self) -> ReadWrite:
        if self.transaction is None:
            raise RuntimeError("a Spanner write outside a read-write transaction")
        return self.transaction


class SpannerConfig(AsyncDatabaseConfig):
    """Config for Cloud Spanner (GoogleSQL databases).

    ``connection_config`` takes ``instance_id`` and ``database_id`` plus
    ``google.cloud.spanner.Client`` keywords (``project``, ``credentials``,
    ``client_options``, ...); ``pool_config`` goes to ``Instance.database``
    (``pool=...``). Async stores: each operation runs whole in a worker thread,
    so a cancelled caller never cuts a transaction short.
    """

    dialect_class = SpannerDialect
    ddl_timeout: ClassVar[float] = 600.0

    def configure(self) -> None:
        if self.adk.owner_id_column is not None:
            check_googlesql_column(self.adk.owner_id_column.ddl)
        self._client_options = dict(self.connection_config)
        try:
            self._instance_id = str(self._client_options.pop("instance_id"))
            self._database_id = str(self._client_options.pop("database_id"))
        except KeyError as missing:
            raise ConfigError(
                f"connection_config needs {missing.args[0]!r} ('instance_id' and 'database_id')"
            ) from None
        self.googlesql_checked = False  #: the database was found to be of the GoogleSQL dialect
        self._client: SpannerClient | None = None
        self._database: SpannerDatabase | None = None
        self._lock = threading.Lock()

    def database(self) -> SpannerDatabase:
        """The client's database handle, made on first use."""
        with self._lock:
            if self._database is None:
                self._client = client = new_client(self._client_options)
                self._database = client.instance(self._instance_id).database(self._database_id, **self.pool_config)
            return self._database

    async def arun(self, operation: Operation[T]) -> T:
        if not self.googlesql_checked:  # once per config: a PostgreSQL-dialect database is refused
            await self._arun(Operation("database_dialect", database_dialect_op, write=False))
            self.googlesql_checked = True
        return await self._arun(operation)

    async def _arun(self, operation: Operation[T]) -> T:
        with traced(operation, self.dialect.db_system) as on_retry:
            return await asyncio.to_thread(self._run, transaction(operation, self.dialect.rules, self, on_retry))

    def _run(self, plan: Plan[T]) -> T:
        return run_sync(self, plan)

    # ------------------------------------------------------- driver glue (sync)
    def acquire(self, write: bool) -> SpannerConnection:
        manager = self.database().sessions_manager
        kind = TransactionType.READ_WRITE if write else TransactionType.READ_ONLY
        return SpannerConnection(manager.get_session(kind), manager)

    def release(self, connection: SpannerConnection, discard: bool) -> None:
        # A session is not a connection: the session manager keeps it (or its pool checks it).
        connection.begin()
        connection.manager.put_session(connection.session)

    def refresh(self) -> None:
        """Nothing to drop: the client reconnects its channel itself."""

    def execute(self, connection: SpannerConnection, stmt: Stmt) -> Any:
        if stmt.sql.lstrip().upper().startswith(DDL_VERBS):
            return self.apply_ddl(connection, stmt.sql)
        sql, reader = named_at(stmt.sql), connection.transaction or connection.snapshot
        if reader is None:
            raise RuntimeError("a Spanner statement outside a transaction")
        connection.used = True
        if stmt.many:
            rows = [(sql, *bind(row)) for row in stmt.params]
            status, counts = connection.writer().batch_update(rows) if rows else (None, [])
            if status is not None:
                raise_status(status)
            return sum(counts) if stmt.fetch is Fetch.ROWCOUNT else None
        params, types = bind(stmt.params)
        if stmt.fetch in (Fetch.ONE, Fetch.ALL):
            found = [tuple(row) for row in reader.execute_sql(sql, params=params, param_types=types)]
            return found if stmt.fetch is Fetch.ALL else (found[0] if found else None)
        count = connection.writer().execute_update(sql, params=params, param_types=types)
        return count if stmt.fetch is Fetch.ROWCOUNT else None

    def apply_ddl(self, connection: SpannerConnection, sql: str) -> None:
        """One schema change; a read-write transaction with work in it is committed first."""
        if connection.transaction is not None and connection.used:
            connection.transaction.commit()
            connection.begin(connection.starter().transaction())
        self.database().update_ddl([sql]).result(self.ddl_timeout)

    def command(self, connection: SpannerConnection, sql: str) -> None:
        rules = self.dialect.rules
        if sql in rules.begin_write:
            connection.begin(connection.starter().transaction())
        elif sql == READ_ONLY:
            connection.begin(snapshot=connection.starter().snapshot(multi_use=True))
        elif sql in (rules.commit, rules.rollback):
            txn, used = connection.transaction, connection.used
            connection.begin()
            if txn is not None and used:  # else nothing began on the server
                txn.commit() if sql == rules.commit else txn.rollback()
        else:
            raise ValueError(f"not a Spanner transaction command: {sql!r}")

    def in_transaction(self, connection: SpannerConnection) -> bool:
        return connection.transaction is not None or connection.snapshot is not None

    def classify(self, error: BaseException) -> ErrorKind | None:
        return classify_spanner(error)

    async def close_pool(self) -> None:
        with self._lock:
            client, self._client, self._database = self._client, None, None
        if client is not None:
            await asyncio.to_thread(client.close)
