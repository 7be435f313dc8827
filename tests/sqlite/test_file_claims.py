"""The process-wide claims on SQLite files (:mod:`sqlspec_adk.adapters._sqlite_files`)."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from sqlspec_adk.adapters import _sqlite_files
from sqlspec_adk.adapters._sqlite_files import claim_sqlite_file
from sqlspec_adk.errors import ConfigError


class Holder:
    """A config stand-in kept alive only by a reference cycle, so only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_holder_collected_while_the_lock_is_held_never_deadlocks(tmp_path: Path) -> None:
    """The collector may finalize a dead holder on the thread that holds the claims' lock (any allocation
    inside a claim can start a collection); its release is queued, then applied by the next claim."""
    path = str(tmp_path / "claimed.db")
    holder = Holder()
    claim_sqlite_file(path, "one library", holder)
    del holder  # only the cycle keeps it now

    collected = threading.Event()

    def collect_holding_the_lock() -> None:
        with _sqlite_files._LOCK:
            gc.collect()  # runs the holder's finalizer on this thread, inside the lock
        collected.set()

    worker = threading.Thread(target=collect_holding_the_lock, daemon=True)
    worker.start()
    worker.join(10)
    assert collected.is_set(), "the finalizer blocked on the lock its own thread holds"
    # The queued release is applied: another library may now claim the file.
    other = Holder()
    claim_sqlite_file(path, "another library", other)
    with pytest.raises(ConfigError, match="already open in this process through another library"):
        claim_sqlite_file(path, "one library", Holder())
    _sqlite_files.release_sqlite_file(path, "another library", other)
