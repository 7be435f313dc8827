"""JSONB as the PostgreSQL family binds and reads it, and the tsquery text of a memory search.

JSON is bound as text (``?::text::jsonb``) and read back as text (``::text``),
so every driver hands the converters the same thing and big integers survive
exactly. JSONB cannot hold U+0000, so the bound text carries each ``\\u0000``
escape as MARK + ``0`` and each MARK (U+10FFFF, a noncharacter) as MARK + MARK;
text read back is mapped back. Strings keep their exact content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlspec_adk.dialects.common import JsonCodec

__all__ = ["JsonbCodec", "from_jsonb_text", "to_jsonb_text", "tsquery_text"]

_MARK = "\U0010ffff"
_TO_JSONB = re.compile(r"\\\\|\\u0000|\U0010ffff|\\u[dD][bB][fF][fF]\\u[dD][fF][fF][fF]")
_FROM_JSONB = re.compile("\U0010ffff(.)", re.DOTALL)
_TSQUERY_SPECIAL = re.compile(r"(['\\])")


def to_jsonb_text(text: str) -> str:
    """JSON text that JSONB accepts, NUL characters included (see :func:`from_jsonb_text`)."""
    if "\\u0000" not in text and _MARK not in text and "\\u" not in text:
        return text
    return _TO_JSONB.sub(_mark_match, text)


def _mark_match(match: re.Match[str]) -> str:
    found = match.group()
    if found == "\\\\":
        return found  # an escaped backslash: the next "u0000" is text, not an escape
    return _MARK + "0" if found == "\\u0000" else _MARK + _MARK


def from_jsonb_text(text: Any) -> Any:
    """Inverse of :func:`to_jsonb_text` for JSON read back as text; anything else passes through."""
    if not isinstance(text, str) or _MARK not in text:
        return text
    return _FROM_JSONB.sub(lambda match: "\\u0000" if match.group(1) == "0" else _MARK, text)


class JsonbCodec(JsonCodec):
    """JSONB columns: bound as escaped text, selected as text, unescaped when read."""

    param: ClassVar[str] = "?::text::jsonb"

    def text(self, text: str) -> str:
        return to_jsonb_text(text)

    def read(self, value: Any) -> Any:
        return from_jsonb_text(value)

    def select(self, column: str) -> str:
        return f"{column}::text"


def tsquery_text(tokens: Sequence[str]) -> str:
    """A ``to_tsquery`` input matching any of ``tokens``, each one a quoted operand.

    Inside quotes a backslash escapes the next character in both PostgreSQL and
    CockroachDB, so no character of a token can act as tsquery syntax.
    """
    return " | ".join("'" + _TSQUERY_SPECIAL.sub(r"\\\1", token) + "'" for token in tokens)
