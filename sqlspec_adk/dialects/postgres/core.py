"""What every part of the PostgreSQL family shares: quoting, the JSONB codec, and three small compositions.

- Row counts: the family's operations count the rows they change in SQL
  (:func:`counted`: one row holding the count, read with ``Fetch.ONE``), and
  the only statements run for ``Fetch.ROWCOUNT`` are the skip-if-present
  inserts of :meth:`PostgresCore.insert_skip_sql`, which return the row they
  insert (``RETURNING``). So a driver that reports no row count (psqlpy)
  counts the returned rows, and no statement text is rewritten after it is
  built.
- :func:`alone` marks the statement of a one-statement operation ``alone``:
  PostgreSQL runs a lone statement in its own implicit transaction, as atomic
  as an explicit one, so the engine sends it without BEGIN/COMMIT (one round
  trip instead of three). :func:`together` undoes that for an operation made
  of several such parts.
- :func:`memoized` caches a statement builder's text per dialect instance.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from sqlspec_adk.dialects.common import DialectCore, JsonCodec
from sqlspec_adk.dialects.postgres.jsonb import JsonbCodec
from sqlspec_adk.protocol import Op

__all__ = ["PostgresCore", "alone", "counted", "memoized", "together"]

T = TypeVar("T")
S = TypeVar("S", bound=DialectCore)
P = ParamSpec("P")


class PostgresCore(DialectCore):
    """PostgreSQL quoting and JSONB; CockroachDB shares both."""

    sqlglot_name: ClassVar[str] = "postgres"
    json_codec_class: ClassVar[type[JsonCodec]] = JsonbCodec

    def insert_skip_sql(
        self,
        table: str,
        columns: Sequence[str],
        values: Sequence[str],
        keys: Sequence[str],
        *,
        returning: str = "1",
    ) -> str:
        """Insert one row unless a row with the same unique key exists; ``RETURNING returning`` for the inserted row.

        A row already there (or a lost race: no conflict target, so every
        unique key is an arbiter) returns no row and changes nothing.
        """
        return (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT DO NOTHING RETURNING {returning}"
        )


def counted(dml: str) -> str:
    """A statement running ``dml`` (INSERT, UPDATE or DELETE, no RETURNING) and selecting how many rows it changed."""
    return f"WITH changed AS ({dml} RETURNING 1) SELECT count(*) FROM changed"


def alone(op: Op[T], *, idempotent: bool = False) -> Op[T]:
    """``op``, an operation of exactly one statement, with that statement marked ``alone`` (and ``idempotent``).

    ``idempotent``: running the statement again after a connection lost
    mid-statement is harmless, so the engine may retry a lost lone write.
    The engine refuses an ``alone`` statement followed by another one.
    """
    try:
        stmt = next(op)
    except StopIteration as stop:
        done: T = stop.value
        return done
    while True:
        result = yield dataclasses.replace(stmt, alone=True, idempotent=idempotent)
        try:
            stmt = op.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value


def together(op: Op[T]) -> Op[T]:
    """``op`` with none of its statements marked ``alone``: for operations made of several parts' operations,
    which must run in one transaction even where each part alone is one statement."""
    try:
        stmt = next(op)
    except StopIteration as stop:
        done: T = stop.value
        return done
    while True:
        result = yield dataclasses.replace(stmt, alone=False)
        try:
            stmt = op.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value


def memoized(build: Callable[Concatenate[S, P], str]) -> Callable[Concatenate[S, P], str]:
    """Cache a statement builder's text per dialect instance and arguments (the flags of a statement's shape)."""

    @functools.wraps(build)
    def cached(self: S, /, *args: P.args, **kwargs: P.kwargs) -> str:
        cache: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_statement_cache", {})
        key = (build.__name__, args, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = build(self, *args, **kwargs)
        return cache[key]

    return cached
