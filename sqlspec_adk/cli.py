"""``sqlspec-adk`` command line.

- ``demo``: an offline agent, a restart, and proof that nothing was lost.
- ``migrate upgrade|current|render URI``: versioned schema.
- ``web|api_server|run ...``: ADK's own commands with the ``sqlspec+<driver>://``
  service schemes registered (``--sqlspec_uri URI`` sets all three services).
- ``import-adk SOURCE URI``: copy an ADK SqliteSessionService/DatabaseSessionService database.
- ``export URI FILE`` / ``import FILE URI``: JSON Lines backups and moves between backends.
- ``prune URI``: retention by age. ``doctor URI``: health checks in plain words.
- ``memory reembed URI``: compute missing memory vectors, or all of them for a new embedder (resumable).
- ``artifacts gc URI``: orphan blobs and missing content (:mod:`sqlspec_adk.artifact.gc`; dry run unless ``--delete``).

Exit codes: 0 success, 1 a check failed or problems were found, 2 bad
configuration or input (the message says which).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlspec_adk.errors import ConfigError

__all__ = ["ADK_COMMANDS", "main"]

#: Commands handed over to ADK's CLI after the schemes are registered.
ADK_COMMANDS = ("web", "api_server", "run")
_URI_HELP = "database URI, e.g. sqlspec+aiosqlite:///./adk.db or sqlspec+asyncpg://user@host/db?memory_use_fts=true"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqlspec-adk", description="Durable Google ADK storage in SQL databases.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run an offline agent, restart, and show that everything survived")
    demo.add_argument("--database", help="SQLite file to use (default: a fresh temporary file)")
    demo.add_argument("--driver", choices=["aiosqlite", "sqlite"], default="aiosqlite")

    migrate = commands.add_parser("migrate", help="versioned schema migrations")
    migrate_commands = migrate.add_subparsers(dest="migrate_command", required=True)
    for name, text in (("upgrade", "apply pending migrations"), ("current", "print the recorded schema version")):
        sub = migrate_commands.add_parser(name, help=text)
        sub.add_argument("uri", help=_URI_HELP)
    render = migrate_commands.add_parser("render", help="print the schema SQL for one dialect (no connection)")
    render.add_argument("uri", help="database URI naming the driver (and table options)")
    generate = migrate_commands.add_parser(
        "generate", help="write one migration file per schema version for your own tool (no connection)"
    )
    generate.add_argument("uri", help="database URI naming the driver (and table options)")
    generate.add_argument("--format", choices=["sql", "flyway", "alembic"], default="sql")
    generate.add_argument("--out", required=True, help="directory to write the files into")
    generate.add_argument("--head", default=None, help="alembic: the project's current head revision to build on")

    for name in ADK_COMMANDS:
        commands.add_parser(
            name,
            help=f"'adk {name}' with the sqlspec+<driver>:// schemes (adk's options, plus --sqlspec_uri URI)",
            add_help=False,
        )

    importer = commands.add_parser("import-adk", help="copy an ADK session database (sessions, events, state)")
    importer.add_argument("source", help="ADK database: a SQLite file (e.g. agent/.adk/session.db) or SQLAlchemy URL")
    importer.add_argument("uri", help=_URI_HELP)
    importer.add_argument("--source-kind", choices=["auto", "sqlite", "database"], default="auto")
    importer.add_argument(
        "--dry-run", action="store_true", help="read both sides, write nothing, show what would be done"
    )
    importer.add_argument("--batch-size", type=int, default=100, help="sessions per transaction (default 100)")
    importer.add_argument("--owner-id", help="value for the configured owner_id_column (JSON, or plain text)")
    importer.add_argument("--no-progress", action="store_true", help="no progress bar")

    export = commands.add_parser("export", help="write sessions, state, memory and artifacts to JSON Lines")
    export.add_argument("uri", help=_URI_HELP)
    export.add_argument("file", help="output file (.jsonl, or .jsonl.gz for gzip; - for stdout)")
    export.add_argument("--include", default="sessions,memory,artifacts", help="comma-separated parts to export")
    export.add_argument("--no-progress", action="store_true")

    load = commands.add_parser("import", help="load a JSON Lines export (idempotent)")
    load.add_argument("file", help="a file written by 'sqlspec-adk export' (.jsonl or .jsonl.gz)")
    load.add_argument("uri", help=_URI_HELP)
    load.add_argument("--owner-id", help="value for the owner_id_column instead of the file's (JSON, or plain text)")
    load.add_argument("--no-progress", action="store_true")

    prune = commands.add_parser("prune", help="delete old data by age (retention)")
    prune.add_argument("uri", help=_URI_HELP)
    prune.add_argument(
        "--sessions-idle", metavar="AGE", help="delete sessions not updated for AGE (e.g. 90d), events too"
    )
    prune.add_argument("--events-older-than", metavar="AGE", help="delete events older than AGE")
    prune.add_argument("--memory-older-than", metavar="AGE", help="delete memory entries older than AGE")
    prune.add_argument(
        "--artifacts-older-than", metavar="AGE", help="delete artifact versions (and content) older than AGE"
    )
    prune.add_argument("--app", help="only this app")
    prune.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    doctor = commands.add_parser("doctor", help="check connection, schema, tables, search and storage")
    doctor.add_argument("uri", help=_URI_HELP)

    memory = commands.add_parser("memory", help="memory maintenance")
    memory_commands = memory.add_subparsers(dest="memory_command", required=True)
    reembed = memory_commands.add_parser(
        "reembed", help="compute missing memory vectors, or all of them for a new embedder (resumable)"
    )
    reembed.add_argument("uri", help=_URI_HELP)
    reembed.add_argument(
        "--embedder",
        help="the embedder's string form (default: the URI's memory_embedder), e.g. "
        "sentence-transformers:all-MiniLM-L6-v2, gemini:text-embedding-004, mymodule:embedder",
    )
    reembed.add_argument("--batch-size", type=int, default=64, help="entries per embedder call and transaction")
    reembed.add_argument("--no-progress", action="store_true", help="no progress bar")

    from sqlspec_adk.artifact.gc import register as register_artifacts

    register_artifacts(commands)
    return parser


def _owner(value: str | None) -> Any:
    from sqlspec_adk.transfer.writer import UNSET

    if value is None:
        return UNSET
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _migrate(args: argparse.Namespace) -> int:
    from sqlspec_adk.migrations import LATEST_VERSION, current_version, upgrade
    from sqlspec_adk.migrations.files import generate, render
    from sqlspec_adk.operations.database import close_config
    from sqlspec_adk.registry import config_from_uri, redact_uri

    _, config = config_from_uri(args.uri)
    if args.migrate_command == "render":
        sys.stdout.write(render(config.dialect))
        return 0
    if args.migrate_command == "generate":
        for path in generate(config.dialect, args.format, Path(args.out), head=args.head):
            print(f"wrote {path}")
        return 0
    try:
        if args.migrate_command == "upgrade":
            version = await upgrade(config)
            print(f"schema at version {version} (latest {LATEST_VERSION})")
        else:
            version = await current_version(config)
            if version == LATEST_VERSION:
                state = "up to date"
            elif version > LATEST_VERSION:
                state = f"newer than this sqlspec-adk knows ({LATEST_VERSION}): upgrade sqlspec-adk"
            else:
                state = f"behind: run 'sqlspec-adk migrate upgrade {redact_uri(args.uri)}'"
            print(f"schema version {version} (latest {LATEST_VERSION}): {state}")
    finally:
        await close_config(config)
    return 0


async def _import_adk(args: argparse.Namespace) -> int:
    from sqlspec_adk.operations.database import open_config
    from sqlspec_adk.transfer.adk_source import open_adk_source
    from sqlspec_adk.transfer.import_adk import import_adk

    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    source = open_adk_source(args.source, args.source_kind)
    try:
        async with open_config(args.uri) as config:
            report = await import_adk(
                source,
                config,
                dry_run=args.dry_run,
                batch_size=args.batch_size,
                owner_id=_owner(args.owner_id),
                progress=not args.no_progress,
            )
    finally:
        await source.close()
    print(report.render())
    return 0 if report.ok else 1


async def _export(args: argparse.Namespace) -> int:
    from sqlspec_adk.operations.database import open_config
    from sqlspec_adk.transfer.jsonl import export_jsonl

    include = [part.strip() for part in args.include.split(",") if part.strip()]
    async with open_config(args.uri) as config:
        counts = await export_jsonl(config, args.file, include=include, progress=not args.no_progress)
    if args.file != "-":
        print(f"exported {counts.render()} to {args.file}")
    return 0


async def _import(args: argparse.Namespace) -> int:
    from sqlspec_adk.operations.database import open_config
    from sqlspec_adk.transfer.jsonl import import_jsonl

    if args.file != "-" and not await asyncio.to_thread(Path(args.file).is_file):
        raise ConfigError(f"no such file: {args.file}")
    async with open_config(args.uri) as config:
        counts = await import_jsonl(config, args.file, owner_id=_owner(args.owner_id), progress=not args.no_progress)
    print(
        f"read {counts.render()}\nnew: {counts.imported_sessions} session(s), "
        f"{counts.imported_artifacts} artifact version(s) (the rest were already there)"
    )
    return 0 if counts.ok else 1


async def _prune(args: argparse.Namespace) -> int:
    """Each rule's age is its flag's, else the config's ``retention_*`` setting (URI parameter or mapping)."""
    from sqlspec_adk.operations.database import open_config
    from sqlspec_adk.operations.prune import PrunePlan, parse_age, prune

    now = time.time()

    def cutoff(age: str | None, default: float | None) -> float | None:
        return default if age is None else now - parse_age(age)

    async with open_config(args.uri) as config:
        defaults = config.adk.backend.retention.cutoffs(now)
        plan = PrunePlan(
            sessions_idle_before=cutoff(args.sessions_idle, defaults["idle_sessions"]),
            events_before=cutoff(args.events_older_than, defaults["events"]),
            memory_before=cutoff(args.memory_older_than, defaults["memory"]),
            artifacts_before=cutoff(args.artifacts_older_than, defaults["artifacts"]),
            app_name=args.app,
        )
        if plan.empty():
            raise ConfigError(
                "say what to prune: --sessions-idle, --events-older-than, --memory-older-than or "
                "--artifacts-older-than, or set retention_idle_sessions_days, retention_events_days, "
                "retention_memory_days or retention_artifacts_days in the URI"
            )
        result = await prune(config, plan, dry_run=args.dry_run)
    print(result.render())
    return 0


async def _reembed(args: argparse.Namespace) -> int:
    from sqlspec_adk.operations.database import open_config
    from sqlspec_adk.operations.reembed import reembed

    extra = {"memory_embedder": args.embedder} if args.embedder else None
    async with open_config(args.uri, extra) as config:
        result = await reembed(config, batch_size=args.batch_size, progress=not args.no_progress)
    print(result.render())
    return 0


async def _doctor(uri: str) -> int:
    from sqlspec_adk.operations.doctor import diagnose

    report = await diagnose(uri)
    print(report.render())
    return 1 if report.problems else 0


def _hand_over_to_adk(argv: Sequence[str]) -> int:
    """Register the schemes, then run ``adk <argv>`` in this process (ADK's own option parsing)."""
    from sqlspec_adk.adk_integration import register_schemes

    args = list(argv)
    if "--sqlspec_uri" in args or any(arg.startswith("--sqlspec_uri=") for arg in args):
        args = _expand_sqlspec_uri(args)
    register_schemes()
    from google.adk.cli.cli_tools_click import main as adk_main

    try:
        adk_main.main(args=args, prog_name="sqlspec-adk", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def _expand_sqlspec_uri(args: list[str]) -> list[str]:
    """Replace ``--sqlspec_uri URI`` with the three ADK service options (explicit ones win)."""
    uri = None
    rest: list[str] = []
    iterator = iter(args)
    for arg in iterator:
        if arg == "--sqlspec_uri":
            uri = next(iterator, None)
        elif arg.startswith("--sqlspec_uri="):
            uri = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if not uri:
        raise ConfigError("--sqlspec_uri needs a URI, e.g. --sqlspec_uri sqlspec+aiosqlite:///./adk.db")
    extra: list[str] = []
    for option in ("--session_service_uri", "--memory_service_uri", "--artifact_service_uri"):
        if not any(arg == option or arg.startswith(option + "=") for arg in rest):
            extra.append(f"{option}={uri}")
    return [rest[0], *extra, *rest[1:]] if rest else extra


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sqlspec-adk`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments and arguments[0] in ADK_COMMANDS:
            return _hand_over_to_adk(arguments)
        args = _build_parser().parse_args(arguments)
        if args.command == "demo":
            from sqlspec_adk.demo_run import run_demo

            if args.database:
                return asyncio.run(run_demo(Path(args.database), args.driver))
            with tempfile.TemporaryDirectory(prefix="sqlspec-adk-demo-") as folder:
                return asyncio.run(run_demo(Path(folder) / "demo.db", args.driver))
        if args.command == "migrate":
            return asyncio.run(_migrate(args))
        if args.command == "import-adk":
            return asyncio.run(_import_adk(args))
        if args.command == "export":
            return asyncio.run(_export(args))
        if args.command == "import":
            return asyncio.run(_import(args))
        if args.command == "prune":
            return asyncio.run(_prune(args))
        if args.command == "doctor":
            return asyncio.run(_doctor(args.uri))
        if args.command == "memory":
            return asyncio.run(_reembed(args))
        if args.command == "artifacts":
            return int(args.handler(args))
    except ConfigError as error:
        print(f"sqlspec-adk: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sqlspec-adk: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("SQLSPEC_ADK_DEBUG"):
            raise
        command = arguments[0] if arguments else "sqlspec-adk"
        print(
            f"sqlspec-adk {command}: {type(error).__name__}: {error}\n"
            "(run 'sqlspec-adk doctor URI' to check the database; SQLSPEC_ADK_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
