"""Pure conversions between ADK objects and stored values.

- Events round-trip losslessly as the JSON of ``model_dump(mode="json",
  exclude_none=True)``: bytes, function calls, actions and the exact float
  timestamp survive.
- State is split by prefix: ``app:`` and ``user:`` go to their own tables
  (stored without the prefix), ``temp:`` never reaches storage, the rest is
  session state.
- State values are coerced exactly as ADK 2.13's persisted services
  (``DatabaseSessionService``, ``SqliteSessionService``) coerce them, with
  pydantic's ``to_jsonable_python``: datetime, date and time become ISO strings
  (an aware UTC datetime ends in ``Z``), timedelta an ISO duration, set,
  frozenset and tuple lists, Decimal and UUID strings, UTF-8 bytes text, enums
  their value, pydantic models dicts; a value pydantic cannot serialize at all
  (a callable, a plain object) is stored as its ``repr``, with a warning, as
  ADK does. Values those services corrupt or fail on with a raw driver error
  are refused before a write with :class:`~sqlspec_adk.errors.InvalidStateError`
  naming the key: NaN and infinities, non-string dict keys, bytes that are not
  UTF-8, lone surrogates, nesting deeper than :data:`MAX_STATE_DEPTH`.
- The revision marker is the session row's revision counter as a string.
- JSON text never holds a positive-exponent number (``1e+20``): it is written
  positionally with a fraction (``100000000000000000000.0``), because JSONB
  stores numbers as decimals and would hand ``1e+20`` back as an integer.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions.state import State
from pydantic_core import to_jsonable_python

from sqlspec_adk.errors import InvalidStateError

__all__ = [
    "StateDelta",
    "check_json_state",
    "check_key_text",
    "coerce_state_value",
    "decode_event",
    "decode_state",
    "encode_event",
    "encode_state",
    "from_marker",
    "merge_state",
    "positional_floats",
    "split_state",
    "to_marker",
]

logger = logging.getLogger(__name__)

APP_PREFIX = State.APP_PREFIX
USER_PREFIX = State.USER_PREFIX
TEMP_PREFIX = State.TEMP_PREFIX


@dataclass(slots=True)
class StateDelta:
    """A state mapping split by scope; app and user keys are unprefixed."""

    session: dict[str, Any] = field(default_factory=dict)
    app: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.session or self.app or self.user)


def split_state(state: Mapping[str, Any] | None) -> StateDelta:
    """Split ``state`` by prefix, dropping ``temp:`` keys; values coerced as ADK does (:func:`coerce_state_value`)."""
    delta = StateDelta()
    if not state:
        return delta
    for key, value in state.items():
        if not isinstance(key, str):
            raise InvalidStateError(f"state key {key!r} must be a string, got {type(key).__name__}")
        if key.startswith(TEMP_PREFIX):
            continue
        if not _is_utf8(key):
            raise InvalidStateError(f"state key {key!r} contains a lone surrogate, which UTF-8 cannot store")
        value = coerce_state_value(value, key)
        if key.startswith(APP_PREFIX):
            delta.app[key[len(APP_PREFIX) :]] = value
        elif key.startswith(USER_PREFIX):
            delta.user[key[len(USER_PREFIX) :]] = value
        else:
            delta.session[key] = value
    return delta


def coerce_state_value(value: Any, key: str) -> Any:
    """``value`` as ADK's persisted services store it (see the module docstring), or InvalidStateError.

    Checked before the coercion: dict keys must be strings (pydantic would turn ``1`` and ``None``
    into ``"1"`` and ``"None"``, silently merging keys) and nesting is bounded. Checked after: the
    result is finite, valid UTF-8, plain JSON (:func:`check_json_state`).
    """
    _check_keys(value, key)
    try:
        plain = to_jsonable_python(value)
    except UnicodeError as error:
        raise _not_utf8(key, error) from None
    except Exception:
        try:
            plain = to_jsonable_python(value, serialize_unknown=True)
        except UnicodeError as error:
            raise _not_utf8(key, error) from None
        logger.warning(
            "state value at %r is not JSON-serializable; stored as its string representation, as ADK's "
            "persisted services store it",
            key,
        )
    check_json_state(plain, key)
    return plain


def _not_utf8(key: str, error: UnicodeError) -> InvalidStateError:
    if isinstance(error, UnicodeDecodeError):
        return InvalidStateError(
            f"state value at {key!r} holds bytes that are not UTF-8 text ({error.reason}); ADK's services store "
            "bytes as UTF-8 text: encode binary data first (e.g. base64) or save it as an artifact"
        )
    return InvalidStateError(f"state value at {key!r} holds a lone surrogate, which UTF-8 cannot store")


def _check_keys(value: Any, path: str) -> None:
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_STATE_DEPTH:
            raise InvalidStateError(
                f"state value at {where!r} is nested deeper than {MAX_STATE_DEPTH} levels, "
                "the most every supported database stores"
            )
        if isinstance(item, Mapping):
            for child_key, child in item.items():
                if not isinstance(child_key, str):
                    raise InvalidStateError(
                        f"state value at {where!r} has a non-string key {child_key!r}: JSON object keys are strings, "
                        "and ADK's services would silently turn it into one"
                    )
                stack.append((child, f"{where}.{child_key}", depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(item))


def merge_state(session: Mapping[str, Any], app: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """The state a caller sees: session keys plus prefixed app and user keys."""
    merged = dict(session)
    for key, value in app.items():
        merged[APP_PREFIX + key] = value
    for key, value in user.items():
        merged[USER_PREFIX + key] = value
    return merged


#: Deepest nesting of a state value. MariaDB's JSON functions (its JSON_VALID check) stop at 32 levels,
#: and an event stores a delta value 3 levels down ({"actions": {"state_delta": {key: value}}}).
MAX_STATE_DEPTH = 24


def check_json_state(value: Any, path: str) -> None:
    """Raise InvalidStateError unless ``value`` is plain JSON that round-trips exactly.

    Tuples, sets, bytes, datetimes, NaN and infinities are refused: they would
    come back as something else, or not at all. State goes through
    :func:`coerce_state_value` first; artifact metadata is held to this directly.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_STATE_DEPTH:
            raise InvalidStateError(
                f"state value at {where!r} is nested deeper than {MAX_STATE_DEPTH} levels, "
                "the most every supported database stores"
            )
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, str):
            if not _is_utf8(item):
                raise InvalidStateError(f"state value at {where!r} contains a lone surrogate, which UTF-8 cannot store")
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidStateError(f"state value at {where!r} is {item!r}, which JSON cannot represent")
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise InvalidStateError(
                        f"state value at {where!r} has a non-string key {key!r}; JSON object keys must be strings"
                    )
                if not _is_utf8(key):
                    raise InvalidStateError(f"state value at {where!r} has a key with a lone surrogate: {key!r}")
                stack.append((child, f"{where}.{key}", depth + 1))
            continue
        if isinstance(item, list):
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(item))
            continue
        raise InvalidStateError(
            f"state value at {where!r} has type {type(item).__name__}, which cannot be stored as JSON; "
            "store plain dict/list/str/int/float/bool/None values"
        )


def check_key_text(**values: object) -> None:
    """Raise ValueError naming the field for text no supported database stores in a key or text column.

    PostgreSQL text cannot hold NUL, and no driver sends a lone surrogate as
    UTF-8; either would otherwise fail inside the transaction with a driver error.
    Non-string values are left to the caller's own checks.
    """
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise ValueError(f"{name} must not contain NUL (\\x00) characters, got {value[:80]!r}")
        if not _is_utf8(value):
            raise ValueError(f"{name} contains a lone surrogate, which UTF-8 cannot store: {value[:80]!r}")


def _is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8, i.e. holds no lone surrogate (every database stores UTF-8)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# A JSON string (skipped as a whole) or a number with a positive exponent.
_STRING_OR_BIG_EXPONENT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?[0-9]+(?:\.[0-9]+)?[eE]\+[0-9]+)')


def _positional(match: re.Match[str]) -> str:
    number = match.group(1)
    if number is None:
        return match.group(0)
    # Decimal keeps exactly the digits of the shortest repr, so the text parses back to the same float.
    return format(Decimal(number), "f") + ".0"


def positional_floats(text: str) -> str:
    """``text`` (JSON) with every positive-exponent number written positionally with a ``.0`` fraction.

    A decimal store (JSONB) keeps ``100000000000000000000.0`` as written, so it reads back as
    the float ``1e20``; ``1e+20`` would come back as an integer.
    """
    if "e+" not in text and "E+" not in text:
        return text
    return _STRING_OR_BIG_EXPONENT.sub(_positional, text)


def encode_state(state: Mapping[str, Any]) -> str:
    """JSON text for a state mapping already checked by :func:`check_json_state`."""
    return positional_floats(json.dumps(state, ensure_ascii=False, allow_nan=False, separators=(",", ":")))


def decode_state(value: Any) -> dict[str, Any]:
    """A state mapping from a stored JSON value (text, bytes, or already decoded)."""
    if value is None:
        return {}
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError(f"stored state must be a JSON object, found {type(value).__name__}")
    return value


def encode_event(event: Event) -> str:
    """Lossless JSON text of ``event``."""
    return positional_floats(event.model_dump_json(exclude_none=True))


def decode_event(value: Any) -> Event:
    """The event stored by :func:`encode_event` (text, bytes, or decoded JSON)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Event.model_validate_json(bytes(value))
    if isinstance(value, str):
        return Event.model_validate_json(value)
    return Event.model_validate(value)


def to_marker(revision: int) -> str:
    """The ``Session._storage_update_marker`` for a stored revision."""
    return str(revision)


def from_marker(marker: str | None) -> int | None:
    """The revision a marker names, or None for a marker this library did not write."""
    if marker is None:
        return None
    try:
        return int(marker)
    except ValueError:
        return None
