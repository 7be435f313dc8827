"""Stored vectors in the forms the families bind and read, with little-endian float32 bytes as the common form.

- :func:`vector_bytes` / :func:`vector_from_bytes`: a vector as float32
  little-endian bytes (the BLOB of SQLite, MySQL/MariaDB and Oracle before 23ai)
  and back. The same bytes on every platform, so a database file moves
  between machines unchanged.
- :func:`vector_text`: a vector as the text of an array literal, ``{...}``
  (PostgreSQL ``real[]``) or ``[...]`` (pgvector, Oracle ``TO_VECTOR``): bound
  as text and cast by the server, so every driver binds the same thing. Each
  value is written with the nine significant digits that read back as the same float32.
- :func:`pg_array_bytes`: what PostgreSQL's ``array_send`` gives for a
  one-dimensional ``real[]``, as float32 little-endian bytes (a search reads
  stored vectors this way: no per-element text parsing).
- :func:`floats_bytes`: a sequence of floats (a driver's array value) as the same bytes.
- :class:`Float32Array`: a parameter a driver must type as an array of float32
  (Spanner's ``ARRAY<FLOAT32>``: an untyped float list is ``ARRAY<FLOAT64>``
  there, and a bare NULL is a STRING), or as that type's NULL.

Pure data: no driver, no numpy.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Float32Array", "floats_bytes", "pg_array_bytes", "vector_bytes", "vector_from_bytes", "vector_text"]

_LITTLE = sys.byteorder == "little"
#: ``array_send`` of a one-dimensional array: ndim, has-nulls flag, element type, length, lower bound.
_PG_ARRAY_HEADER = 20


@dataclass(frozen=True, slots=True)
class Float32Array:
    """A parameter bound as an array of float32 (``values``), or as that array type's NULL (None)."""

    values: tuple[float, ...] | None


def vector_bytes(vector: Sequence[float]) -> bytes:
    """``vector`` as float32 little-endian bytes; ``ValueError`` for NaN, an infinity or a value past float32."""
    values = [float(value) for value in vector]
    if not all(math.isfinite(value) for value in values):
        raise ValueError("a stored vector cannot hold NaN or an infinity")
    try:
        return struct.pack(f"<{len(values)}f", *values)
    except OverflowError:
        raise ValueError("a vector value is out of float32 range") from None


def vector_from_bytes(blob: bytes | bytearray | memoryview) -> list[float]:
    """The vector :func:`vector_bytes` wrote (as Python floats); ``ValueError`` if ``blob`` is not 4-byte aligned."""
    data = bytes(blob)
    if len(data) % 4:
        raise ValueError(f"a float32 vector takes a multiple of 4 bytes, got {len(data)}")
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def floats_bytes(values: Sequence[float]) -> bytes:
    """A sequence of floats as float32 little-endian bytes (C speed: ``array``)."""
    packed = array("f", values)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def vector_text(vector: Sequence[float], brackets: str = "{}") -> str:
    """The array literal of ``vector`` (``brackets``: ``"{}"`` or ``"[]"``), each value the float32 it stores."""
    values = struct.unpack(f"<{len(vector)}f", vector_bytes(vector))
    # Nine significant digits read back as the same float32, always.
    return brackets[0] + ",".join(format(value, ".9g") for value in values) + brackets[1]


def pg_array_bytes(raw: bytes | bytearray | memoryview) -> bytes:
    """PostgreSQL ``array_send(real[])`` (one dimension, no NULL element) as float32 little-endian bytes.

    After the header each element is its length (4) and its big-endian value;
    the lengths are dropped. ``ValueError`` for anything else.
    """
    data = bytes(raw)
    if len(data) < 12 or struct.unpack_from(">i", data)[0] not in (0, 1) or struct.unpack_from(">i", data, 4)[0]:
        raise ValueError("not the array_send form of a one-dimensional real[] without NULL elements")
    if struct.unpack_from(">i", data)[0] == 0:
        return b""
    body = data[_PG_ARRAY_HEADER:]
    if len(body) % 8:
        raise ValueError("a real[] element takes 8 bytes in array_send form")
    words = array("f")
    words.frombytes(body)
    if _LITTLE:
        words.byteswap()
    return floats_bytes(words[1::2])
