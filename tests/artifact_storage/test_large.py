"""Large artifacts: saves stream without copying the content, loads hold one copy.

The CI check measures tracemalloc peaks in this process for two sizes on each
storage and compares them, so constant overheads (S3's part buffer, one read
chunk) cancel out: going from the small to the large artifact, a save's peak
must barely move (it would grow by the size difference for each copy made),
and a load's must grow by about the difference (one copy, never two).

The 200 MiB measurement runs only with ``SQLSPEC_ADK_BIG_ARTIFACTS=1``
(marked ``slow``), in fresh processes that also report peak RSS; its figures are
in docs/artifacts.md.

How to see these fail: make ``ArtifactStorage.write`` call
``fs.pipe_file(path, bytes(view))`` (a second copy on save), or make
``read_verified`` return ``bytes(buffer.getbuffer())`` / read with ``cat_file``
(a second copy on load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.artifact.storage import CHUNK_SIZE, UPLOAD_BLOCK_SIZE
from tests.artifact_storage.conftest import make_service, make_target, remove_target
from tests.artifact_storage.measure_memory import Phase
from tests.artifact_storage.moto_s3 import require_moto_s3
from tests.conftest import Backend

MIB = 1 << 20
SMALL, LARGE = 20 * MIB, 44 * MIB  # both past two S3 parts, so the part buffer is at its ceiling in each
STEP = LARGE - SMALL


async def peaks(service: SQLSpecArtifactService, size: int) -> tuple[int, int]:
    import tracemalloc

    data = os.urandom(size)
    part = types.Part(inline_data=types.Blob(data=data, mime_type="application/octet-stream"))
    name = f"big-{size}.bin"
    tracemalloc.start()
    try:
        with Phase() as save:
            await service.save_artifact(app_name="app", user_id="u", filename=name, artifact=part)
        del part, data
        with Phase() as load:
            loaded = await service.load_artifact(app_name="app", user_id="u", filename=name)
        assert loaded is not None and loaded.inline_data is not None
        assert len(loaded.inline_data.data or b"") == size
    finally:
        tracemalloc.stop()
    return save.traced_peak, load.traced_peak


@pytest.mark.parametrize("kind", ["file", "s3"])
async def test_memory_stays_bounded(sqlite_meta: Backend, kind: str, request: pytest.FixtureRequest) -> None:
    target = await make_target(kind, request, sqlite_meta.tmp_path)
    try:
        service = await make_service(sqlite_meta, target)
        # Warm up imports, pools and clients so the measurements see the artifacts only.
        await service.save_artifact(app_name="app", user_id="u", filename="warm", artifact=types.Part(text="w"))
        await service.load_artifact(app_name="app", user_id="u", filename="warm")
        save_small, load_small = await peaks(service, SMALL)
        save_large, load_large = await peaks(service, LARGE)
    finally:
        remove_target(target)
    overhead = 3 * UPLOAD_BLOCK_SIZE + 3 * CHUNK_SIZE
    figures = (
        f"save {save_small / MIB:.1f}->{save_large / MIB:.1f} MiB, load {load_small / MIB:.1f}->{load_large / MIB:.1f}"
    )
    print(f"\n{kind}: {figures}")
    # Saving: no copy of the content, only bounded buffers.
    assert save_large - save_small < STEP // 4, figures
    assert save_large < overhead, figures
    # Loading: exactly one copy (the returned bytes) plus bounded buffers.
    assert 0.9 * STEP < load_large - load_small < 1.25 * STEP, figures
    assert load_large < LARGE + overhead, figures


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SQLSPEC_ADK_BIG_ARTIFACTS") != "1", reason="200 MiB artifact: set SQLSPEC_ADK_BIG_ARTIFACTS=1"
)
@pytest.mark.parametrize("kind", ["file", "s3"])
def test_200_mib_artifact_peak_memory(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Save and load 200 MiB in a fresh process; prints tracemalloc and RSS peaks per phase."""
    size_mib = 200
    env = dict(os.environ)
    if kind == "s3":
        moto = require_moto_s3(request.config)
        uri = moto.new_prefix_uri()
        env["SQLSPEC_ADK_STORAGE_OPTIONS"] = json.dumps(moto.options)
    else:
        uri = (tmp_path / "blobs").as_uri()
    completed = subprocess.run(
        [sys.executable, "-m", "tests.artifact_storage.measure_memory", str(size_mib), uri, str(tmp_path / "m.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout)
    print(f"\n200 MiB on {kind}: {json.dumps(result)}")
    size = size_mib * MIB
    overhead = 3 * UPLOAD_BLOCK_SIZE + 3 * CHUNK_SIZE
    assert result["save"]["traced_peak"] < overhead
    assert result["load"]["traced_peak"] < size + overhead
    if result["load"]["rss_peak"] is not None:
        assert result["save"]["rss_peak"] < 2 * overhead
        assert result["load"]["rss_peak"] < size + 2 * overhead
