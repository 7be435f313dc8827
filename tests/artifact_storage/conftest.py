"""Fixtures for the artifact storage tests: a metadata backend and a content target.

``meta`` is a :class:`tests.conftest.Backend` for a few adapters (one SQLite
sync, one SQLite async, one PostgreSQL; the storage code under test does not
depend on the driver), and ``target`` a private content root on the local
filesystem, fsspec's memory filesystem or moto's S3 server (a separate process,
see :mod:`tests.artifact_storage.moto_s3`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import pytest

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.artifact.storage import ArtifactStorage
from tests.artifact_storage.moto_s3 import require_moto_s3
from tests.backends import ADAPTERS, require_server
from tests.conftest import Backend

META_ADAPTERS = [spec for spec in ADAPTERS if spec.name in ("sqlite", "aiosqlite", "asyncpg")]


@dataclass
class Target:
    """A content root and the storage options that reach it."""

    kind: str
    uri: str
    options: dict[str, Any] = field(default_factory=dict)

    def storage(self) -> ArtifactStorage:
        return ArtifactStorage(self.uri, self.options)


async def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if kind == "file":
        return Target(kind, (tmp_path / "blobs").as_uri())
    if kind == "memory":
        return Target(kind, f"memory://sqlspec-adk-storage-tests/{uuid.uuid4().hex}")
    moto = require_moto_s3(request.config)
    return Target(kind, moto.new_prefix_uri(), moto.options)


def remove_target(target: Target) -> None:
    if target.kind == "file":
        return
    fs, root = fsspec.core.url_to_fs(target.uri, **target.options)
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(params=["file", "memory", "s3"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    made = await make_target(request.param, request, tmp_path)
    yield made
    remove_target(made)


@pytest.fixture(params=["file", "s3"])
async def shared_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    """A content root another process can reach too (no memory://)."""
    made = await make_target(request.param, request, tmp_path)
    yield made
    remove_target(made)


@pytest.fixture(params=META_ADAPTERS, ids=[spec.name for spec in META_ADAPTERS])
async def meta(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    require_server(request.param)
    handle = Backend(request.param, tmp_path)
    try:
        yield handle
    finally:
        await handle.close()


@pytest.fixture
async def sqlite_meta(tmp_path: Path) -> AsyncIterator[Backend]:
    """Just the aiosqlite backend, for checks whose subject is not the metadata store."""
    spec = next(spec for spec in ADAPTERS if spec.name == "aiosqlite")
    handle = Backend(spec, tmp_path)
    try:
        yield handle
    finally:
        await handle.close()


async def make_service(backend: Backend, target: Target, config: Any = None) -> SQLSpecArtifactService:
    """A service whose storage options come through the constructor (the config key is the contract suite's path)."""
    store = await backend.artifact_store(config)
    return SQLSpecArtifactService(store, artifact_storage_uri=target.uri, storage_options=target.options)
