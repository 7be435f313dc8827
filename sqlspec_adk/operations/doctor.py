"""``sqlspec-adk doctor``: read-only health checks, each finding phrased as what to do.

Checks, in order (later ones need the earlier ones): the URI and config (and
the backend's capability profile, :mod:`sqlspec_adk.capabilities`), the
connection, the recorded schema version, each configured table and its size,
full-text search, stored data consistency (revision vs events, orphan events)
and artifact content storage. Nothing is written: not even the metadata table.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlspec_adk.capabilities import config_profile
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import LATEST_VERSION, components, read_state
from sqlspec_adk.operations.database import close_config, run_op
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import CONTENT_KINDS

__all__ = ["Finding", "Report", "diagnose"]

OK, INFO, WARN, ERROR = "ok", "info", "warn", "error"


@dataclass(slots=True)
class Finding:
    """One check's outcome: ``level`` is ok, info, warn or error."""

    level: str
    topic: str
    message: str


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: str, topic: str, message: str) -> None:
        self.findings.append(Finding(level, topic, message))

    @property
    def problems(self) -> int:
        return sum(finding.level == ERROR for finding in self.findings)

    def render(self) -> str:
        marks = {OK: "ok  ", INFO: "    ", WARN: "WARN", ERROR: "FAIL"}
        lines = [f"{marks[f.level]} {f.topic}: {f.message}" for f in self.findings]
        warnings = sum(f.level == WARN for f in self.findings)
        if self.problems:
            lines.append(f"{self.problems} problem(s) found, {warnings} warning(s)")
        else:
            lines.append(f"no problems found ({warnings} warning(s))")
        return "\n".join(lines)


def _one(sql: str, params: tuple[Any, ...] = ()) -> Op[Any]:
    row = yield Stmt(sql, params, Fetch.ONE)
    return row


def _all(sql: str, params: tuple[Any, ...] = ()) -> Op[Any]:
    rows = yield Stmt(sql, params, Fetch.ALL)
    return rows


async def _try(config: DatabaseConfig, build: Callable[[], Op[Any]]) -> tuple[Any, Exception | None]:
    try:
        return await run_op(config, build, write=False, name="doctor"), None
    except Exception as error:
        return None, error


def _connection_hint(error: Exception) -> str:
    text = str(error).lower()
    if "password" in text or "authentication" in text or "access denied" in text:
        return "check the user name and password in the URI"
    if "does not exist" in text or "unknown database" in text:
        return "create the database first (the tables are created by 'sqlspec-adk migrate upgrade')"
    unreachable = ("refused", "could not connect", "can't connect", "connect call failed", "timeout", "timed out")
    if isinstance(error, (ConnectionError, TimeoutError)) or any(word in text for word in unreachable):
        return "is the server running, and are host and port in the URI right?"
    if "unable to open database file" in text:
        return "the SQLite file's folder must exist and be writable"
    return "check the URI and that the server accepts connections from this machine"


def _size_sql(config: DatabaseConfig, raw_table: str) -> tuple[str, tuple[Any, ...]] | None:
    family = config.dialect.sqlglot_name
    if family == "postgres":
        quoted = config.dialect.table(raw_table)
        return "SELECT pg_total_relation_size(CAST(? AS regclass))", (quoted,)
    if family == "mysql":
        return (
            "SELECT data_length + index_length FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = ?",
            (raw_table,),
        )
    return None


def _file_size(database: str) -> int | None:
    """Bytes of a SQLite file and its WAL, None when it is not a file."""
    if not os.path.isfile(database):
        return None
    return sum(os.path.getsize(path) for path in (database, database + "-wal") if os.path.isfile(path))


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


async def diagnose(uri: str) -> Report:
    """Run every check against ``uri``; never raises for a problem it can describe."""
    from sqlspec_adk.registry import config_from_uri

    report = Report()
    try:
        driver, config = config_from_uri(uri)
    except ConfigError as error:
        report.add(ERROR, "configuration", str(error))
        return report
    report.add(OK, "configuration", f"adapter {driver}, dialect {config.dialect.sqlglot_name}")
    for label, value in config_profile(config).describe():
        report.add(INFO, f"capability {label}", value)
    try:
        await _diagnose(config, report)
    finally:
        await close_config(config)
    return report


async def _diagnose(config: DatabaseConfig, report: Report) -> None:
    dialect = config.dialect
    adk = config.adk
    _, error = await _try(config, lambda: _one("SELECT 1"))
    if error is not None:
        report.add(ERROR, "connection", f"cannot connect ({type(error).__name__}: {error}); {_connection_hint(error)}")
        return
    report.add(OK, "connection", "connected")

    try:
        state = await read_state(config)
    except Exception as error:
        report.add(ERROR, "schema", f"cannot read the schema version ({type(error).__name__}: {error})")
        return
    if not state.exists:
        report.add(
            ERROR,
            "schema",
            f"no sqlspec-adk schema here (table {adk.metadata_table} missing); "
            "create it with: sqlspec-adk migrate upgrade '<this URI>'",
        )
        return
    migrated = components(adk)
    version = state.current(migrated)
    detail = ", ".join(f"{name} {state.version(name) or state.legacy}" for name in migrated)
    if version < LATEST_VERSION:
        report.add(
            ERROR,
            "schema",
            f"version {version} ({detail}), this sqlspec-adk needs {LATEST_VERSION}: run sqlspec-adk migrate upgrade",
        )
    elif version > LATEST_VERSION:
        report.add(
            ERROR,
            "schema",
            f"version {version} is newer than this sqlspec-adk understands ({LATEST_VERSION}): upgrade sqlspec-adk",
        )
    else:
        report.add(OK, "schema", f"version {version} (latest; {detail})")

    tables: list[tuple[str, str]] = []
    if adk.enable_sessions:
        tables += [
            ("sessions", adk.session_table),
            ("events", adk.events_table),
            ("app state", adk.app_state_table),
            ("user state", adk.user_state_table),
        ]
    if adk.enable_memory:
        tables.append(("memory", adk.memory_table))
    if adk.enable_artifacts:
        tables.append(("artifacts", adk.artifact_table))
    present: set[str] = set()
    for label, name in tables:
        row, failure = await _try(config, partial(_one, f"SELECT COUNT(*) FROM {dialect.table(name)}"))
        if failure is not None:
            report.add(
                ERROR,
                f"table {name}",
                f"missing ({label}); run sqlspec-adk migrate upgrade '<this URI>' to create it",
            )
            continue
        present.add(name)
        detail = f"{int(row[0])} row(s)"
        size_query = _size_sql(config, name)
        if size_query is not None:
            size_row, _ = await _try(config, partial(_one, *size_query))
            if size_row and size_row[0] is not None:
                detail += f", {_human(float(size_row[0]))}"
        report.add(INFO, f"table {name}", detail)
    database = config.connection_config.get("database")
    if dialect.family == "sqlite" and isinstance(database, str):
        total = await asyncio.to_thread(_file_size, database)
        if total is not None:
            report.add(INFO, "database file", f"{database}: {_human(total)}")

    if adk.enable_memory and adk.memory_table in present:
        await _check_fts(config, report)
    if adk.enable_sessions and {adk.session_table, adk.events_table} <= present:
        await _check_sessions(config, report)
    if adk.enable_artifacts and adk.artifact_table in present:
        await _check_artifacts(config, report)


async def _check_fts(config: DatabaseConfig, report: Report) -> None:
    dialect = config.dialect
    try:
        use_fts = dialect.memory.memory_fts
    except ConfigError as config_error:
        report.add(ERROR, "memory search", str(config_error))
        return
    if not use_fts:
        reason = "memory_use_fts=false" if dialect.has_fts else f"{type(dialect).__name__} has no full-text search"
        report.add(INFO, "memory search", f"keyword scan (LIKE), because {reason}; fine for modest memory tables")
        return
    _, error = await _try(
        config, lambda: dialect.memory.search_memory(app_name="~", user_id="~", tokens=["doctor"], limit=1)
    )
    if error is not None:
        report.add(
            ERROR,
            "memory search",
            f"full-text search is on but fails ({type(error).__name__}: {error}); run sqlspec-adk migrate upgrade, "
            "or set memory_use_fts=false in the URI",
        )
    else:
        report.add(OK, "memory search", "full-text search available and working")


async def _check_sessions(config: DatabaseConfig, report: Report) -> None:
    dialect = config.dialect
    behind, behind_error = await _try(
        config,
        lambda: _one(
            f"SELECT COUNT(*) FROM {dialect.session_table} s WHERE s.revision < "
            f"(SELECT MAX(e.seq) FROM {dialect.events_table} e WHERE e.app_name = s.app_name "
            "AND e.user_id = s.user_id AND e.session_id = s.id)"
        ),
    )
    if behind_error is None and behind and int(behind[0]):
        report.add(
            ERROR,
            "sessions",
            f"{int(behind[0])} session(s) have a revision below their newest event's seq (rows copied by hand?): "
            f"their next append fails. Set revision to the highest seq: UPDATE {dialect.session_table} s SET revision "
            f"= (SELECT MAX(seq) FROM {dialect.events_table} e WHERE e.app_name = s.app_name AND e.user_id = s.user_id "
            "AND e.session_id = s.id) WHERE ...",
        )
    orphans, error = await _try(
        config,
        lambda: _one(
            f"SELECT COUNT(*) FROM {dialect.events_table} e WHERE NOT EXISTS (SELECT 1 FROM {dialect.session_table} s "
            "WHERE s.app_name = e.app_name AND s.user_id = e.user_id AND s.id = e.session_id)"
        ),
    )
    if error is None and orphans and int(orphans[0]):
        report.add(
            WARN,
            "events",
            f"{int(orphans[0])} event(s) belong to no session (deleted outside the library); they are never read "
            "and can be deleted",
        )
    if behind_error is None and error is None:
        report.add(OK, "consistency", "session revisions and events agree")


async def _check_artifacts(config: DatabaseConfig, report: Report) -> None:
    from sqlspec_adk.adk_integration import default_artifact_location
    from sqlspec_adk.artifact.storage import ArtifactStorage

    location = config.adk.artifact_storage_uri or default_artifact_location(config)
    if location is None:
        report.add(
            WARN,
            "artifact storage",
            "no artifact_storage_uri: the artifact service needs one (add ?artifact_storage_uri=... to the URI)",
        )
        return
    try:
        storage = ArtifactStorage(location, config.adk.artifact_storage_options)
    except ConfigError as error:
        report.add(ERROR, "artifact storage", str(error))
        return
    dialect = config.dialect
    kinds = ", ".join(f"'{kind}'" for kind in sorted(CONTENT_KINDS))
    rows, rows_error = await _try(
        config,
        lambda: _all(
            f"SELECT canonical_uri FROM {dialect.artifact_table} WHERE kind IN ({kinds}) "
            f"ORDER BY create_time DESC {dialect.limit_sql}",
            (20,),
        ),
    )
    if rows_error is not None or not rows:
        report.add(OK, "artifact storage", f"{location} (no stored content to check yet)")
        return
    missing = 0
    for (uri,) in rows:
        try:
            exists = await asyncio.to_thread(storage.exists, str(uri))
        except Exception:
            exists = False
        missing += not exists
    if missing:
        report.add(
            ERROR,
            "artifact storage",
            f"{missing} of the {len(rows)} newest artifact versions have no content under {location}: "
            "was artifact_storage_uri changed, or the bucket/folder cleaned?",
        )
    else:
        report.add(OK, "artifact storage", f"{location}: the {len(rows)} newest versions' content is present")
