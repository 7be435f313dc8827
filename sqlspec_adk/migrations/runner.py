"""Migration runner: apply versioned schema steps and record the version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlspec_adk.protocol import Fetch, Op, Stmt

if TYPE_CHECKING:
    from sqlspec_adk.dialects.base import BaseDialect

__all__ = ["LATEST_VERSION", "current_version", "render", "upgrade"]

LATEST_VERSION = 1
VERSION_KEY = "schema_version"


def steps(dialect: BaseDialect) -> dict[int, list[str]]:
    """Version -> statements. Version 1 is the whole schema of this config's features."""
    return {1: dialect.all_ddl()}


def current_version(dialect: BaseDialect) -> Op[int]:
    """The recorded schema version, 0 when nothing was ever applied."""
    for sql in dialect.metadata_ddl():
        yield Stmt(sql)
    row = yield Stmt(f"SELECT meta_value FROM {dialect.metadata_table} WHERE meta_key = ?", (VERSION_KEY,), Fetch.ONE)
    return int(row[0]) if row else 0


def upgrade(dialect: BaseDialect, target: int = LATEST_VERSION) -> Op[int]:
    """Apply every step above the recorded version up to ``target``; return the new version."""
    version = yield from current_version(dialect)
    all_steps = steps(dialect)
    for number in sorted(all_steps):
        if version < number <= target or number == 1:
            # Version 1 is all CREATE ... IF NOT EXISTS, so re-running it also
            # creates tables of a feature enabled after the first run.
            for sql in all_steps[number]:
                yield Stmt(sql)
    new_version = max(version, min(target, LATEST_VERSION))
    if new_version != version:
        if version == 0:
            yield Stmt(
                f"INSERT INTO {dialect.metadata_table} (meta_key, meta_value) VALUES (?, ?)",
                (VERSION_KEY, str(new_version)),
            )
        else:
            yield Stmt(
                f"UPDATE {dialect.metadata_table} SET meta_value = ? WHERE meta_key = ?",
                (str(new_version), VERSION_KEY),
            )
    return new_version


def render(dialect: BaseDialect) -> str:
    """The SQL of every step, for teams that apply schema with their own tools."""
    lines = []
    for number, statements in sorted(steps(dialect).items()):
        lines.append(f"-- sqlspec-adk schema version {number} ({dialect.sqlglot_name})")
        lines.extend(f"{sql};" for sql in statements)
    lines.append(
        f"INSERT INTO {dialect.metadata_table} (meta_key, meta_value) VALUES ('{VERSION_KEY}', '{LATEST_VERSION}');"
    )
    return "\n".join(lines) + "\n"
