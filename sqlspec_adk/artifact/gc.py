"""Artifact garbage collection: blobs without a metadata row, rows without a blob.

A save writes its blob first and commits the row second, so a crash, a kill or
a cancelled save in between leaves an *orphan blob*: content no version points
at, invisible to every load and listing. The opposite, a *missing blob* (a row
whose content is gone), only happens when storage is damaged or cleaned by
hand; loading such a version raises ``ArtifactIntegrityError``.

:func:`collect_artifact_garbage` finds both. It is a dry run unless asked to
delete:

- ``delete_orphans=True`` removes orphan blobs last modified more than
  ``grace_seconds`` ago. Younger ones are kept and reported as *fresh*: they
  may belong to saves still in flight (blob written, row not yet committed).
  Blobs without a modification time are always kept.
- ``delete_missing_rows=True`` deletes the rows whose content is missing (the
  versions are unloadable anyway; this makes them disappear from listings).

Only files named like blobs (a 32-hex uuid under ``{root}/apps/``) are
considered, and rows whose ``canonical_uri`` lies outside the storage root
(e.g. written under an older ``artifact_storage_uri``) are counted, never
touched. One storage root must belong to one artifact table: a blob another
table references looks like an orphan here.

Order matters for safety against concurrent saves: storage is listed first and
the rows are read second, so a version committed before the read is always
seen; a missing blob is re-checked before it is reported.

CLI: ``sqlspec-adk artifacts gc DB_URI [--storage-uri URI] [--delete]``, wired
through :func:`register` and :func:`run_cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Optional

from sqlspec_adk.artifact.storage import BLOB_NAME, ArtifactStorage, redact_uri
from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.errors import ArtifactIntegrityError, ConfigError
from sqlspec_adk.operations.database import close_config, run_op
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import CONTENT_KINDS

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "GCReport",
    "MissingBlob",
    "OrphanBlob",
    "collect_artifact_garbage",
    "register",
    "run_cli",
]

logger = logging.getLogger(__name__)

#: Default age (seconds) below which an unreferenced blob is presumed to be an in-flight save.
DEFAULT_GRACE_SECONDS = 3600.0
_TIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created", "timeCreated")


@dataclass(frozen=True, slots=True)
class OrphanBlob:
    """A blob no row references; ``modified`` is epoch seconds (None when the filesystem gives none)."""

    uri: str
    size: Optional[int]
    modified: Optional[float]


@dataclass(frozen=True, slots=True)
class MissingBlob:
    """A version whose recorded content is not in storage."""

    app_name: str
    user_id: str
    scope: str
    filename: str
    version: int
    canonical_uri: str


@dataclass
class GCReport:
    """What one run found and did. ``dry_run`` runs delete nothing."""

    storage: str
    dry_run: bool
    grace_seconds: float
    blobs_seen: int = 0
    rows_seen: int = 0
    orphans: list[OrphanBlob] = field(default_factory=list)
    fresh: list[OrphanBlob] = field(default_factory=list)
    missing: list[MissingBlob] = field(default_factory=list)
    foreign_rows: int = 0
    deleted_blobs: int = 0
    deleted_rows: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        """Whether orphans or missing content remain (not deleted by this run), or a deletion failed."""
        return len(self.orphans) > self.deleted_blobs or len(self.missing) > self.deleted_rows or bool(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        """A human-readable summary, one finding per line."""
        mode = "dry run" if self.dry_run else "delete"
        lines = [
            f"artifact gc ({mode}) of {self.storage}: {self.blobs_seen} blobs, {self.rows_seen} rows with content",
            f"orphan blobs (no row, older than {self.grace_seconds:g}s): {len(self.orphans)}"
            + (f", deleted {self.deleted_blobs}" if not self.dry_run else ""),
        ]
        lines += [f"  {blob.uri}  {_size(blob.size)}  modified {_when(blob.modified)}" for blob in self.orphans]
        lines.append(f"fresh unreferenced blobs kept (may be saves in flight): {len(self.fresh)}")
        lines.append(
            f"rows whose content is missing: {len(self.missing)}"
            + (f", deleted {self.deleted_rows}" if self.deleted_rows else "")
        )
        lines += [
            f"  app={row.app_name} user={row.user_id} scope={row.scope} file={row.filename} "
            f"version={row.version}: {row.canonical_uri}"
            for row in self.missing
        ]
        if self.foreign_rows:
            lines.append(f"rows with content outside this storage root (not checked): {self.foreign_rows}")
        lines += [f"error: {message}" for message in self.errors]
        if self.dry_run and (self.orphans or self.missing):
            lines.append("dry run: nothing was deleted (--delete removes orphans, --delete-missing-rows the rows)")
        return "\n".join(lines)


def _size(size: Optional[int]) -> str:
    return "? bytes" if size is None else f"{size} bytes"


def _when(epoch: Optional[float]) -> str:
    return "unknown" if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


# ----------------------------------------------------------------- SQL side
_ROW_COLUMNS = "app_name, user_id, scope, filename, version, kind, canonical_uri"


def content_rows(config: DatabaseConfig, app_name: Optional[str]) -> Op[list[tuple[Any, ...]]]:
    """Every artifact row's key, kind and ``canonical_uri`` (optionally one app's)."""
    sql = f"SELECT {_ROW_COLUMNS} FROM {config.dialect.artifact_table}"
    params: tuple[Any, ...] = ()
    if app_name is not None:
        sql += " WHERE app_name = ?"
        params = (app_name,)
    rows = yield Stmt(sql, params, Fetch.ALL)
    return [tuple(row) for row in rows]


def delete_rows(config: DatabaseConfig, rows: list[MissingBlob]) -> Op[int]:
    """Delete exactly these versions by primary key."""
    if rows:
        params = [(r.app_name, r.user_id, r.scope, r.filename, r.version) for r in rows]
        yield Stmt(config.dialect.artifacts.artifact_delete_version_sql, params, many=True)
    return len(rows)


# ------------------------------------------------------------- storage side
def _modified(info: Mapping[str, Any]) -> Optional[float]:
    for key in _TIME_KEYS:
        value = info.get(key)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None


def _list_blobs(storage: ArtifactStorage, app_name: Optional[str]) -> dict[str, Mapping[str, Any]]:
    """Blob paths under the root (or one app) and their fsspec info."""
    root = storage.app_root(app_name) if app_name is not None else storage.blobs_root
    fs = storage.fs
    try:
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        return {}
    finally:
        # Listings can be large; do not keep them in the filesystem's cache.
        with contextlib.suppress(Exception):
            fs.invalidate_cache(root)
    return {
        str(path): info
        for path, info in found.items()
        if info.get("type") != "directory" and BLOB_NAME.fullmatch(str(path).rsplit("/", 1)[-1])
    }


def _still_missing(storage: ArtifactStorage, paths: list[str]) -> set[str]:
    storage.fs.invalidate_cache()
    return {path for path in paths if not storage.fs.exists(path)}


def _undated_modified(storage: ArtifactStorage, path: str) -> Optional[float]:
    try:
        value = storage.fs.modified(path)
    except Exception:
        return None
    return _modified({"mtime": value})


def _delete_blobs(storage: ArtifactStorage, blobs: list[OrphanBlob], report: GCReport) -> None:
    for blob in blobs:
        try:
            with contextlib.suppress(FileNotFoundError):
                storage.fs.rm_file(storage.path_of(blob.uri))
        except Exception as error:
            report.errors.append(f"could not delete {blob.uri}: {type(error).__name__}")
            logger.warning("artifact gc: could not delete orphan blob %s", blob.uri, exc_info=True)
        else:
            report.deleted_blobs += 1
            logger.info("artifact gc: deleted orphan blob %s", blob.uri)


# ---------------------------------------------------------------- the run
async def collect_artifact_garbage(
    config: DatabaseConfig,
    storage: ArtifactStorage,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    delete_orphans: bool = False,
    delete_missing_rows: bool = False,
    app_name: Optional[str] = None,
    now: Optional[float] = None,
) -> GCReport:
    """Find (and, when asked, remove) orphan blobs and rows whose blob is missing.

    ``config`` is the metadata database (its ``artifact_table``), ``storage`` the
    content root; for a service that is ``(service.store.config, service.storage)``.
    ``now`` (epoch seconds) exists for tests. Never deletes anything unless
    ``delete_orphans`` or ``delete_missing_rows`` is true.
    """
    if grace_seconds < 0:
        raise ConfigError(f"grace_seconds must be >= 0, got {grace_seconds!r}")
    report = GCReport(
        storage=redact_uri(storage.root_uri),
        dry_run=not (delete_orphans or delete_missing_rows),
        grace_seconds=grace_seconds,
    )
    current = time.time() if now is None else now
    # 1. Storage first, then rows: a row committed before the read is always seen.
    blobs = await asyncio.to_thread(_list_blobs, storage, app_name)
    rows = await run_op(config, partial(content_rows, config, app_name), write=False, name="artifacts_gc")
    report.blobs_seen = len(blobs)

    referenced: set[str] = set()
    absent: dict[str, MissingBlob] = {}
    for app, user, scope, filename, version, kind, uri in rows:
        if str(kind) not in CONTENT_KINDS:
            continue
        report.rows_seen += 1
        try:
            path = storage.path_of(str(uri))
        except ArtifactIntegrityError:
            report.foreign_rows += 1
            continue
        referenced.add(path)
        if path not in blobs:
            absent[path] = MissingBlob(str(app), str(user), str(scope), str(filename), int(version), str(uri))

    # 2. Orphans: unreferenced blobs, split by age against the grace period.
    for path, info in sorted(blobs.items()):
        if path in referenced:
            continue
        modified = _modified(info)
        if modified is None:
            modified = await asyncio.to_thread(_undated_modified, storage, path)
        size = info.get("size")
        blob = OrphanBlob(storage.uri_of(path), int(size) if isinstance(size, int) else None, modified)
        if modified is not None and current - modified >= grace_seconds:
            report.orphans.append(blob)
        else:
            report.fresh.append(blob)

    # 3. Missing content, re-checked: a save may have finished between the listing and the read.
    if absent:
        gone = await asyncio.to_thread(_still_missing, storage, list(absent))
        report.missing = [absent[path] for path in absent if path in gone]

    if delete_orphans and report.orphans:
        await asyncio.to_thread(_delete_blobs, storage, report.orphans, report)
    if delete_missing_rows and report.missing:
        report.deleted_rows = await run_op(
            config, partial(delete_rows, config, report.missing), write=True, name="artifacts_gc"
        )
        for row in report.missing:
            logger.info(
                "artifact gc: deleted row of %s version %s (content missing at %s)",
                row.filename,
                row.version,
                row.canonical_uri,
            )
    return report


# --------------------------------------------------------------------- CLI
def register(subparsers: Any) -> None:
    """Add ``artifacts gc`` to a CLI's subcommands; the parsed args carry ``handler=run_cli``."""
    artifacts = subparsers.add_parser("artifacts", help="artifact content maintenance")
    commands = artifacts.add_subparsers(dest="artifacts_command", required=True)
    gc = commands.add_parser(
        "gc",
        help="find blobs without metadata and metadata without blobs (dry run unless --delete)",
        description=(__doc__ or "").split("\n\n")[0],
    )
    gc.add_argument(
        "uri", help="metadata database URI, e.g. sqlspec+asyncpg://user@host/db?artifact_table=adk_artifact"
    )
    gc.add_argument("--storage-uri", help="content root (default: the URI's artifact_storage_uri)")
    gc.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec option (VALUE parsed as JSON when it is JSON); prefer the SDK's environment variables for secrets",
    )
    gc.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE_SECONDS,
        metavar="SECONDS",
        help=f"keep unreferenced blobs younger than this (default {DEFAULT_GRACE_SECONDS:g}: saves may be in flight)",
    )
    gc.add_argument("--app", help="only this app's artifacts")
    gc.add_argument("--delete", action="store_true", help="delete orphan blobs older than the grace period")
    gc.add_argument("--delete-missing-rows", action="store_true", help="delete rows whose content is missing")
    gc.add_argument("--json", action="store_true", help="print the report as JSON")
    gc.set_defaults(handler=run_cli)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--storage-option takes KEY=VALUE, got {name or pair!r}")
        try:
            options[name] = json.loads(raw)
        except ValueError:
            options[name] = raw
    return options


async def _gc_from_args(args: argparse.Namespace) -> GCReport:
    from sqlspec_adk.registry import config_from_uri

    _, config = config_from_uri(args.uri)
    try:
        uri = args.storage_uri or config.adk.artifact_storage_uri
        if not uri:
            raise ConfigError("no artifact content location: pass --storage-uri or artifact_storage_uri= in the URI")
        options = {**config.adk.artifact_storage_options, **_parse_options(args.storage_option)}
        storage = ArtifactStorage(uri, options)
        return await collect_artifact_garbage(
            config,
            storage,
            grace_seconds=args.grace,
            delete_orphans=args.delete,
            delete_missing_rows=args.delete_missing_rows,
            app_name=args.app,
        )
    finally:
        await close_config(config)


def run_cli(args: argparse.Namespace) -> int:
    """Run ``artifacts gc``: 0 when nothing needs attention, 1 when something was found and remains."""
    report = asyncio.run(_gc_from_args(args))
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return 1 if report.needs_attention else 0


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m sqlspec_adk.artifact.gc gc DB_URI ...``: the same command without the main CLI."""
    parser = argparse.ArgumentParser(prog="python -m sqlspec_adk.artifact.gc")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["artifacts", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"sqlspec-adk: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
