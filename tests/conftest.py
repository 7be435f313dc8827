"""Shared fixtures: ``backend`` runs a contract test once per adapter in tests/backends.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sqlspec_adk.errors import ConfigError
from tests import spanner_emulator
from tests.backends import ADAPTERS, IN_CI, AdapterSpec, require_server, unique_tables

_skipped: list[str] = []
#: --group-commit=on|off: every config a test builds has group commit on (where the family has it) or off.
GROUP_COMMIT: bool | None = None


class Backend:
    """One adapter under test: builds configs, stores and services, and cleans up after the test."""

    def __init__(self, spec: AdapterSpec, tmp_path: Path) -> None:
        self.spec = spec
        self.name = spec.name
        self.tmp_path = tmp_path
        self.tables = unique_tables() if spec.server else {}
        self._configs: list[Any] = []

    def integer_column(self, name: str) -> str:
        """An ``owner_id_column`` of integer type, as this adapter's SQL spells it (GoogleSQL: ``INT64``)."""
        return f"{name} {'INT64' if self.spec.server == 'spanner' else 'INTEGER'}"

    def config(self, *, connection_config: dict[str, Any] | None = None, **adk: Any) -> Any:
        """A new config (its own pool) on the same database and tables as every other config of this test."""
        config_cls = self.spec.classes()[0]
        settings = {**self.tables, **adk}
        if GROUP_COMMIT is not None and "group_commit" not in settings:
            settings["group_commit"] = GROUP_COMMIT
        build = partial(config_cls, connection_config=connection_config or self.spec.connection(self.tmp_path))
        try:
            config = build(pool_config=dict(self.spec.pool_config), extension_config={"adk": settings})
        except ConfigError:
            if "group_commit" in adk or GROUP_COMMIT is None:
                raise
            # --group-commit=on, a family without it: as it is.
            settings.pop("group_commit")
            config = build(pool_config=dict(self.spec.pool_config), extension_config={"adk": settings})
        self._configs.append(config)
        return config

    async def _store(self, index: int, config: Any, adk: dict[str, Any]) -> Any:
        from sqlspec_adk.modes import call

        store = self.spec.classes()[index](config if config is not None else self.config(**adk))
        await call(store.create_tables)
        return store

    async def session_store(self, config: Any = None, **adk: Any) -> Any:
        return await self._store(1, config, adk)

    async def memory_store(self, config: Any = None, **adk: Any) -> Any:
        return await self._store(2, config, adk)

    async def artifact_store(self, config: Any = None, **adk: Any) -> Any:
        return await self._store(3, config, adk)

    async def sessions(self, config: Any = None, *, owner_id: Any = None, **adk: Any) -> Any:
        from sqlspec_adk.service import SQLSpecSessionService

        return SQLSpecSessionService(await self.session_store(config, **adk), owner_id=owner_id)

    async def memory(self, config: Any = None, **adk: Any) -> Any:
        from sqlspec_adk.memory.service import SQLSpecMemoryService

        return SQLSpecMemoryService(await self.memory_store(config, **adk))

    async def artifacts(self, config: Any = None, *, artifact_storage_uri: str | None = None, **adk: Any) -> Any:
        from sqlspec_adk.artifact.service import SQLSpecArtifactService

        uri = artifact_storage_uri or (self.tmp_path / "artifacts").as_uri()
        return SQLSpecArtifactService(await self.artifact_store(config, **adk), artifact_storage_uri=uri)

    async def close_config(self, config: Any) -> None:
        if config.is_async:
            await config.close_pool()
        else:
            config.close_pool()

    async def close(self) -> None:
        for config in self._configs:
            await self.close_config(config)
        if self.spec.server == "spanner":
            spanner_emulator.discard(self.tmp_path)  # the test's own database: dropping it is quicker than DDL
        elif self.spec.server and self._configs:
            from sqlspec_adk.migrations import drop_tables

            cleanup = self.config()
            try:
                await drop_tables(cleanup)
            finally:
                await self.close_config(cleanup)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only = metafunc.config.getoption("--adapter")
        specs = [spec for spec in ADAPTERS if not only or spec.name in only.split(",")]
        metafunc.parametrize("adapter_spec", specs, ids=[spec.name for spec in specs], indirect=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--adapter", default="", help="comma-separated adapter names to run the contract suite on")
    parser.addoption(
        "--group-commit",
        choices=("on", "off", "default"),
        default="default",
        help="every config with group commit on (where the family has it) or off; default: each family's",
    )


def pytest_configure(config: pytest.Config) -> None:
    global GROUP_COMMIT
    choice = config.getoption("--group-commit")
    GROUP_COMMIT = None if choice == "default" else choice == "on"


async def live_backend(spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    """The body of every backend fixture: skip (or, in CI, fail) without a server, then close afterwards."""
    require_server(spec)
    handle = Backend(spec, tmp_path)
    try:
        yield handle
    finally:
        await handle.close()


def _scratch(kind: Any) -> Iterator[Any]:
    """Start a private server of ``kind`` for this test session (skip, or under CI=true fail, if it cannot)."""
    reason = kind.available()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the restart tests must run)")
        pytest.skip(reason)
    server = kind.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def scratch_postgres() -> Iterator[Any]:
    """A private PostgreSQL cluster (initdb in a temp dir, a free port), to restart or crash; never the shared one."""
    from tests.reliability.faults import ScratchPostgres

    yield from _scratch(ScratchPostgres)


@pytest.fixture(scope="session")
def scratch_mariadb() -> Iterator[Any]:
    """A private MariaDB server (mariadb-install-db in a temp dir, a free port), to restart or crash."""
    from tests.reliability.faults import ScratchMariadb

    yield from _scratch(ScratchMariadb)


@pytest.fixture(scope="session", autouse=True)
def _spanner_emulator_stopped() -> Iterator[None]:
    """The private Spanner emulator (started by the first test that needs it) stops when the session ends."""
    yield
    spanner_emulator.stop()


@pytest.fixture(scope="session")
def spanner_emulator_running() -> Any:
    """The private Spanner emulator of this test session (skip, or under CI=true fail, if it cannot run)."""
    reason = spanner_emulator.problem()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the Spanner tests must run)")
        pytest.skip(reason)
    return spanner_emulator.running()


@pytest.fixture
async def backend(adapter_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    async for handle in live_backend(adapter_spec, tmp_path):
        yield handle


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # An xfail is reported as skipped too; it ran, so it is not a skip.
    if report.skipped and report.when in ("setup", "call") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(str(reason))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _skipped:
        return
    counts: dict[str, int] = {}
    for reason in _skipped:
        reason = reason.removeprefix("Skipped: ")
        counts[reason] = counts.get(reason, 0) + 1
    terminalreporter.section("skipped: what did not run and why")
    for reason, count in sorted(counts.items()):
        terminalreporter.write_line(f"{count:5d}  {reason}")
    if not IN_CI:
        terminalreporter.write_line("(set CI=true to turn a missing server into a failure)")
