"""nox sessions: tests per adapter family, lint, typecheck, docs."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

FAMILIES = {
    "sqlite": "sqlite,aiosqlite",
    "postgres": "asyncpg,psycopg_async,psycopg_sync,psqlpy,cockroach_asyncpg,cockroach_psycopg",
    "mysql": "aiomysql,asyncmy,pymysql,mysqlconnector",
}


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole suite on every adapter (servers from SQLSPEC_ADK_PG_DSN / SQLSPEC_ADK_MYSQL_DSN)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("family", list(FAMILIES))
def family(session: nox.Session, family: str) -> None:
    """The contract suite on one adapter family."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", "tests/contract", f"--adapter={FAMILIES[family]}", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "sqlspec_adk", "tests", "benchmarks", "tools", "examples", "noxfile.py")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the docs site (mkdocs, strict: broken links fail)."""
    session.install("mkdocs>=1.6")
    session.run("mkdocs", "build", "--strict")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks: every workload on every reachable backend (docs/benchmarks.md); `-- --quick` for the smoke run."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def reliability(session: nox.Session) -> None:
    """The long reliability runs (tests/reliability/long_run.py), writing docs/reliability.md."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "tests.reliability.long_run", *session.posargs)
