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

from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.operations.database import run_op
from sqlspec_adk.protocol import Op
from sqlspec_adk.records import CONTENT_KINDS

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


async def prune(config: DatabaseConfig, plan: PrunePlan, *, dry_run: bool) -> PruneResult:
    """Apply (or count) the plan's rules on ``config``; see the module docstring for order and scope."""
    sessions, memory, artifacts = config.dialect.sessions, config.dialect.memory, config.dialect.artifacts
    adk, app, write = config.adk, plan.app_name, not dry_run
    result = PruneResult(dry_run=dry_run)
    if plan.sessions_idle_before is not None:
        idle = plan.sessions_idle_before
        if not adk.enable_sessions:
            result.notes.append("skipped idle sessions: enable_sessions is false for this URI")
        else:

            def idle_op() -> Op[tuple[int, int]]:
                # Counted and deleted in one transaction, so the two numbers describe the same rows.
                counted, events = yield from sessions.count_idle_sessions(before=idle, app_name=app)
                if not dry_run:
                    counted = yield from config.dialect.delete_idle_sessions(before=idle, app_name=app)
                return counted, events

            counted, events = await run_op(config, idle_op, write=write, name="prune")
            result.counts["idle session(s)"] = counted
            result.counts["event(s) of those sessions"] = events
    if plan.events_before is not None:
        old = plan.events_before
        if not adk.enable_sessions:
            result.notes.append("skipped old events: enable_sessions is false for this URI")
        elif dry_run:
            result.counts["old event(s)"] = await run_op(
                config,
                lambda: sessions.count_events_before(before=old, app_name=app, idle_before=plan.sessions_idle_before),
                write=False,
            )
        else:
            result.counts["old event(s)"] = await run_op(
                config, lambda: sessions.delete_events_before(before=old, app_name=app), write=write, name="prune"
            )
    if plan.memory_before is not None:
        cutoff = plan.memory_before
        if not adk.enable_memory:
            result.notes.append("skipped memory: enable_memory is false for this URI")
        else:
            build = memory.count_memory_before if dry_run else memory.delete_memory_before
            result.counts["memory entr(y/ies)"] = await run_op(
                config, lambda: build(before=cutoff, app_name=app), write=write, name="prune"
            )
    if plan.artifacts_before is not None:
        created = plan.artifacts_before
        if not adk.enable_artifacts:
            result.notes.append("skipped artifacts: enable_artifacts is false for this URI")
        elif dry_run:
            result.counts["artifact version(s)"] = await run_op(
                config, lambda: artifacts.count_artifacts_before(before=created, app_name=app), write=False
            )
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
    before, app = plan.artifacts_before, plan.app_name
    rows = await run_op(
        config, lambda: config.dialect.artifacts.delete_artifacts_before(before=before, app_name=app), write=True
    )
    for row in rows:
        if row["kind"] in CONTENT_KINDS:
            await asyncio.to_thread(storage.delete, row["canonical_uri"])
    return len(rows)
