"""Fixtures of the reliability checks: worker processes, one backend per SQL family, a figures summary."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.backends import ADAPTERS, AdapterSpec
from tests.conftest import Backend, live_backend
from tests.reliability.support import Workers, family_of

#: Figures lines the tests report; printed in the terminal summary.
FIGURES: list[str] = []

#: Hypothesis settings of the bounded run; SQLSPEC_ADK_RELIABILITY_EXAMPLES raises the count for long runs.
HYPOTHESIS = settings(
    max_examples=int(os.environ.get("SQLSPEC_ADK_RELIABILITY_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("SQLSPEC_ADK_RELIABILITY_DERANDOMIZE", "") == "1",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "families(*names): run a family_backend test only for these SQL families")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``family_backend``: once per SQL family (led by its first selected adapter);
    ``member_backend``: once per adapter of the families a ``families`` marker names."""
    wants_family = "family_backend" in metafunc.fixturenames
    if not wants_family and "member_backend" not in metafunc.fixturenames:
        return
    only = metafunc.config.getoption("--adapter")
    marker = metafunc.definition.get_closest_marker("families")
    wanted = set(marker.args) if marker else None
    picked: dict[str, AdapterSpec] = {}
    for spec in ADAPTERS:
        if only and spec.name not in only.split(","):
            continue
        family = family_of(spec.name)
        if wanted is not None and family not in wanted:
            continue
        if wants_family:
            picked.setdefault(family, spec)
        else:
            picked[spec.name] = spec
    metafunc.parametrize("picked_spec", list(picked.values()), ids=list(picked))


async def _picked_backend(spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    async for handle in live_backend(spec, tmp_path):
        handle.config()  # registered, so the server tables are dropped at the end
        yield handle


@pytest.fixture
async def family_backend(picked_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    async for handle in _picked_backend(picked_spec, tmp_path):
        yield handle


@pytest.fixture
async def member_backend(picked_spec: AdapterSpec, tmp_path: Path) -> AsyncIterator[Backend]:
    async for handle in _picked_backend(picked_spec, tmp_path):
        yield handle


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """Worker subprocesses of one test; every one still alive is killed at the end."""
    group = Workers(tmp_path)
    try:
        yield group
    finally:
        group.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
