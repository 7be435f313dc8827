"""Connection glue for google-cloud-spanner's sync client: parameters, results, error kinds.

- Statements go out with ``@p1, @p2, ...`` and every parameter typed
  (:func:`bind`). A NULL is bound as STRING: untyped, Spanner infers INT64 for
  ``SELECT @p AS column``, which a STRING column then refuses (every nullable
  column here is a STRING; an INT64 ``owner_id_column`` needs a non-null owner).
- A failed row of a DML batch comes back as a status, not an exception; it is
  raised as the matching ``google.api_core`` exception (:func:`raise_status`).
- The client is not annotated, so the calls used here are stated as
  protocols (:class:`SpannerDatabase`, :class:`SpannerSession`,
  :class:`ReadWrite`, :class:`ReadOnly`) that its objects satisfy; mypy checks
  the glue against them.
- What an error is (:func:`classify_spanner`): an abort (contention; the
  emulator aborts every concurrent read-write transaction but one, and on a
  multiplexed session reports it as "Transaction not found" or "Invalid
  transaction ID") is ROLLED_BACK; the service unavailable or a deadline passed mid-call is LOST;
  a session the server no longer knows is UNSENT; an existing key is
  DUPLICATE; a schema object already there ("Duplicate name in schema", the
  search index has no ``IF NOT EXISTS``; a second row deletion policy) or
  already gone (a row deletion policy or a column dropped again: Spanner has no
  ``IF EXISTS`` for either) is EXISTS (:data:`SCHEMA_DONE`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from google.api_core import exceptions
from google.cloud import spanner
from google.cloud.spanner_v1 import Type, TypeCode, param_types
from google.cloud.spanner_v1.database_sessions_manager import DatabaseSessionsManager

from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.vectors import Float32Array

__all__ = [
    "DDL_VERBS",
    "ReadOnly",
    "ReadWrite",
    "SpannerClient",
    "SpannerDatabase",
    "SpannerSession",
    "bind",
    "classify_spanner",
    "new_client",
    "raise_status",
]

#: Statements that go through the schema API, outside any transaction.
DDL_VERBS = ("CREATE", "ALTER", "DROP")
_FLOAT32_ARRAY = Type(code=TypeCode.ARRAY, array_element_type=param_types.FLOAT32)  # param_types.Array's
_TYPES = ((bool, param_types.BOOL), (int, param_types.INT64), (float, param_types.FLOAT64), (bytes, param_types.BYTES))


Params = dict[str, Any]
#: ``google.api_core.exceptions.from_grpc_status`` (unannotated), with its signature.
from_grpc_status: Callable[[int, str], Exception] = exceptions.from_grpc_status


class ReadOnly(Protocol):
    """A read-only snapshot (``Snapshot``), or the reads of a read-write transaction."""

    def execute_sql(self, sql: str, /, params: Params, param_types: Params) -> Iterable[Sequence[Any]]: ...


class ReadWrite(ReadOnly, Protocol):
    """A read-write transaction (``Transaction``)."""

    def execute_update(self, dml: str, /, params: Params, param_types: Params) -> int: ...

    def batch_update(self, statements: list[tuple[str, Params, Params]], /) -> tuple[Any, list[int]]: ...

    def commit(self) -> object: ...

    def rollback(self) -> None: ...


class SpannerSession(Protocol):
    """A session (``Session``): starts transactions and snapshots."""

    def transaction(self) -> ReadWrite: ...

    def snapshot(self, *, multi_use: bool) -> ReadOnly: ...


class SpannerDatabase(Protocol):
    """A database handle (``Database``): sessions and the schema API."""

    @property
    def sessions_manager(self) -> DatabaseSessionsManager: ...

    def update_ddl(self, ddl_statements: list[str], /) -> Any: ...


class SpannerInstance(Protocol):
    def database(self, database_id: str, /, **options: Any) -> SpannerDatabase: ...


class SpannerClient(Protocol):
    """A client (``google.cloud.spanner.Client``)."""

    def instance(self, instance_id: str, /) -> SpannerInstance: ...

    def close(self) -> None: ...


def new_client(options: dict[str, Any]) -> SpannerClient:
    """A ``google.cloud.spanner.Client`` made with ``options`` (its keywords)."""
    return spanner.Client(**options)


def param_type(value: Any) -> Any:
    """The Spanner type of one parameter value (None and str: STRING; a Float32Array: ARRAY<FLOAT32>)."""
    if isinstance(value, Float32Array):
        return _FLOAT32_ARRAY
    for python_type, spanner_type in _TYPES:
        if isinstance(value, python_type):
            return spanner_type
    return param_types.STRING


def bind(params: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Named parameters ``p1..pn`` and their types."""
    values = {f"p{index}": value for index, value in enumerate(params, start=1)}
    types = {name: param_type(value) for name, value in values.items()}
    return {name: _plain(value) for name, value in values.items()}, types


def _plain(value: Any) -> Any:
    """A parameter value as the client takes it (a Float32Array as a list, or None)."""
    if isinstance(value, Float32Array):
        return None if value.values is None else list(value.values)
    return value


def raise_status(status: Any) -> None:
    """Raise a ``batch_update`` status that is not OK as the exception the same error would be in a call."""
    if status.code:
        raise from_grpc_status(status.code, status.message)


#: What the emulator says instead of "aborted" when a concurrent transaction on the same multiplexed
#: session displaced this one, or when a schema change meets an open read-write transaction (it runs one
#: at a time). Nothing of the transaction committed.
EMULATOR_DISPLACED = (
    "Transaction not found",
    "Invalid transaction ID",
    "Cannot read or query using a transaction after it has been committed or rolledback",
    "concurrent schema change operation or read-write transaction is already in progress",
)


#: What a schema change says when what it does is already done (the emulator's words; a migration statement
#: only, see the engine's ``exists_ok``): an object of that name is there, the table has a row deletion policy
#: (ADD ROW DELETION POLICY again), the policy or the column is gone (DROP again; no ALTER COLUMN is a step).
SCHEMA_DONE = (
    "Duplicate name in schema",
    "Cannot create ROW DELETION POLICY because there is already one",
    "ROW DELETION POLICY does not exist on table",
    "Column not found in table",
)


def classify_spanner(error: BaseException) -> ErrorKind | None:
    """The kind of a google-cloud-spanner error (see the module docstring), None for "raise it as it is"."""
    if isinstance(error, exceptions.Aborted):
        return ErrorKind.ROLLED_BACK
    if isinstance(error, exceptions.NotFound | exceptions.FailedPrecondition) and any(
        text in str(error) for text in EMULATOR_DISPLACED
    ):
        return ErrorKind.ROLLED_BACK
    if isinstance(error, exceptions.AlreadyExists):
        return ErrorKind.DUPLICATE
    schema_error = exceptions.FailedPrecondition | exceptions.InvalidArgument | exceptions.NotFound
    if isinstance(error, schema_error) and any(text in str(error) for text in SCHEMA_DONE):
        return ErrorKind.EXISTS
    if isinstance(error, exceptions.ServiceUnavailable | exceptions.DeadlineExceeded):
        return ErrorKind.LOST
    if isinstance(error, exceptions.NotFound) and "Session not found" in str(error):
        return ErrorKind.UNSENT
    return None
