"""A process that starts an artifact save and stops dead at a chosen point, waiting to be killed.

Driven by tests/artifact_storage/test_crash.py through ``SQLSPEC_ADK_CRASH`` (JSON:
adapter, tmp_path, tables, storage uri and options, kill point, marker file).
The service code runs unchanged; the test wraps what is around it:

- ``during_write``: the filesystem's file object, which writes the first chunk
  (flushed, so a local file really holds it) and then hangs;
- ``after_write``: the save operation, which hangs before its first statement
  (the blob is complete, no row exists);
- ``in_transaction``: the save operation, which runs the real INSERT and hangs
  before returning, so a transaction around it cannot commit.

Either way the marker file is created right before hanging, so the parent
knows when to ``kill -9``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.artifact.storage import CHUNK_SIZE
from tests.backends import ADAPTERS

#: Content of the save that gets killed: several chunks, so "mid-write" is a real state.
PAYLOAD = bytes(range(256)) * (3 * CHUNK_SIZE // 256)


def hang(marker: str) -> None:
    Path(marker).touch()
    while True:  # until SIGKILL
        time.sleep(60)


class HangingFile:
    """Wraps a file being written: the first write goes through, the second hangs."""

    def __init__(self, inner: Any, marker: str) -> None:
        self.inner = inner
        self.marker = marker
        self.writes = 0

    def write(self, data: Any) -> int:
        if self.writes == 1:
            self.inner.flush()
            hang(self.marker)
        self.writes += 1
        return int(self.inner.write(data))

    def __enter__(self) -> HangingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


class HangingFS:
    """Delegates to the real filesystem; files opened for writing hang after their first chunk."""

    def __init__(self, inner: Any, marker: str) -> None:
        self.inner = inner
        self.marker = marker

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        handle = self.inner.open(path, mode, **kwargs)
        return HangingFile(handle, self.marker) if "w" in mode else handle

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main() -> None:
    job = json.loads(os.environ["SQLSPEC_ADK_CRASH"])
    spec = next(spec for spec in ADAPTERS if spec.name == job["adapter"])
    config_cls, _, _, store_cls = spec.classes()
    config = config_cls(
        connection_config=spec.connection(Path(job["tmp_path"])),
        pool_config=dict(spec.pool_config),
        extension_config={"adk": job["tables"]},
    )
    store = store_cls(config)
    service = SQLSpecArtifactService(store, artifact_storage_uri=job["uri"], storage_options=job["options"])
    marker = job["marker"]
    real_op = store.sql.save_artifact_version

    def hang_before(key: Any, write: Any) -> Any:
        hang(marker)
        return (yield from real_op(key, write))

    def hang_after(key: Any, write: Any) -> Any:
        result = yield from real_op(key, write)  # the INSERT has run; a transaction around it is still open
        hang(marker)
        return result

    point = job["point"]
    if point == "during_write":
        service.storage.fs = HangingFS(service.storage.fs, marker)
    else:
        store.sql.save_artifact_version = hang_before if point == "after_write" else hang_after  # type: ignore[method-assign]
    part = types.Part(inline_data=types.Blob(data=PAYLOAD, mime_type="application/octet-stream"))
    asyncio.run(
        service.save_artifact(app_name="app", user_id="u", session_id="s", filename="doomed.bin", artifact=part)
    )
    raise SystemExit("the save finished: the hang hook never ran")


if __name__ == "__main__":
    main()
