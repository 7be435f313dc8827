"""Schema version 1 renders exactly what sqlspec-adk 0.1.0 created, for every family and option set.

``v1_snapshot.json`` holds ``dialect.all_ddl()`` as rendered by commit f889721
(the released 0.1.0) for the variants below; it is never regenerated. 0.1.0
also sent PostgreSQL's ``pg_advisory_xact_lock`` as the first DDL statement:
that lock belongs to the migration runner now, so it is left out of the
comparison.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.settings import ADKConfig

SNAPSHOT: dict[str, list[str]] = json.loads((Path(__file__).parent / "v1_snapshot.json").read_text())

CUSTOM = {
    "session_table": "s_sess",
    "events_table": "s_ev",
    "app_state_table": "s_app",
    "user_state_table": "s_usr",
    "metadata_table": "s_meta",
    "memory_table": "s_mem",
    "artifact_table": "s_art",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "custom": {**CUSTOM, "owner_id_column": "tenant_id INTEGER NOT NULL"},
    "schema": {"schema": "agents", "owner_id_column": "tenant_id VARCHAR(64)"},
    "nofts": {"memory_use_fts": False},
    "simple": {"fts_config": "simple"},
    "sessions_only": {"enable_memory": False, "enable_artifacts": False},
}
FAMILIES = {
    "sqlite": ("sqlspec_adk.dialects.sqlite", "SqliteDialect"),
    "postgres": ("sqlspec_adk.dialects.postgres", "PostgresDialect"),
    "cockroach": ("sqlspec_adk.dialects.cockroach", "CockroachDialect"),
    "mysql": ("sqlspec_adk.dialects.mysql", "MysqlDialect"),
    "oracle": ("sqlspec_adk.dialects.oracle", "OracleDialect"),
    "oracle19": ("sqlspec_adk.dialects.oracle", "OracleDialect"),
    "duckdb": ("sqlspec_adk.dialects.duckdb", "DuckdbDialect"),
    "spanner": ("sqlspec_adk.dialects.spanner", "SpannerDialect"),
}


def _dialect(family: str, variant: str) -> Dialect:
    module, name = FAMILIES[family]
    dialect: Dialect = getattr(importlib.import_module(module), name)(ADKConfig.from_mapping(VARIANTS[variant]))
    if family == "oracle19":
        dialect.observe_server_version("19.23.0.0.0")  # type: ignore[attr-defined]
    return dialect


def render_v1(dialect: Dialect) -> list[str]:
    """Version 1 for every component the config enables, in the order 0.1.0 ran it."""
    a = dialect.adk
    enabled = ["metadata", "sessions"] * a.enable_sessions or ["metadata"]
    enabled += ["memory"] * a.enable_memory + ["artifacts"] * a.enable_artifacts
    return [sql for component in enabled for sql in v0001_initial.statements(dialect, component)]


@pytest.mark.parametrize("case", sorted(SNAPSHOT))
def test_version_1_is_what_0_1_0_created(case: str) -> None:
    family, variant = case.split("/")
    released = [sql for sql in SNAPSHOT[case] if not sql.startswith("SELECT pg_advisory_xact_lock(")]
    assert render_v1(_dialect(family, variant)) == released


def test_the_snapshot_covers_every_family_and_variant() -> None:
    assert {case.split("/")[0] for case in SNAPSHOT} == set(FAMILIES)
    assert len(SNAPSHOT) == 41
