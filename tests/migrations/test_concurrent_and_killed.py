"""Two ``sqlspec-adk migrate upgrade`` processes at once, and an upgrade killed (``kill -9``) half way, on every
live family.

- Together on an empty database (two replicas booting): both exit 0, every
  statement of every version ran exactly once across the two (one process
  applied them, the other found the work done), and no statement failed (no
  "already exists" absorbed either: the lock, not luck, kept them apart).
- Killed after the n-th statement, for n at three points of the upgrade
  (just before the first version is recorded, two thirds in, the very last
  statement): where the upgrade is one transaction nothing of it is left;
  on MySQL/MariaDB (DDL commits implicitly) what committed stays; then the
  next ``upgrade`` completes it, and the catalog equals that of a clean
  upgrade, recorded versions included.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.migrations import LATEST_VERSION, components, drop_tables, read_state, runner, upgrade
from sqlspec_adk.migrations.v0001_initial import statements as v1_statements
from sqlspec_adk.modes import call
from sqlspec_adk.registry import config_from_uri
from tests.migrations.support import Family, catalog, kill_when_paused, logged, release, start_upgrade, uri

FAMILIES = [
    Family("sqlite", "sqlite", "sqlite"),
    Family("postgres", "asyncpg", "asyncpg"),
    Family("mysql", "pymysql", "pymysql"),
    Family("duckdb", "duckdb", "duckdb"),
]
IDS = [family.name for family in FAMILIES]


def version_statements(target: str) -> Counter[str]:
    """Every statement of every version an empty database gets for ``target``'s config (as the runner plans
    them), the metadata table's aside (each upgrade creates it if missing, under the lock)."""
    _, config = config_from_uri(target)
    dialect = config.dialect
    metadata = set(v1_statements(dialect, "metadata"))
    steps, _ = runner._pending(dialect, runner.SchemaState(exists=True), LATEST_VERSION)
    found = Counter(sql for step in steps for sql in step.statements if sql not in metadata)
    assert found
    return found


async def _cleanup(family: Family, targets: list[str]) -> None:
    if not family.server:
        return
    for target in targets:
        _, config = config_from_uri(target)
        try:
            await drop_tables(config)
        finally:
            await call(config.close_pool)


#: ADBC's DuckDB driver opens files through its own shared instances (their wait for another process: here).
TOGETHER = [*FAMILIES, Family("duckdb", "adbc_duckdb", "adbc_duckdb")]


@pytest.mark.parametrize("family", TOGETHER, ids=[*IDS, "adbc_duckdb"])
async def test_two_upgrades_at_once_apply_each_step_once(family: Family, tmp_path: Path) -> None:
    family.require()
    target = uri(family.driver, family.location(tmp_path), **family.tables())
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    try:
        processes = [start_upgrade(target, log, wait=True) for log in logs]
        release(processes)
        outputs = await asyncio.gather(*(asyncio.to_thread(process.communicate, timeout=180) for process in processes))
        for process, (out, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err
            assert f"schema at version {LATEST_VERSION}" in out
            assert "exist" not in err.lower() and "duplicate" not in err.lower(), err
        ran = [logged(log) for log in logs]
        assert [entry for entries in ran for entry in entries if entry["error"]] == []
        expected = version_statements(target)
        applied = [Counter(entry["sql"] for entry in entries if entry["sql"] in expected) for entries in ran]
        assert applied[0] + applied[1] == expected, "a step ran twice, or not at all"
        assert sorted(sum(counts.values()) for counts in applied) == [0, expected.total()], (
            "both processes applied steps: the upgrade lock did not serialize them"
        )
        _, config = config_from_uri(target)
        try:
            state = await read_state(config)
            assert state.versions == dict.fromkeys(components(config.adk), LATEST_VERSION)
            assert state.legacy == LATEST_VERSION and state.lease is None
        finally:
            await call(config.close_pool)
    finally:
        await _cleanup(family, [target])


def _counting(config: Any, seen: list[str]) -> None:
    original = config.execute
    if asyncio.iscoroutinefunction(original):

        async def execute_async(connection: Any, stmt: Any) -> Any:
            seen.append(stmt.sql)
            return await original(connection, stmt)

        config.execute = execute_async
    else:

        def execute(connection: Any, stmt: Any) -> Any:
            seen.append(stmt.sql)
            return original(connection, stmt)

        config.execute = execute


def _kill_points(executed: list[str], expected: Counter[str]) -> list[int]:
    """Statement counts to stop after: all of the first version's statements (its record not yet written), two
    thirds of the upgrade, all but the last statement."""
    first_record = next(
        i for i in range(1, len(executed)) if executed[i - 1] in expected and executed[i] not in expected
    )
    return sorted({first_record, (2 * len(executed)) // 3, len(executed) - 1})


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_an_upgrade_killed_half_way_is_completed_by_the_next(family: Family, tmp_path: Path) -> None:
    family.require()
    reference_tables = family.tables()
    reference = uri(family.driver, family.location(tmp_path, "reference"), **reference_tables)
    targets = [reference]
    try:
        _, config = config_from_uri(reference)
        executed: list[str] = []
        _counting(config, executed)
        try:
            assert await upgrade(config) == LATEST_VERSION
        finally:
            await call(config.close_pool)
        clean = catalog(family.name, family.location(tmp_path, "reference"), reference_tables)
        for point in _kill_points(executed, version_statements(reference)):
            tables = family.tables()
            location = family.location(tmp_path, f"killed_{point}")
            target = uri(family.driver, location, **tables)
            targets.append(target)
            kill_when_paused(start_upgrade(target, tmp_path / f"killed_{point}.log", pause_after=point))
            _, config = config_from_uri(target)
            try:
                state = await read_state(config)
                if family.name != "mysql":
                    assert state.versions == {} and state.legacy == 0, f"a killed transaction left {state}"
                assert state.lease is None
                assert await upgrade(config) == LATEST_VERSION
            finally:
                await call(config.close_pool)
            assert catalog(family.name, location, tables) == clean, f"killed after statement {point}"
    finally:
        await _cleanup(family, targets)
