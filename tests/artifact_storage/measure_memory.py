"""Peak memory of one artifact save and load, measured in a fresh process.

Run as ``python -m tests.artifact_storage.measure_memory MIB STORAGE_URI DB_PATH``
with storage options as JSON in ``SQLSPEC_ADK_STORAGE_OPTIONS``. Prints one JSON
object: per phase (``save``, ``load``), the tracemalloc peak above what was
allocated when the phase began, and the process's peak RSS growth over the
phase (Linux: ``VmHWM`` after resetting it through ``/proc/self/clear_refs``).
Sizes are bytes. The artifact's own bytes exist before ``save`` starts, so a
save that makes no copy shows a peak far below the artifact size, and a load
that holds one copy shows a peak of about the artifact size.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tracemalloc
from typing import Any

from google.genai import types

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKArtifactStore, AiosqliteConfig
from sqlspec_adk.artifact.service import SQLSpecArtifactService


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


class Phase:
    """tracemalloc and RSS peaks of the code inside ``with``, above where they stood on entry."""

    def __enter__(self) -> Phase:
        gc.collect()
        self.traced_start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        self.rss_reset = _reset_peak_rss()
        self.rss_start = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.traced_peak = tracemalloc.get_traced_memory()[1] - self.traced_start
        hwm = _status_kib("VmHWM")
        self.rss_peak = (hwm - self.rss_start) * 1024 if self.rss_reset and hwm and self.rss_start else None

    def result(self) -> dict[str, Any]:
        return {"traced_peak": self.traced_peak, "rss_peak": self.rss_peak}


async def measure(size: int, storage_uri: str, db_path: str, options: dict[str, Any]) -> dict[str, Any]:
    config = AiosqliteConfig(connection_config={"database": db_path})
    store = AiosqliteADKArtifactStore(config)
    await store.create_tables()
    service = SQLSpecArtifactService(store, artifact_storage_uri=storage_uri, storage_options=options)
    # Warm up imports, the connection and the filesystem, so the phases measure the artifact only.
    await service.save_artifact(app_name="m", user_id="u", filename="warm", artifact=types.Part(text="w"))
    await service.load_artifact(app_name="m", user_id="u", filename="warm")

    data = os.urandom(size)
    part = types.Part(inline_data=types.Blob(data=data, mime_type="application/octet-stream"))
    tracemalloc.start()
    with Phase() as save:
        await service.save_artifact(app_name="m", user_id="u", filename="big.bin", artifact=part)
    del part, data
    with Phase() as load:
        loaded = await service.load_artifact(app_name="m", user_id="u", filename="big.bin")
    assert loaded is not None and loaded.inline_data is not None and len(loaded.inline_data.data or b"") == size
    tracemalloc.stop()
    await config.close_pool()
    return {"size": size, "storage": storage_uri.split("://", 1)[0], "save": save.result(), "load": load.result()}


def main() -> None:
    mib, storage_uri, db_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    options = json.loads(os.environ.get("SQLSPEC_ADK_STORAGE_OPTIONS", "{}"))
    print(json.dumps(asyncio.run(measure(mib << 20, storage_uri, db_path, options))))


if __name__ == "__main__":
    main()
