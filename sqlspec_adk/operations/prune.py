"""``sqlspec-adk prune``: retention by age, with a dry run that only counts.

Rules (each optional, each its own write transaction, applied in this order):

1. idle sessions: sessions not updated for the given time, with all their events;
2. old events: events older than the given time, in the sessions that remain;
3. memory: entries (deleted-entry markers included) older than the given time;
4. artifacts: versions created before the given time, metadata and content.

``app_name`` limits every rule to one app. A dry run reports the same counts
and changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.dialects.artifact_sql import CONTENT_KINDS
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.operations.database import run_op
from sqlspec_adk.protocol import Fetch, Op, Stmt

__all__ = ["PrunePlan", "PruneResult", "parse_age", "prune"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """Seconds in an age such as ``90s``, ``15m``, ``12h``, ``30d``, ``2w`` (a bare number is days)."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _UNITS else "d"
    number = value[:-1] if value[-1:] in _UNITS else value
    try:
        amount = float(number)
    except ValueError as error:
        raise ConfigError(f"age {text!r} must look like 90s, 15m, 12h, 30d or 2w") from error
    if amount < 0:
        raise ConfigError(f"age {text!r} must not be negative")
    return amount * _UNITS[unit]


@dataclass(slots=True)
class PrunePlan:
    """Cut-off times (epoch seconds; None = rule off) and an optional app filter."""

    sessions_idle_before: float | None = None
    events_before: float | None = None
    memory_before: float | None = None
    artifacts_before: float | None = None
    app_name: str | None = None

    def empty(self) -> bool:
        return all(
            value is None
            for value in (self.sessions_idle_before, self.events_before, self.memory_before, self.artifacts_before)
        )


@dataclass(slots=True)
class PruneResult:
    """Rows deleted (or, in a dry run, that would be) per rule, and notes about skipped rules."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [f"{verb} {count} {what}" for what, count in self.counts.items()]
        lines += self.notes
        return "\n".join(lines) if lines else "nothing to prune: give at least one of the --*-older-than/--idle rules"


def _app(column: str, app_name: str | None) -> tuple[str, tuple[Any, ...]]:
    return (f" AND {column} = ?", (app_name,)) if app_name is not None else ("", ())


def _count(sql: str, params: tuple[Any, ...]) -> Op[int]:
    row = yield Stmt(sql, params, Fetch.ONE)
    return int(row[0]) if row else 0


def _idle_sessions_op(dialect: BaseDialect, plan: PrunePlan, dry_run: bool) -> Op[tuple[int, int]]:
    """(sessions, their events) idle since the cut-off; deleted unless ``dry_run``."""
    before = plan.sessions_idle_before
    app_sql, app_params = _app("app_name", plan.app_name)
    events = yield from _count(
        f"SELECT COUNT(*) FROM {dialect.events_table} e WHERE EXISTS (SELECT 1 FROM {dialect.session_table} s "
        "WHERE s.app_name = e.app_name AND s.user_id = e.user_id AND s.id = e.session_id "
        f"AND s.update_time < ?{app_sql.replace('app_name', 's.app_name')})",
        (before, *app_params),
    )
    if dry_run:
        sessions = yield from _count(
            f"SELECT COUNT(*) FROM {dialect.session_table} WHERE update_time < ?{app_sql}", (before, *app_params)
        )
    else:
        assert before is not None
        sessions = yield from dialect.delete_idle_sessions(before=before, app_name=plan.app_name)
    return sessions, events


def _old_events_op(dialect: BaseDialect, plan: PrunePlan, dry_run: bool) -> Op[int]:
    before = plan.events_before
    assert before is not None
    app_sql, app_params = _app("app_name", plan.app_name)
    if not dry_run:
        deleted: int = yield from dialect.delete_events_before(before=before, app_name=plan.app_name)
        return deleted
    app_filter = app_sql.replace("app_name", "e.app_name")
    sql = f"SELECT COUNT(*) FROM {dialect.events_table} e WHERE e.timestamp < ?{app_filter}"
    params: tuple[Any, ...] = (before, *app_params)
    if plan.sessions_idle_before is not None:
        # Events of idle sessions are counted by that rule already.
        sql += (
            f" AND NOT EXISTS (SELECT 1 FROM {dialect.session_table} s WHERE s.app_name = e.app_name "
            "AND s.user_id = e.user_id AND s.id = e.session_id AND s.update_time < ?)"
        )
        params += (plan.sessions_idle_before,)
    counted: int = yield from _count(sql, params)
    return counted


def _memory_op(dialect: BaseDialect, plan: PrunePlan, dry_run: bool) -> Op[int]:
    before = plan.memory_before
    assert before is not None
    if not dry_run:
        deleted: int = yield from dialect.delete_memory_before(before=before, app_name=plan.app_name)
        return deleted
    app_sql, app_params = _app("app_name", plan.app_name)
    counted: int = yield from _count(
        f"SELECT COUNT(*) FROM {dialect.memory_table} WHERE timestamp < ?{app_sql}", (before, *app_params)
    )
    return counted


def _artifact_count_op(dialect: BaseDialect, plan: PrunePlan) -> Op[int]:
    app_sql, app_params = _app("app_name", plan.app_name)
    counted: int = yield from _count(
        f"SELECT COUNT(*) FROM {dialect.artifact_table} WHERE create_time < ?{app_sql}",
        (plan.artifacts_before, *app_params),
    )
    return counted


async def prune(config: DatabaseConfig, plan: PrunePlan, *, dry_run: bool) -> PruneResult:
    """Apply (or count) the plan's rules on ``config``; see the module docstring for order and scope."""
    dialect = config.dialect
    adk = config.adk
    result = PruneResult(dry_run=dry_run)
    if plan.sessions_idle_before is not None:
        if adk.enable_sessions:
            sessions, events = await run_op(config, _idle_sessions_op(dialect, plan, dry_run), write=not dry_run)
            result.counts["idle session(s)"] = sessions
            result.counts["event(s) of those sessions"] = events
        else:
            result.notes.append("skipped idle sessions: enable_sessions is false for this URI")
    if plan.events_before is not None:
        if adk.enable_sessions:
            result.counts["old event(s)"] = await run_op(
                config, _old_events_op(dialect, plan, dry_run), write=not dry_run
            )
        else:
            result.notes.append("skipped old events: enable_sessions is false for this URI")
    if plan.memory_before is not None:
        if adk.enable_memory:
            result.counts["memory entr(y/ies)"] = await run_op(
                config, _memory_op(dialect, plan, dry_run), write=not dry_run
            )
        else:
            result.notes.append("skipped memory: enable_memory is false for this URI")
    if plan.artifacts_before is not None:
        if not adk.enable_artifacts:
            result.notes.append("skipped artifacts: enable_artifacts is false for this URI")
        elif dry_run:
            result.counts["artifact version(s)"] = await run_op(config, _artifact_count_op(dialect, plan), write=False)
        else:
            result.counts["artifact version(s)"] = await _prune_artifacts(config, plan)
    return result


async def _prune_artifacts(config: DatabaseConfig, plan: PrunePlan) -> int:
    """Delete old versions' rows, then their content blobs (a blob without a row is harmless; the reverse is not)."""
    from sqlspec_adk.adk_integration import default_artifact_location
    from sqlspec_adk.artifact.storage import ArtifactStorage

    location = config.adk.artifact_storage_uri or default_artifact_location(config)
    if location is None:
        raise ConfigError(
            "pruning artifacts deletes their content too: add ?artifact_storage_uri=... (where the content lives) "
            "to the URI"
        )
    storage = ArtifactStorage(location, config.adk.artifact_storage_options)
    assert plan.artifacts_before is not None
    rows = await run_op(
        config,
        config.dialect.delete_artifacts_before(before=plan.artifacts_before, app_name=plan.app_name),
        write=True,
    )
    for row in rows:
        if row["kind"] in CONTENT_KINDS:
            await asyncio.to_thread(storage.delete, row["canonical_uri"])
    return len(rows)
