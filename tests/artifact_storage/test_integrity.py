"""Integrity of stored content on every storage (file, memory, moto S3): a load never returns a wrong artifact.

How to see these fail: in ``ArtifactStorage.read_verified`` drop the sha256
comparison (same-length tampering then loads as the artifact), or drop the
``handle.read(1)`` check (appended bytes then go unnoticed: the first ``size``
bytes still hash right), or let ``FileNotFoundError`` escape (a missing blob is
then not an ``ArtifactIntegrityError``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from google.genai import types

from sqlspec_adk.artifact.storage import CHUNK_SIZE, ArtifactStorage, BlobLocation
from sqlspec_adk.errors import ArtifactIntegrityError
from sqlspec_adk.records import ArtifactKey
from tests.artifact_storage.conftest import Target, make_service
from tests.conftest import Backend

KEY = ArtifactKey.resolve(app_name="app", user_id="u", filename="f.bin", session_id="s")


def put(storage: ArtifactStorage, data: bytes) -> tuple[BlobLocation, int, str]:
    location = storage.new_location(KEY)
    digest = storage.write(location, data)
    assert (digest.size, digest.checksum) == (len(data), hashlib.sha256(data).hexdigest())
    return location, digest.size, digest.checksum


def overwrite(storage: ArtifactStorage, location: BlobLocation, data: bytes) -> None:
    with storage.fs.open(location.path, "wb") as handle:
        handle.write(data)


# A payload larger than one chunk, so the chunked paths are exercised.
PAYLOAD = bytes(range(256)) * (CHUNK_SIZE // 256) + b"tail-bytes"


def test_round_trip_across_chunks(target: Target) -> None:
    storage = target.storage()
    for data in (b"", b"x", PAYLOAD):
        location, size, checksum = put(storage, data)
        assert storage.read_verified(location.uri, size=size, checksum=checksum) == data


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"X" + data[1:], id="same-length"),
        pytest.param(lambda data: data[:-1], id="truncated-by-one"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated-half"),
        pytest.param(lambda data: data + b"!", id="appended"),
        pytest.param(lambda data: b"", id="emptied"),
    ],
)
def test_damaged_content_is_an_integrity_error(target: Target, damage: Any) -> None:
    storage = target.storage()
    location, size, checksum = put(storage, PAYLOAD)
    overwrite(storage, location, damage(PAYLOAD))
    with pytest.raises(ArtifactIntegrityError, match="artifact content at"):
        storage.read_verified(location.uri, size=size, checksum=checksum)


def test_missing_content_is_an_integrity_error(target: Target) -> None:
    storage = target.storage()
    location, size, checksum = put(storage, b"here today")
    storage.fs.rm_file(location.path)
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        storage.read_verified(location.uri, size=size, checksum=checksum)


def test_content_outside_the_root_is_refused(target: Target) -> None:
    storage = target.storage()
    location, size, checksum = put(storage, b"x")
    for uri in (location.uri.replace("/apps/", "/../apps/"), "file:///etc/passwd", storage.root_uri + "-other/x"):
        with pytest.raises(ArtifactIntegrityError, match="not under the configured storage"):
            storage.read_verified(uri, size=size, checksum=checksum)


async def test_service_reports_damage_on_load(meta: Backend, target: Target) -> None:
    """The same through the ADK API, per metadata adapter: damage raises, metadata stays usable."""
    service = await make_service(meta, target)
    await service.save_artifact(
        app_name="app",
        user_id="u",
        session_id="s",
        filename="doc",
        artifact=types.Part(inline_data=types.Blob(data=PAYLOAD, mime_type="application/octet-stream")),
    )
    meta_row = await service.get_artifact_version(app_name="app", user_id="u", session_id="s", filename="doc")
    assert meta_row is not None
    storage = service.storage
    overwrite(storage, BlobLocation(storage.path_of(meta_row.canonical_uri), meta_row.canonical_uri), PAYLOAD + b"!")
    with pytest.raises(ArtifactIntegrityError):
        await service.load_artifact(app_name="app", user_id="u", session_id="s", filename="doc")
    storage.fs.rm_file(storage.path_of(meta_row.canonical_uri))
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        await service.load_artifact(app_name="app", user_id="u", session_id="s", filename="doc")
    assert await service.list_versions(app_name="app", user_id="u", session_id="s", filename="doc") == [0]
