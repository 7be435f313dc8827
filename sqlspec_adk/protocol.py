"""Store operations written once, run on sync or async drivers.

An operation is a generator that yields :class:`Stmt` objects and receives each
statement's result back through ``send``; its return value is the operation's
result. The same generator runs on ``sqlite3`` (sync) and ``aiosqlite`` (async),
the way psycopg 3 writes its protocol once. Adapters supply only ``execute``
and the transaction around it.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Fetch", "Op", "Stmt", "drive_async", "drive_sync", "to_dollar_params", "to_format_params"]

T = TypeVar("T")


class Fetch(enum.Enum):
    """What a statement sends back into the operation."""

    NONE = "none"  #: nothing (None)
    ONE = "one"  #: the first row as a tuple, or None
    ALL = "all"  #: every row as a list of tuples
    ROWCOUNT = "rowcount"  #: the number of rows changed


@dataclass(frozen=True, slots=True)
class Stmt:
    """One SQL statement with ``?`` placeholders and positional parameters.

    With ``many=True`` ``params`` is a sequence of parameter rows (executemany).
    """

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = Fetch.NONE
    many: bool = False


Op = Generator[Stmt, Any, T]


def drive_sync(op: Op[T], execute: Callable[[Stmt], Any]) -> T:
    """Run ``op`` to completion, executing each yielded statement with ``execute``."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(execute(stmt))
    except StopIteration as stop:
        result: T = stop.value
        return result


async def drive_async(op: Op[T], execute: Callable[[Stmt], Awaitable[Any]]) -> T:
    """Async twin of :func:`drive_sync`."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(await execute(stmt))
    except StopIteration as stop:
        result: T = stop.value
        return result


def _split_outside_quotes(sql: str) -> list[str]:
    """Split ``sql`` at ``?`` placeholders that are not inside quotes."""
    pieces: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in ("'", '"', "`"):
            quote = char
            current.append(char)
        elif char == "?":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def to_dollar_params(sql: str) -> str:
    """Rewrite ``?`` placeholders as ``$1, $2, ...`` (asyncpg, psqlpy)."""
    pieces = _split_outside_quotes(sql)
    return "".join(piece + (f"${index}" if index < len(pieces) else "") for index, piece in enumerate(pieces, start=1))


def to_format_params(sql: str) -> str:
    """Rewrite ``?`` placeholders as ``%s`` and escape literal ``%`` (psycopg, MySQL drivers)."""
    pieces = [piece.replace("%", "%%") for piece in _split_outside_quotes(sql)]
    return "%s".join(pieces)
