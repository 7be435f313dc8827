"""Contender specs for the session workloads, per database family."""

from __future__ import annotations

import dataclasses
import importlib.util
from functools import partial
from typing import Any

from benchmarks.contenders.adapters import Adapter, available_adapters
from benchmarks.contenders.adk import AdkDatabase, AdkInMemory, AdkSqlite
from benchmarks.contenders.base import Family, Spec, counter_for
from benchmarks.contenders.floor import FloorSessions
from benchmarks.contenders.ours import OursSessions

__all__ = ["GROUP_COMMIT", "concurrency_specs", "has_sqlalchemy", "session_specs"]

_FLOOR_DRIVERS = {
    "sqlite",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "psycopg_sync",
    "psqlpy",
    "aiomysql",
    "asyncmy",
    "pymysql",
    "mysqlconnector",
}
_DB_URL = {"sqlite": "sqlite+aiosqlite", "postgres": "postgresql+asyncpg", "mysql": "mysql+aiomysql"}


def has_sqlalchemy() -> bool:
    return importlib.util.find_spec("sqlalchemy") is not None and importlib.util.find_spec("greenlet") is not None


def _ours(adapter: Adapter, variant: str = "", settings: dict[str, Any] | None = None) -> Spec:
    suffix = f"-{variant.replace(' ', '-')}" if variant else ""
    return Spec(
        name=f"ours-{adapter.name}{suffix}",
        kind="ours",
        family=adapter.family,
        driver=adapter.name,
        label=f"sqlspec-adk {adapter.name}{adapter.label_note}" + (f" ({variant})" if variant else ""),
        build=partial(OursSessions, adapter, settings=settings or {}),
        counter=counter_for(adapter.family),
        settings=dict(settings or {}),
        variant=variant,
    )


#: W1c's variants of this library beside its defaults: ``extension_config["adk"]["group_commit"]`` on and off.
GROUP_COMMIT: tuple[tuple[str, dict[str, Any]], ...] = (
    ("group commit on", {"group_commit": True}),
    ("group commit off", {"group_commit": False}),
)


def _floor(adapter: Adapter) -> Spec:
    return Spec(
        name=f"floor-{adapter.name}",
        kind="floor",
        family=adapter.family,
        driver=adapter.name,
        label=f"raw floor {adapter.name}",
        build=partial(FloorSessions, adapter),
        counter=counter_for(adapter.family),
    )


def session_specs(family: Family) -> list[Spec]:
    """Every session contender of ``family`` this checkout can run ("memory": the in-memory ceiling)."""
    if family == "memory":
        return [Spec("adk-inmemory", "ceiling", "memory", "-", "ADK InMemorySessionService", AdkInMemory, "none")]
    specs: list[Spec] = []
    for adapter in available_adapters():
        if adapter.family != family:
            continue
        specs.append(_ours(adapter))
        if adapter.name in _FLOOR_DRIVERS:
            specs.append(_floor(adapter))
    if family == "sqlite":
        specs.append(Spec("adk-sqlite", "adk", "sqlite", "aiosqlite", "ADK SqliteSessionService", AdkSqlite, "sqlite"))
    if family in _DB_URL and has_sqlalchemy():
        url = _DB_URL[family]
        specs.append(
            Spec(
                f"adk-db-{family}",
                "adk",
                family,
                url.split("+")[1],
                f"ADK DatabaseSessionService {url}",
                AdkDatabase,
                counter_for(family),
            )
        )
    return specs


def concurrency_specs(family: Family) -> list[Spec]:
    """W1c: this library per adapter with its defaults and each :data:`GROUP_COMMIT` variant, the raw
    per-append-transaction floor, and ADK's services (all alive together, their rounds interleaved)."""
    specs: list[Spec] = []
    for spec in session_specs(family):
        if spec.kind == "ceiling":
            continue
        specs.append(spec)
        if spec.kind == "ours":
            adapter = next(a for a in available_adapters() if a.name == spec.driver)
            specs += [_ours(adapter, variant, settings) for variant, settings in GROUP_COMMIT]
    # W1c counts no statements: no counting twins.
    return [dataclasses.replace(spec, counter="none") for spec in specs]
