"""Local blobs are on disk before the version row that points at them commits.

A killed process cannot lose written bytes (the page cache survives it), but a
power loss can: the blob and every directory entry leading to it are fsynced.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sqlspec_adk.artifact.storage import ArtifactStorage
from sqlspec_adk.records import ArtifactKey


def test_local_blob_and_new_directories_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def record(descriptor: int) -> None:
        synced.append(os.path.realpath(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", record)
    storage = ArtifactStorage(f"file://{tmp_path}/root")
    key = ArtifactKey.resolve(app_name="app", user_id="u", filename="notes.txt", session_id="s")
    location = storage.new_location(key)
    digest = storage.write(location, b"hello")
    assert digest.size == 5
    blob = Path(location.path)
    assert blob.read_bytes() == b"hello"
    assert str(blob) in synced, "the blob itself was not fsynced"
    # Every directory that gained an entry: the blob's parent and each parent of a created directory.
    directory = blob.parent
    while directory != tmp_path:
        assert str(directory) in synced or str(directory.parent) in synced, directory
        directory = directory.parent
    assert str(tmp_path) in synced, "the entry of the new root directory was not synced"

    # A second blob in an existing directory syncs the blob and its parent only.
    synced.clear()
    storage.write(storage.new_location(key), b"again")
    assert len(synced) == 2 and str(blob.parent) in synced


def test_object_stores_are_not_fsynced(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", calls.append)
    storage = ArtifactStorage("memory://durability-test")
    key = ArtifactKey.resolve(app_name="app", user_id="u", filename="user:f.bin", session_id=None)
    storage.write(storage.new_location(key), b"x" * 10)
    assert calls == []
