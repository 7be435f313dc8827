"""``sqlspec-adk import-adk``: copy an ADK session database into this library's tables.

Contract:

- Lossless: every session with its session state, create and update time, and
  every event (the full Event JSON, in ADK's order, exact float timestamps);
  app and user state. ``get_session`` on the target returns what ADK's service
  returns on the source.
- Idempotent: a session already in the target is left as it is; app and user
  state only gain missing keys. Running it twice changes nothing.
- Each batch of sessions is one transaction; an interrupted import is resumed
  by running it again.
- A session whose state cannot be stored as JSON (NaN, ...) is refused and
  named; the others are imported.
- Dry run reads both sides and writes nothing. Otherwise a count check runs
  at the end: every source session, event and state row must be in the target.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import InvalidStateError
from sqlspec_adk.migrations import upgrade
from sqlspec_adk.operations.database import run_op
from sqlspec_adk.operations.progress import Progress
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.transfer.adk_source import AdkSource
from sqlspec_adk.transfer.model import SessionKey
from sqlspec_adk.transfer.reader import count_session_events, existing_sessions
from sqlspec_adk.transfer.writer import UNSET, check_session, import_sessions, merge_missing_state

__all__ = ["ImportReport", "import_adk", "target_has_schema"]

T = TypeVar("T")


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, in a dry run, would do) and the count check."""

    source: str
    dry_run: bool
    source_sessions: int = 0
    source_events: int = 0
    source_app_states: int = 0
    source_user_states: int = 0
    imported_sessions: int = 0
    imported_events: int = 0
    present_sessions: int = 0
    state_rows_changed: int = 0
    refused: list[tuple[SessionKey, str]] = field(default_factory=list)
    target_sessions: int = 0
    target_events: int = 0
    target_app_states: int = 0
    target_user_states: int = 0
    differing: list[tuple[SessionKey, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was refused and (after a real run) the count check matched.

        Sessions already in the target with a different event count (they lived
        on there) are reported, not counted as a failure.
        """
        if self.refused:
            return False
        if self.dry_run:
            return True
        kept_source = sum(source for _, source, _ in self.differing)
        kept_target = sum(target for _, _, target in self.differing)
        return (
            self.target_sessions == self.source_sessions
            and self.target_events - kept_target == self.source_events - kept_source
            and self.target_app_states == self.source_app_states
            and self.target_user_states == self.source_user_states
        )

    def render(self) -> str:
        """A plain-text summary for the terminal."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"source: {self.source}",
            f"{verb} {self.imported_sessions} session(s) with {self.imported_events} event(s); "
            f"{self.present_sessions} already in the target (left as they are); "
            f"{'would update' if self.dry_run else 'updated'} {self.state_rows_changed} app/user state row(s)",
        ]
        for key, reason in self.refused:
            lines.append(f"refused session {key[2]!r} (app {key[0]!r}, user {key[1]!r}): {reason}")
        if not self.dry_run:
            lines.append("count check        source   in target")
            for label, source, target in (
                ("sessions", self.source_sessions, self.target_sessions),
                ("events", self.source_events, self.target_events),
                ("app states", self.source_app_states, self.target_app_states),
                ("user states", self.source_user_states, self.target_user_states),
            ):
                mark = "ok" if source == target else "DIFFERS"
                lines.append(f"  {label:<12} {source:>9} {target:>11}  {mark}")
            for key, source, target in self.differing:
                lines.append(
                    f"  note: session {key[2]!r} (app {key[0]!r}, user {key[1]!r}) has {target} event(s) in the "
                    f"target and {source} in the source; the target's copy was kept"
                )
            lines.append("count check passed" if self.ok else "count check FAILED")
        return "\n".join(lines)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _probe_sessions(config: DatabaseConfig) -> Op[bool]:
    yield Stmt(f"SELECT COUNT(*) FROM {config.dialect.session_table}", (), Fetch.ONE)
    return True


async def target_has_schema(config: DatabaseConfig) -> bool:
    """Whether the target's session tables exist (read-only probe)."""
    try:
        return await run_op(config, partial(_probe_sessions, config), write=False)
    except Exception:
        return False


async def import_adk(
    source: AdkSource,
    config: DatabaseConfig,
    *,
    dry_run: bool = False,
    batch_size: int = 100,
    owner_id: Any = UNSET,
    progress: bool = True,
) -> ImportReport:
    """Copy ``source`` into ``config``'s tables (see the module contract); returns the report."""
    dialect = config.dialect
    report = ImportReport(source=source.description, dry_run=dry_run)
    has_schema = await target_has_schema(config)
    if not dry_run and not has_schema:
        await upgrade(config)
        has_schema = True

    keys = await source.session_keys()
    app_states = await source.app_states()
    user_states = await source.user_states()
    report.source_sessions = len(keys)
    report.source_app_states = len(app_states)
    report.source_user_states = len(user_states)
    source_counts: dict[SessionKey, int] = {}

    label = "import-adk (dry run)" if dry_run else "import-adk"
    with Progress(label, len(keys), enabled=progress) as bar:
        for batch in _chunks(keys, batch_size):
            dumps = await source.read_sessions(batch)
            storable = []
            for dump in dumps:
                source_counts[dump.key] = len(dump.events)
                try:
                    check_session(dump)
                except InvalidStateError as error:
                    report.refused.append((dump.key, str(error)))
                    continue
                storable.append(dump)
            if dry_run:
                present = (
                    await run_op(config, partial(existing_sessions, dialect, [d.key for d in storable]), write=False)
                    if has_schema
                    else set()
                )
                flags = [dump.key not in present for dump in storable]
            else:
                flags = await run_op(config, partial(import_sessions, dialect, storable, owner_id), write=True)
            for dump, imported in zip(storable, flags, strict=True):
                if imported:
                    report.imported_sessions += 1
                    report.imported_events += len(dump.events)
                else:
                    report.present_sessions += 1
            bar.advance(len(batch))
    report.source_events = sum(source_counts.values())

    states = [*app_states, *user_states]
    if states and (has_schema or not dry_run):
        report.state_rows_changed = await run_op(
            config, partial(merge_missing_state, dialect, states, apply=not dry_run), write=not dry_run
        )
    elif states:
        report.state_rows_changed = len(states)

    if not dry_run:
        await _count_check(config, report, keys, source_counts, app_states, user_states)
    return report


async def _count_check(
    config: DatabaseConfig,
    report: ImportReport,
    keys: Sequence[SessionKey],
    source_counts: dict[SessionKey, int],
    app_states: Sequence[Any],
    user_states: Sequence[Any],
) -> None:
    dialect = config.dialect
    refused = {key for key, _ in report.refused}
    for batch in _chunks([key for key in keys if key in source_counts], 500):
        counts = await run_op(config, partial(count_session_events, dialect, batch), write=False)
        for key, target in counts.items():
            if key in refused:
                continue
            report.target_sessions += 1
            report.target_events += target
            if target != source_counts[key]:
                report.differing.append((key, source_counts[key], target))
    missing_app = await run_op(config, partial(merge_missing_state, dialect, app_states, apply=False), write=False)
    missing_user = await run_op(config, partial(merge_missing_state, dialect, user_states, apply=False), write=False)
    report.target_app_states = len(app_states) - missing_app
    report.target_user_states = len(user_states) - missing_user
