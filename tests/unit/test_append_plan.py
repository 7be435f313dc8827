"""The statements of one append on the base dialect (SQLite, MySQL, DuckDB, Oracle, Spanner share it).

Driven by hand with canned results, so the plan itself is checked: the common
case (no session-state change) is the revision-checked UPDATE and the INSERT,
and the row is read only to tell a missing session from a stale one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.errors.session_not_found_error import SessionNotFoundError

from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.protocol import Stmt
from sqlspec_adk.records import EventWrite, Expected
from sqlspec_adk.settings import ADKConfig

EVENT = EventWrite(id="e1", invocation_id="i", author="user", timestamp=10.0, event_json="{}")


def plan(delta: StateDelta, answer: Callable[[Stmt], Any], expected_revision: int | None = 3) -> list[str]:
    """The first word (and table-free shape) of each statement the append yields, in order."""
    op = SqliteDialect(ADKConfig()).sessions.append_event(
        app_name="a",
        user_id="u",
        session_id="s",
        expected=Expected(revision=expected_revision, update_time=5.0),
        event=EVENT,
        delta=delta,
    )
    sent: list[str] = []
    stmt = op.send(None)
    try:
        while True:
            sent.append(" ".join(stmt.sql.split()[:2]))
            stmt = op.send(answer(stmt))
    except StopIteration:
        return sent


def rows(update: int, select: Any) -> Callable[[Stmt], Any]:
    return lambda stmt: update if stmt.sql.startswith("UPDATE") else select if stmt.sql.startswith("SELECT") else 1


def test_append_without_session_state_is_update_then_insert() -> None:
    assert plan(StateDelta(), rows(1, None)) == ['UPDATE "adk_session"', "INSERT INTO"]


def test_app_and_user_state_do_not_need_the_session_row() -> None:
    sent = plan(StateDelta(app={"k": 1}, user={"u": 2}), rows(1, None))
    # The scoped-state merge reads its own rows; the session row is never read.
    assert sent[:2] == ['UPDATE "adk_session"', "INSERT INTO"] and "SELECT s.revision," not in sent


def test_a_missed_update_reads_the_row_to_name_the_error() -> None:
    with pytest.raises(StaleSessionError):
        plan(StateDelta(), rows(0, (4, 5.0, "{}", None)))
    with pytest.raises(SessionNotFoundError):
        plan(StateDelta(), rows(0, None))


def test_session_state_and_marker_less_sessions_read_the_row_first() -> None:
    assert plan(StateDelta(session={"x": 1}), rows(1, (3, 5.0, "{}", None))) == [
        "SELECT s.revision,",
        'UPDATE "adk_session"',
        "INSERT INTO",
    ]
    assert plan(StateDelta(), rows(1, (3, 5.0, "{}", None, None)), expected_revision=None)[0] == "SELECT s.revision,"
