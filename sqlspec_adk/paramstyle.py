"""Placeholder styles: statements are written with ``?``; each driver wants its own.

Pure text rewriting, cached per statement text (statements are a small, fixed
set). A ``?`` inside a quoted literal or identifier is left alone.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["colon", "dollar", "format_percent", "named_at", "placeholder_count", "split_at_placeholders"]


def split_at_placeholders(sql: str) -> list[str]:
    """The pieces of ``sql`` between its ``?`` placeholders (those outside quotes)."""
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


def _numbered(sql: str, mark: str) -> str:
    pieces = split_at_placeholders(sql)
    return "".join(piece + (f"{mark}{index}" if index < len(pieces) else "") for index, piece in enumerate(pieces, 1))


@lru_cache(maxsize=4096)
def placeholder_count(sql: str) -> int:
    """How many ``?`` placeholders ``sql`` has."""
    return len(split_at_placeholders(sql)) - 1


@lru_cache(maxsize=4096)
def dollar(sql: str) -> str:
    """``$1, $2, ...`` (asyncpg, psycopg raw cursors, psqlpy, ADBC PostgreSQL)."""
    return _numbered(sql, "$")


@lru_cache(maxsize=4096)
def colon(sql: str) -> str:
    """``:1, :2, ...`` (python-oracledb)."""
    return _numbered(sql, ":")


@lru_cache(maxsize=4096)
def named_at(sql: str) -> str:
    """``@p1, @p2, ...`` (Cloud Spanner)."""
    return _numbered(sql, "@p")


@lru_cache(maxsize=4096)
def format_percent(sql: str, *, escape_percent: bool = True) -> str:
    """``%s``, with a literal ``%`` doubled when the driver un-doubles it (PyMySQL does, mysql-connector not)."""
    pieces = split_at_placeholders(sql)
    if escape_percent:
        pieces = [piece.replace("%", "%%") for piece in pieces]
    return "%s".join(pieces)
