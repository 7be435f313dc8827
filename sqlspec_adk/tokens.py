"""Text extraction and the one tokenizer used to index and to search memory.

The same :func:`tokenize` runs at index time (the stored ``search_text``) and at
query time, so matching only ever compares tokens with tokens:

- Text is folded: NFKD, case folding, combining accents dropped, NFC. ``Café``,
  ``CAFE`` and ``cafe`` are one token; full-width and compatibility forms fold
  to their plain letters. The kana voicing marks are kept (``が`` is not ``か``).
- A token is a run of letters and digits (plus the spacing marks some scripts
  write inside words). Underscore, punctuation, symbols and emoji separate
  tokens and never appear in one.
- Every Han, Hiragana, Katakana, Bopomofo and Hangul character is a token of
  its own: these scripts are written without spaces, so ``東京`` is found in
  ``私は東京に住んでいます`` and ``Python`` in ``私はPythonを使う``.
- Tokens are cut at :data:`MAX_TOKEN_CHARS` characters, the same way on both
  sides, so no backend's token length limit makes a word unfindable.

Because a token can only hold letters, digits and marks, it can be placed in a
full-text query (double-quoted) or a LIKE pattern without any character of it
acting as syntax or as a wildcard. :func:`is_safe_token` states that alphabet;
dialects check it before building a query.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.genai import types

__all__ = [
    "EMPTY_SEARCH_TEXT",
    "MAX_QUERY_TOKENS",
    "MAX_SEARCH_TEXT_CHARS",
    "MAX_TOKEN_CHARS",
    "content_text",
    "fold",
    "is_safe_token",
    "query_tokens",
    "search_text",
    "tokenize",
]

#: A query uses at most this many distinct tokens (the first ones), so a huge
#: query costs no more than a long sentence.
MAX_QUERY_TOKENS = 64
#: Tokens longer than this are cut, at index and at query time alike.
MAX_TOKEN_CHARS = 64
#: Upper bound of a stored ``search_text``; past it only new distinct tokens are kept.
MAX_SEARCH_TEXT_CHARS = 60_000
#: The ``search_text`` of an entry with no tokens (a single space, never empty:
#: Oracle stores an empty string as NULL).
EMPTY_SEARCH_TEXT = " "

# The kana voicing marks are combining characters, but dropping them would turn
# one syllable into another (が -> か); NFC puts them back into the letter.
_KEPT_MARKS = frozenset("\u3099\u309a")
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")

# Scripts written without spaces between words; each of their letters is a token.
_SPACELESS_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3005, 0x3007),  # iteration mark, closing mark, ideographic zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3038, 0x303C),
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31A0, 0x31BF),  # Bopomofo extended
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x16FE0, 0x16FFF),  # ideographic symbols
    (0x1B000, 0x1B16F),  # kana supplement and extended
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)

_SEPARATOR, _WORD, _SPACELESS = 0, 1, 2


@lru_cache(maxsize=16_384)
def _kind(char: str) -> int:
    """Whether a folded character separates tokens, continues a word, or is a token by itself."""
    category = unicodedata.category(char)
    if category[0] not in "LNM":
        return _SEPARATOR
    code = ord(char)
    for low, high in _SPACELESS_RANGES:
        if low <= code <= high:
            return _SPACELESS
    return _WORD


def fold(text: str) -> str:
    """Case-fold ``text`` and drop its accents (NFKD, casefold, combining marks removed, NFC)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(
        char for char in decomposed if char in _KEPT_MARKS or unicodedata.category(char) not in ("Mn", "Me")
    )
    return unicodedata.normalize("NFC", stripped)


def tokenize(text: str) -> list[str]:
    """Every token of ``text`` in order, duplicates included (see the module docstring)."""
    if text.isascii():
        return [token[:MAX_TOKEN_CHARS] for token in _ASCII_TOKEN.findall(text.lower())]
    tokens: list[str] = []
    word: list[str] = []
    for char in fold(text):
        kind = _kind(char)
        if kind == _WORD:
            word.append(char)
            continue
        if word:
            tokens.append("".join(word[:MAX_TOKEN_CHARS]))
            word = []
        if kind == _SPACELESS:
            tokens.append(char)
    if word:
        tokens.append("".join(word[:MAX_TOKEN_CHARS]))
    return tokens


def query_tokens(query: str) -> list[str]:
    """The distinct tokens of a search query, in order, at most :data:`MAX_QUERY_TOKENS`.

    Any string is accepted; one without letters or digits gives ``[]``.
    """
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, got {type(query).__name__}")
    distinct: dict[str, None] = {}
    # Folding is linear, but there is no need to fold a megabyte to find 64 words.
    for token in tokenize(query[: MAX_QUERY_TOKENS * (MAX_TOKEN_CHARS + 1) * 4]):
        distinct.setdefault(token, None)
        if len(distinct) == MAX_QUERY_TOKENS:
            break
    return list(distinct)


def search_text(text: str) -> str:
    """The stored, indexed form of ``text``: its tokens joined by single spaces, padded with one space.

    The padding lets a plain substring test ``' token '`` match whole tokens
    only. Past :data:`MAX_SEARCH_TEXT_CHARS` only tokens not seen yet are added,
    so every distinct word of a long text stays findable as long as possible.
    """
    tokens = tokenize(text)
    if not tokens:
        return EMPTY_SEARCH_TEXT
    joined = " ".join(tokens)
    if len(joined) + 2 > MAX_SEARCH_TEXT_CHARS:
        kept: list[str] = []
        size = 1
        for token in dict.fromkeys(tokens):
            if size + len(token) + 1 > MAX_SEARCH_TEXT_CHARS:
                break
            kept.append(token)
            size += len(token) + 1
        joined = " ".join(kept)
    return f" {joined} "


def is_safe_token(token: str) -> bool:
    """Whether ``token`` is a non-empty token of the restricted alphabet (letters, digits, marks)."""
    return bool(token) and len(token) <= MAX_TOKEN_CHARS and all(_kind(char) != _SEPARATOR for char in token)


def content_text(content: types.Content | None) -> str:
    """The searchable text of a ``types.Content``: its text parts, thoughts excluded."""
    if content is None or not content.parts:
        return ""
    return "\n".join(part.text for part in content.parts if part.text and not part.thought)
