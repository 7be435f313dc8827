"""``sqlspec-adk migrate generate``: files a team's own tool applies, and what they leave behind.

- Alembic itself (``alembic upgrade head``, command API, a minimal env.py
  written here) applies the generated revisions on top of the project's own
  head revision, on SQLite and PostgreSQL; then the services run on the
  result without upgrading anything.
- The Flyway-named files, executed as plain SQL in version order (what
  Flyway does; no Flyway binary here), give the catalog ``upgrade`` gives, on
  SQLite, PostgreSQL and MariaDB.
- The files follow the URI's table names, schema and owner column, leave out
  what ``include_*_migration`` false leaves out, and are byte-identical when
  generated again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.cli import main
from sqlspec_adk.memory.service import SQLSpecMemoryService
from sqlspec_adk.migrations import LATEST_VERSION, VERSIONS, current_version, drop_tables, upgrade
from sqlspec_adk.modes import call
from sqlspec_adk.registry import config_from_uri, load_adapter
from sqlspec_adk.service import SQLSpecSessionService
from tests.backends import PG_DSN
from tests.migrations.support import Family, apply_script, catalog, uri

SQLITE = Family("sqlite", "sqlite", "sqlite")
POSTGRES = Family("postgres", "psycopg_sync", "psycopg_sync")
MYSQL = Family("mysql", "pymysql", "pymysql")


def _generate(target: str, fmt: str, out: Path, *extra: str) -> list[Path]:
    assert main(["migrate", "generate", target, "--format", fmt, "--out", str(out), *extra]) == 0
    return sorted(out.iterdir())


# ------------------------------------------------------------------------------------------------ the files


@pytest.mark.parametrize("driver", ["sqlite", "asyncpg", "aiomysql", "duckdb", "oracledb", "spanner", "adbc_duckdb"])
def test_files_follow_the_uri_and_are_stable(driver: str, tmp_path: Path) -> None:
    location = {"asyncpg": "u@h/db", "aiomysql": "u@h/db", "oracledb": "u@h:1521/svc"}.get(driver, "/x.db")
    if driver == "spanner":
        location = "/projects/p/instances/i/databases/d"
    owner = "tenant_id INT64" if driver == "spanner" else "tenant_id INTEGER"
    schema = {"schema": "agents"} if driver in ("asyncpg", "aiomysql", "oracledb") else {}
    target = uri(
        driver, location, session_table="my_sessions", memory_table="my_memory", owner_id_column=owner, **schema
    )
    for fmt in ("sql", "flyway", "alembic"):
        first = _generate(target, fmt, tmp_path / fmt / "a")
        again = _generate(target, fmt, tmp_path / fmt / "b")
        assert [path.name for path in first] == [path.name for path in again]
        assert [path.read_bytes() for path in first] == [path.read_bytes() for path in again], "not stable"
        assert len(first) == len(VERSIONS)
        text = "\n".join(path.read_text() for path in first).lower()  # Oracle spells names in capitals
        assert "my_sessions" in text and "my_memory" in text and "tenant_id" in text
        assert "adk_session" not in text and 'adk_memory"' not in text
        if schema:
            assert "agents" in text
    flyway = sorted(path.name for path in (tmp_path / "flyway" / "a").iterdir())
    assert flyway == sorted(f"V{version.VERSION}__sqlspec_adk_{version.NAME}.sql" for version in VERSIONS)
    # Left out of the library's migrations: none of the memory table's statements.
    without = _generate(
        uri(driver, location, memory_table="my_memory", include_memory_migration=False), "sql", tmp_path / "n"
    )
    assert "my_memory" not in "\n".join(path.read_text() for path in without).lower()


# ------------------------------------------------------------------------------------------------ Alembic

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, version_table=config.get_main_option("version_table"))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

PROJECT_REVISION = """
from alembic import op

revision = "project_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE {table} (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE {table}")
"""


async def _services_work(target: str, driver: str, tmp_path: Path) -> None:
    """Sessions, memory and artifacts on a database the generated files made: no upgrade runs."""
    _, config = config_from_uri(target)
    _, store_cls, memory_cls, artifact_cls = load_adapter(driver)
    from google.adk.events import Event
    from google.genai import types

    try:
        assert await current_version(config) == LATEST_VERSION
        sessions = SQLSpecSessionService(store_cls(config))
        session = await sessions.create_session(app_name="app", user_id="u", state={"app:x": 1})
        text = types.Content(role="user", parts=[types.Part(text="alembic made these tables")])
        await sessions.append_event(session, Event(author="user", content=text))
        loaded = await sessions.get_session(app_name="app", user_id="u", session_id=session.id)
        assert loaded is not None and len(loaded.events) == 1 and loaded.state["app:x"] == 1
        memory = SQLSpecMemoryService(memory_cls(config))
        await memory.add_session_to_memory(loaded)
        assert (await memory.search_memory(app_name="app", user_id="u", query="alembic tables")).memories
        files = SQLSpecArtifactService(artifact_cls(config), artifact_storage_uri=(tmp_path / "blobs").as_uri())
        assert (
            await files.save_artifact(app_name="app", user_id="u", filename="f.txt", artifact=types.Part(text="x")) == 0
        )
    finally:
        await call(config.close_pool)


@pytest.mark.parametrize("family", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
def test_alembic_applies_the_generated_revisions_and_the_services_run(family: Family, tmp_path: Path) -> None:
    pytest.importorskip("alembic", reason="alembic is in the dev extra")
    from alembic import command
    from alembic.config import Config

    family.require()
    tables = family.tables()
    location = family.location(tmp_path)
    target = uri(family.driver, location, owner_id_column="tenant_id INTEGER", **tables)
    prefix = tables.get("session_table", "x_session")[: -len("session")]
    project_table, version_table = f"{prefix}project", f"{prefix}alembic_version"
    scripts = tmp_path / "alembic"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(ENV_PY)
    (scripts / "versions" / "project_0001.py").write_text(PROJECT_REVISION.format(table=project_table))
    generated = _generate(target, "alembic", scripts / "versions", "--head", "project_0001")
    assert len(generated) == len(VERSIONS) + 1
    url = f"sqlite:///{location[1:]}" if family.name == "sqlite" else "postgresql+psycopg://" + PG_DSN.split("://")[1]
    settings = Config()
    settings.set_main_option("script_location", str(scripts))
    settings.set_main_option("sqlalchemy.url", url)
    settings.set_main_option("version_table", version_table)
    try:
        command.upgrade(settings, "head")
        asyncio.run(_services_work(target, family.driver, tmp_path))
        # The runner finds nothing to do on what Alembic made.
        _, config = config_from_uri(target)
        try:
            assert asyncio.run(upgrade(config)) == LATEST_VERSION
        finally:
            asyncio.run(call(config.close_pool))
        head = _alembic_head(family, location, version_table)
        assert head == f"sqlspec_adk_{VERSIONS[-1].VERSION:04d}"
    finally:
        if family.server:
            _drop_pg(target, project_table, version_table)


def _alembic_head(family: Family, location: str, version_table: str) -> str:
    if family.name == "sqlite":
        with sqlite3.connect(location[1:]) as connection:
            return str(connection.execute(f"SELECT version_num FROM {version_table}").fetchone()[0])
    import psycopg

    with psycopg.connect(PG_DSN) as connection:
        row = connection.execute(f'SELECT version_num FROM "{version_table}"').fetchone()
        assert row is not None
        return str(row[0])


def _drop_pg(target: str, *extra_tables: str) -> None:
    import psycopg

    _, config = config_from_uri(target)
    try:
        asyncio.run(drop_tables(config))
    finally:
        asyncio.run(call(config.close_pool))
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        for table in extra_tables:
            connection.execute(f'DROP TABLE IF EXISTS "{table}"')


# ------------------------------------------------------------------------------------------------ Flyway


@pytest.mark.parametrize("family", [SQLITE, POSTGRES, MYSQL], ids=["sqlite", "postgres", "mysql"])
async def test_flyway_files_in_version_order_give_the_schema_upgrade_gives(family: Family, tmp_path: Path) -> None:
    family.require()
    applied_tables, upgraded_tables = family.tables(), family.tables()
    applied_at, upgraded_at = family.location(tmp_path, "flyway"), family.location(tmp_path, "upgraded")
    applied = uri(family.driver, applied_at, owner_id_column="tenant_id INTEGER", **applied_tables)
    upgraded = uri(family.driver, upgraded_at, owner_id_column="tenant_id INTEGER", **upgraded_tables)
    files = await asyncio.to_thread(_generate, applied, "flyway", tmp_path / "sql")
    ordered = sorted(files, key=lambda path: int(path.name[1:].split("__", 1)[0]))  # V<n>__...: numeric order
    try:
        for path in ordered:
            await asyncio.to_thread(apply_script, family.name, applied_at, path.read_text())
        _, config = config_from_uri(upgraded)
        try:
            assert await upgrade(config) == LATEST_VERSION
        finally:
            await call(config.close_pool)
        assert catalog(family.name, applied_at, applied_tables) == catalog(family.name, upgraded_at, upgraded_tables)
        _, config = config_from_uri(applied)
        try:
            assert await current_version(config) == LATEST_VERSION
        finally:
            await call(config.close_pool)
    finally:
        for target in (applied, upgraded) if family.server else ():
            _, config = config_from_uri(target)
            try:
                await drop_tables(config)
            finally:
                await call(config.close_pool)
