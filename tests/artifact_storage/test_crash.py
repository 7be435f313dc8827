"""Crash safety: a save killed (-9) before its metadata commits leaves no visible version.

A child process (tests/artifact_storage/crash_child.py) runs a real save and
hangs at a kill point: mid-write, after the write (before any SQL), or after the
INSERT but before the operation returns. This test kills it with SIGKILL, then
checks from a fresh service that nothing is visible, that the key still saves
from version 0, and that ``artifacts gc`` sees the leftover blob (kept while it
is younger than the grace period, deleted after).

``in_transaction`` depends on the dialect: SQLite allocates and inserts in a
transaction, which the kill rolls back; PostgreSQL saves with one autocommit
``INSERT ... SELECT ... RETURNING``, so the statement itself is the commit and
the version must then be visible *and complete*. Never is a version visible
without its full content.

How to see this fail: in ``SQLSpecArtifactService._save_content`` insert the
row before writing the blob (``version = await self._insert(...)`` first, then
``storage.write``): the ``during_write`` kill then leaves a visible version
whose content is missing, and the first assertion fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sqlspec_adk.artifact.gc import collect_artifact_garbage
from tests.artifact_storage.conftest import Target, make_service, make_target, remove_target
from tests.artifact_storage.crash_child import PAYLOAD
from tests.backends import ADAPTERS, require_server
from tests.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
#: (adapter, storage, kill point, whether the version is committed at that point)
CASES = [
    ("sqlite", "file", "during_write", False),
    ("sqlite", "file", "in_transaction", False),
    ("aiosqlite", "s3", "during_write", False),
    ("aiosqlite", "s3", "after_write", False),
    ("asyncpg", "s3", "after_write", False),
    ("asyncpg", "file", "during_write", False),
    ("asyncpg", "file", "in_transaction", True),
]


@pytest.fixture
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Backend, Target, str, bool]]:
    adapter, kind, point, committed = request.param
    spec = next((spec for spec in ADAPTERS if spec.name == adapter), None)
    if spec is None:
        pytest.skip(f"{adapter}: adapter not in this checkout")
    require_server(spec)
    backend = Backend(spec, tmp_path)
    target = await make_target(kind, request, tmp_path)
    try:
        yield backend, target, point, committed
    finally:
        remove_target(target)
        await backend.close()


def run_until_hung(backend: Backend, target: Target, point: str, tmp_path: Path) -> None:
    marker = tmp_path / f"hung-{point}"
    job = {
        "adapter": backend.name,
        "tmp_path": str(tmp_path),
        "tables": backend.tables,
        "uri": target.uri,
        "options": target.options,
        "point": point,
        "marker": str(marker),
    }
    env = dict(os.environ, SQLSPEC_ADK_CRASH=json.dumps(job))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.artifact_storage.crash_child"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                _, err = child.communicate()
                pytest.fail(f"child exited with {child.returncode} before hanging: {err.decode()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail("child did not reach the kill point within 60s")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("case", CASES, ids=["-".join(c[:3]) for c in CASES], indirect=True)
async def test_killed_save_leaves_no_visible_version(case: tuple[Backend, Target, str, bool], tmp_path: Path) -> None:
    backend, target, point, committed = case
    service = await make_service(backend, target)  # creates the tables before the child runs
    run_until_hung(backend, target, point, tmp_path)

    args = {"app_name": "app", "user_id": "u", "session_id": "s", "filename": "doomed.bin"}
    fresh = await make_service(backend, target, backend.config())
    config, storage = fresh.store.config, fresh.storage
    leftovers = await collect_artifact_garbage(config, storage, delete_orphans=True)
    assert leftovers.orphans == [] and leftovers.deleted_blobs == 0 and leftovers.missing == []
    if committed:
        # The commit happened before the kill: the version is there, whole.
        assert await fresh.list_versions(**args) == [0]
        loaded = await fresh.load_artifact(**args)
        assert loaded is not None and loaded.inline_data is not None and loaded.inline_data.data == PAYLOAD
        assert leftovers.fresh == []
        return
    assert await fresh.list_versions(**args) == []
    assert await fresh.load_artifact(**args) is None
    assert await fresh.get_artifact_version(**args) is None
    assert await fresh.list_artifact_keys(app_name="app", user_id="u", session_id="s") == []

    # What the dead save left in storage is an orphan: kept while young, collected after the grace period.
    if point != "during_write" or target.kind == "file":
        assert len(leftovers.fresh) == 1  # the whole blob, or the first chunk of a local file
    else:
        assert leftovers.fresh == []  # an S3 multipart upload that never completed is no object
    late = await collect_artifact_garbage(config, storage, grace_seconds=0, delete_orphans=True)
    assert [blob.uri for blob in late.orphans] == [blob.uri for blob in leftovers.fresh]
    assert late.deleted_blobs == len(late.orphans) and late.missing == []
    assert not (await collect_artifact_garbage(config, storage, grace_seconds=0)).needs_attention

    # The key is usable: the next save is version 0 and loads.
    from google.genai import types

    part = types.Part(inline_data=types.Blob(data=b"after the crash", mime_type="text/plain"))
    assert await service.save_artifact(**args, artifact=part) == 0
    assert await fresh.load_artifact(**args) == part
