"""Ids checked against a family's key sizes before an operation's first statement (no database needed).

Each write operation is a generator: the check runs before its first statement is yielded, so a refused
id never reaches a connection. Oracle's id columns hold 256 characters; PostgreSQL and Spanner count
bytes (tests/contract/test_key_limits.py stores ids at those limits on the real databases).
"""

from __future__ import annotations

from typing import Any

import pytest

from sqlspec_adk.converters import StateDelta
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.oracle import OracleDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.dialects.spanner import SpannerDialect
from sqlspec_adk.protocol import Stmt
from sqlspec_adk.records import ArtifactKey, ArtifactWrite, EventWrite, Expected, MemoryWrite
from sqlspec_adk.settings import ADKConfig

ARTIFACT = ArtifactWrite(
    kind="inline", mime_type=None, display_name=None, canonical_uri="memory://x", custom_metadata="{}",
    create_time=1.0, size=0, checksum="",
)  # fmt: skip


def memory(event_id: str = "e", session_id: str | None = None, app: str = "a") -> MemoryWrite:
    return MemoryWrite(
        app_name=app, user_id="u", event_id=event_id, session_id=session_id, author=None, timestamp=1.0,
        content_json="{}", custom_metadata_json=None, search_text=" m ",
    )  # fmt: skip


def operations(d: Dialect, size: int, fill: str = "x") -> dict[str, Any]:
    """Each write operation with one id of ``size`` characters of ``fill``, by the id's name."""
    long = fill * size
    event = EventWrite(id=long, invocation_id="i", author="user", timestamp=1.0, event_json="{}")
    expected, delta = Expected(revision=0, update_time=1.0), StateDelta()
    return {
        "app_name": d.sessions.create_session(app_name=long, user_id="u", session_id="s", delta=delta, now=1.0),
        "session_id": d.sessions.create_session(
            app_name="a", user_id="u", session_id=long, delta=StateDelta(), now=1.0
        ),
        "event_id": d.sessions.append_event(
            app_name="a", user_id="u", session_id="s", expected=expected, event=event, delta=delta
        ),
        "filename": d.artifacts.save_artifact_version(ArtifactKey("a", "u", "s", long), ARTIFACT),
        "memory event_id": d.memory.add_memory_entries([memory(event_id=long)], replace=False),
        "memory session_id": d.memory.add_memory_entries([memory(session_id=long)], replace=False),
    }


def test_oracle_ids_hold_256_characters() -> None:
    oracle = OracleDialect(ADKConfig())
    for name, op in operations(oracle, 257).items():
        column = name.split()[-1]
        with pytest.raises(ValueError, match=rf"{column} is 257 characters long; the Oracle schema stores at most 256"):
            next(op)
    for name, op in operations(oracle, 256).items():
        assert isinstance(next(op), Stmt), name  # 256 characters: the operation's first statement
        op.close()


@pytest.mark.parametrize(("family", "limit"), [(PostgresDialect, 2640), (SpannerDialect, 8192)])
def test_byte_limits_count_utf8(family: type[Dialect], limit: int) -> None:
    d = family(ADKConfig())
    assert d.key_limit == limit
    wide = "\U00010000"  # 4 bytes: a quarter as many characters reach the limit
    for name, op in operations(d, limit // 4, wide).items():
        with pytest.raises(ValueError, match=r"these ids take .* bytes of UTF-8 .*may total"):
            next(op)
    for name, op in operations(d, (limit - 48) // 4 - 4, wide).items():
        assert isinstance(next(op), Stmt), name
        op.close()


def test_families_without_a_limit_check_nothing() -> None:
    from sqlspec_adk.dialects.sqlite import SqliteDialect

    d = SqliteDialect(ADKConfig())
    for name, op in operations(d, 20_000).items():
        assert isinstance(next(op), Stmt), name
        op.close()
