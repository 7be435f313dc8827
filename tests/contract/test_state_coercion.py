"""State values are stored exactly as ADK 2.13's persisted services store them, side by side, on every adapter.

ADK's ``SqliteSessionService`` and ``DatabaseSessionService`` (on SQLite, and on
PostgreSQL when the server is reachable) run once per test session with every
value below in ``create_session`` and in an event's ``state_delta``, for
session, ``user:`` and ``app:`` keys; each adapter must read back what they read
back. ``PINNED`` holds those results too, so a change in ADK's coercion is seen
as such. Values those services corrupt or fail on with a raw error are refused
by ours with ``InvalidStateError`` (a ``ValueError``) naming the key, before
anything is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.database_session_service import DatabaseSessionService
from google.adk.sessions.sqlite_session_service import SqliteSessionService
from pydantic import BaseModel

from sqlspec_adk.errors import InvalidStateError
from tests.backends import PG_DSN, server_reachable


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Note(BaseModel):
    text: str = "hi"
    when: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5)


def _repr_object() -> Any:
    return _Opaque()


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


#: name -> (value, what ADK's services read back); every entry was read off ADK 2.13.0's services.
PINNED: dict[str, tuple[Callable[[], Any], Any]] = {
    "datetime naive": (lambda: dt.datetime(2024, 5, 6, 7, 8, 9, 123456), "2024-05-06T07:08:09.123456"),
    "datetime utc": (lambda: dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC), "2024-05-06T07:08:09Z"),
    "datetime +02:00": (
        lambda: dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "2024-05-06T07:08:09+02:00",
    ),
    "date": (lambda: dt.date(2024, 5, 6), "2024-05-06"),
    "time": (lambda: dt.time(7, 8, 9), "07:08:09"),
    "timedelta": (lambda: dt.timedelta(days=1, seconds=3), "P1DT3S"),
    "set": (lambda: {1, 2, 3}, [1, 2, 3]),
    "frozenset": (lambda: frozenset({"a"}), ["a"]),
    "tuple": (lambda: (1, "a", None), [1, "a", None]),
    "decimal": (lambda: decimal.Decimal("1.10"), "1.10"),
    "uuid": (lambda: uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
    "utf-8 bytes": (lambda: b"hello", "hello"),
    "pydantic model": (lambda: Note(), {"text": "hi", "when": "2024-01-02T03:04:05"}),
    "enum": (lambda: Color.RED, "red"),
    "int enum": (lambda: Level.HIGH, 3),
    "nested mixture": (
        lambda: {"a": [dt.date(2020, 1, 1), {"s": {1}}, (1, 2)], "m": Note(), "e": Color.RED},
        {"a": ["2020-01-01", {"s": [1]}, [1, 2]], "m": {"text": "hi", "when": "2024-01-02T03:04:05"}, "e": "red"},
    ),
    "big int": (lambda: 2**70, 2**70),
    "unserializable object": (_repr_object, "<opaque>"),
}
#: Values ADK's services corrupt or fail on with a raw driver error; ours refuse them up front.
REFUSED: dict[str, Callable[[], Any]] = {
    "nan": lambda: float("nan"),
    "infinity": lambda: float("inf"),
    "minus infinity": lambda: float("-inf"),
    "nan in a list": lambda: [1.0, float("nan")],
    "non-string key": lambda: {1: "a"},
    "None key, nested": lambda: {"ok": {None: "c"}},
    "bytes that are not UTF-8": lambda: b"\xff\xfe",
}
SCOPES = ("", "user:", "app:")
PATHS = ("create", "delta")


async def _round_trip(service: Any, app: str, key: str, value: Any, path: str) -> Any:
    if path == "create":
        session = await service.create_session(app_name=app, user_id="u", state={key: value})
    else:
        session = await service.create_session(app_name=app, user_id="u")
        event = Event(author="agent", invocation_id="i", actions=EventActions(state_delta={key: value}))
        await service.append_event(session, event)
    stored = await service.get_session(app_name=app, user_id="u", session_id=session.id)
    assert stored is not None
    return stored.state.get(key, "<missing>")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def adk_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What each of ADK's persisted services reads back, per (value, scope, path)."""
    folder: Path = tmp_path_factory.mktemp("adk-coercion")
    services: dict[str, Any] = {
        "SqliteSessionService": SqliteSessionService(str(folder / "sqlite.db")),
        "DatabaseSessionService(sqlite)": DatabaseSessionService(f"sqlite+aiosqlite:///{folder / 'database.db'}"),
    }
    if server_reachable("postgres"):
        services["DatabaseSessionService(postgresql)"] = DatabaseSessionService(
            PG_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
        )
    run = uuid.uuid4().hex[:8]
    results: dict[str, dict[str, Any]] = {}
    for label, service in services.items():
        results[label] = {}
        for name, (make, _) in PINNED.items():
            for scope in SCOPES:
                for path in PATHS:
                    app = f"coerce-{run}-{uuid.uuid4().hex[:12]}"
                    results[label][f"{name}|{scope}|{path}"] = await _round_trip(
                        service, app, f"{scope}v", make(), path
                    )
        await service.close()
    return results


def test_adk_reads_back_what_is_pinned(adk_results: dict[str, dict[str, Any]]) -> None:
    for label, results in adk_results.items():
        for name, (_, expected) in PINNED.items():
            for scope in SCOPES:
                for path in PATHS:
                    assert results[f"{name}|{scope}|{path}"] == expected, (label, name, scope, path)


@pytest.mark.parametrize("name", sorted(PINNED))
async def test_state_is_coerced_as_adk_does(backend: Any, adk_results: dict[str, dict[str, Any]], name: str) -> None:
    service = await backend.sessions()
    make, expected = PINNED[name]
    for scope in SCOPES:
        for path in PATHS:
            app = f"c-{uuid.uuid4().hex[:12]}"
            ours = await _round_trip(service, app, f"{scope}v", make(), path)
            assert ours == expected, (name, scope, path)
            for label, results in adk_results.items():
                assert ours == results[f"{name}|{scope}|{path}"], (label, name, scope, path)


@pytest.mark.parametrize("name", sorted(REFUSED))
async def test_values_adk_corrupts_are_refused_before_anything_is_written(backend: Any, name: str) -> None:
    service = await backend.sessions()
    for scope in SCOPES:
        key = f"{scope}bad"
        with pytest.raises(InvalidStateError, match=key.split(":")[-1]) as refused:
            await service.create_session(
                app_name="r", user_id="u", session_id=f"s{scope}", state={key: REFUSED[name]()}
            )
        assert isinstance(refused.value, ValueError)
        assert await service.get_session(app_name="r", user_id="u", session_id=f"s{scope}") is None
        session = await service.create_session(app_name="r", user_id="u", session_id=f"ok{scope}")
        with pytest.raises(InvalidStateError, match=key.split(":")[-1]):
            await service.append_event(
                session, Event(author="a", invocation_id="i", actions=EventActions(state_delta={key: REFUSED[name]()}))
            )
        stored = await service.get_session(app_name="r", user_id="u", session_id=f"ok{scope}")
        assert stored is not None and stored.events == [] and "bad" not in str(stored.state)
        assert session.events == [] and key not in session.state  # the in-memory session is untouched too


def test_pinned_values_cover_what_the_issue_names() -> None:
    names = " ".join([*PINNED, *REFUSED])
    for kind in ("datetime", "date", "time", "set", "frozenset", "tuple", "decimal", "uuid", "bytes", "model", "enum"):
        assert kind in names, kind
