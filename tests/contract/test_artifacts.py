"""Artifact contract: SQLSpecArtifactService on every adapter, over file://, memory:// and s3:// content storage.

``s3`` is moto's S3 server in a separate process (tests/artifact_storage/moto_s3.py),
reached over HTTP with the endpoint and credentials passed as storage options. It
runs with the metadata adapters in ``S3_ADAPTERS`` (one sync and one async driver
per family is enough to cover the storage path; ``SQLSPEC_ADK_S3_ADAPTERS=all``
runs it on every adapter).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from google.adk.artifacts.artifact_util import get_artifact_uri
from google.adk.artifacts.base_artifact_service import ArtifactVersion
from google.adk.errors.input_validation_error import InputValidationError
from google.adk.platform import time as platform_time
from google.genai import types

from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.errors import ArtifactIntegrityError, ConfigError
from sqlspec_adk.protocol import Fetch, Stmt
from tests.artifact_storage.moto_s3 import require_moto_s3
from tests.backends import AdapterSpec

APP = "app"
USER = "alice"
SESSION = "s1"


S3_ADAPTERS = os.environ.get("SQLSPEC_ADK_S3_ADAPTERS", "sqlite,aiosqlite,asyncpg").split(",")


@pytest.fixture(params=["file", "memory", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, adapter_spec: AdapterSpec
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A private content root per test and its storage options: local files, fsspec memory, or moto's S3."""
    if request.param == "file":
        yield (tmp_path / "blobs").as_uri(), {}
        return
    if request.param == "memory":
        uri, options = f"memory://sqlspec-adk-tests/{uuid.uuid4().hex}", {}
    else:
        if "all" not in S3_ADAPTERS and adapter_spec.name not in S3_ADAPTERS:
            pytest.skip(f"s3 storage runs with the {','.join(S3_ADAPTERS)} metadata adapters")
        moto = require_moto_s3(request.config)
        uri, options = moto.new_prefix_uri(), moto.options
    yield uri, options
    fs, root = fsspec.core.url_to_fs(uri, **options)
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def storage_uri(storage: tuple[str, dict[str, Any]]) -> str:
    return storage[0]


@pytest.fixture
def storage_options(storage: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Endpoint and credentials; the services below get them through the ``artifact_storage_options`` config key."""
    return storage[1]


@pytest.fixture
async def service(backend: Any, storage_uri: str, storage_options: dict[str, Any]) -> SQLSpecArtifactService:
    svc: SQLSpecArtifactService = await backend.artifacts(
        artifact_storage_uri=storage_uri, artifact_storage_options=storage_options
    )
    return svc


def open_blob(svc: SQLSpecArtifactService, uri: str, mode: str) -> Any:
    """Open a version's content directly (with the service's filesystem, so its storage options apply)."""
    return svc.storage.fs.open(svc.storage.path_of(uri), mode)


def blob(data: bytes, mime: str = "application/pdf") -> types.Part:
    return types.Part(inline_data=types.Blob(data=data, mime_type=mime))


def stored_files(svc: SQLSpecArtifactService) -> list[str]:
    """Every content file under the service's storage root."""
    fs = svc.storage.fs
    root = svc.storage.root_path or "/"
    if not fs.exists(root):
        return []
    return [path for path in fs.find(root) if not fs.isdir(path)]


# ------------------------------------------------------------------ versions
async def test_versions_count_from_zero_and_each_loads(service: SQLSpecArtifactService) -> None:
    payloads = [b"first", b"second", b"third"]
    versions = [
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="report.pdf", artifact=blob(data)
        )
        for data in payloads
    ]
    assert versions == [0, 1, 2]
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="report.pdf") == [
        0,
        1,
        2,
    ]
    for version, data in enumerate(payloads):
        part = await service.load_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="report.pdf", version=version
        )
        assert part is not None and part.inline_data is not None
        assert part.inline_data.data == data
        assert part.inline_data.mime_type == "application/pdf"
    latest = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="report.pdf")
    assert latest is not None and latest.inline_data is not None
    assert latest.inline_data.data == b"third"
    assert (
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="report.pdf", version=3)
        is None
    )
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="missing") is None
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="missing") == []


# NUL (which JSONB cannot hold) and an exponent-form float (which JSONB would turn into an int).
METADATA = {"source": "tool", "nested": {"n": [1, 2.5, None, True]}, "nul\x00key": "a\x00b", "big": 1e20}


async def test_artifact_version_metadata(
    service: SQLSpecArtifactService, storage_uri: str, storage_options: dict[str, Any]
) -> None:
    before = platform_time.get_time()
    await service.save_artifact(
        app_name=APP,
        user_id=USER,
        session_id=SESSION,
        filename="chart.png",
        artifact=blob(b"\x89PNG", "image/png"),
        custom_metadata=METADATA,
    )
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="chart.png", artifact=types.Part(text="caption")
    )
    listed = await service.list_artifact_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="chart.png")
    assert [type(v) for v in listed] == [ArtifactVersion, ArtifactVersion]
    assert [v.version for v in listed] == [0, 1]
    assert listed[0].custom_metadata == METADATA
    assert type(listed[0].custom_metadata["big"]) is float
    assert listed[1].custom_metadata == {}
    assert listed[0].mime_type == "image/png"
    assert listed[1].mime_type == "text/plain"
    assert all(v.create_time >= before for v in listed)
    fs, root_path = fsspec.core.url_to_fs(storage_uri, **storage_options)
    root = fs.unstrip_protocol(root_path)
    assert all(v.canonical_uri.startswith(root.rstrip("/") + "/") for v in listed)
    assert listed[0].canonical_uri != listed[1].canonical_uri
    # canonical_uri is a real fsspec URI of the content.
    with fsspec.open(listed[0].canonical_uri, "rb", **storage_options) as handle:
        assert handle.read() == b"\x89PNG"

    latest = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="chart.png")
    assert latest == listed[1]
    first = await service.get_artifact_version(
        app_name=APP, user_id=USER, session_id=SESSION, filename="chart.png", version=0
    )
    assert first == listed[0]
    assert (
        await service.get_artifact_version(
            app_name=APP, user_id=USER, session_id=SESSION, filename="chart.png", version=9
        )
        is None
    )
    assert await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="none") is None
    assert await service.list_artifact_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="none") == []


# ------------------------------------------------------------ content kinds
async def test_text_and_bytes_round_trip_with_mime(service: SQLSpecArtifactService) -> None:
    text = "héllo wörld — 你好 🌍\n\x00end"
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="note.txt", artifact=types.Part(text=text)
    )
    loaded = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="note.txt")
    assert loaded == types.Part(text=text)

    # Bytes that happen to be text/plain stay bytes: the text marker is the kind, not the mime type.
    raw = b"plain bytes"
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="raw.txt", artifact=blob(raw, "text/plain")
    )
    loaded = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="raw.txt")
    assert loaded is not None and loaded.text is None
    assert loaded.inline_data == types.Blob(data=raw, mime_type="text/plain")

    every_byte = bytes(range(256)) * 64
    part = types.Part(inline_data=types.Blob(data=every_byte, mime_type="application/x-bin", display_name="All.bin"))
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="all.bin", artifact=part)
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="all.bin") == part

    empty_text = types.Part(text="")
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="e.txt", artifact=empty_text)
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="e.txt") == empty_text


async def test_dict_artifacts_are_accepted(service: SQLSpecArtifactService) -> None:
    await service.save_artifact(
        app_name=APP,
        user_id=USER,
        session_id=SESSION,
        filename="d.bin",
        artifact={"inlineData": {"data": b"dict", "mimeType": "application/octet-stream"}},
    )
    loaded = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="d.bin")
    assert loaded is not None and loaded.inline_data is not None
    assert loaded.inline_data.data == b"dict"


async def test_file_data_and_artifact_references(service: SQLSpecArtifactService) -> None:
    link = types.Part(file_data=types.FileData(file_uri="gs://bucket/video.mp4", mime_type="video/mp4"))
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="video", artifact=link)
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="video") == link
    meta = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="video")
    assert meta is not None and meta.mime_type == "video/mp4"

    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="target.png", artifact=blob(b"img", "image/png")
    )
    ref_uri = get_artifact_uri(app_name=APP, user_id=USER, session_id=SESSION, filename="target.png", version=0)
    ref = types.Part(file_data=types.FileData(file_uri=ref_uri))
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="alias", artifact=ref)
    # Later versions of the target do not change what the reference pins.
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="target.png", artifact=blob(b"img2", "image/png")
    )
    followed = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="alias")
    assert followed == blob(b"img", "image/png")
    alias_meta = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="alias")
    assert alias_meta is not None and alias_meta.mime_type is None

    # References may not leave the caller's app, user or session.
    for foreign in (
        get_artifact_uri(app_name="other", user_id=USER, session_id=SESSION, filename="target.png", version=0),
        get_artifact_uri(app_name=APP, user_id="bob", session_id=SESSION, filename="target.png", version=0),
        get_artifact_uri(app_name=APP, user_id=USER, session_id="s2", filename="target.png", version=0),
        "artifact://not-a-valid-reference",
    ):
        with pytest.raises(InputValidationError):
            await service.save_artifact(
                app_name=APP,
                user_id=USER,
                session_id=SESSION,
                filename="bad-ref",
                artifact=types.Part(file_data=types.FileData(file_uri=foreign)),
            )
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="bad-ref") == []

    # A reference chain that loops fails cleanly instead of recursing forever.
    loop_uri = get_artifact_uri(app_name=APP, user_id=USER, session_id=SESSION, filename="loop", version=0)
    await service.save_artifact(
        app_name=APP,
        user_id=USER,
        session_id=SESSION,
        filename="loop",
        artifact=types.Part(file_data=types.FileData(file_uri=loop_uri)),
    )
    with pytest.raises(InputValidationError):
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="loop")


async def test_tombstone_loads_as_none_and_empty_part_is_refused(service: SQLSpecArtifactService) -> None:
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f", artifact=blob(b"v0"))
    tombstone = types.Part(inline_data=types.Blob(mime_type="application/octet-stream", data=b""))
    assert (
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f", artifact=tombstone)
        == 1
    )
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f") is None
    old = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f", version=0)
    assert old is not None and old.inline_data is not None and old.inline_data.data == b"v0"
    # Empty bytes of another type are real content.
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="g", artifact=blob(b"", "image/png")
    )
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="g") == blob(
        b"", "image/png"
    )

    for bad in (types.Part(), types.Part(inline_data=types.Blob(mime_type="image/png"))):
        with pytest.raises(InputValidationError):
            await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="h", artifact=bad)
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="h") == []


async def test_custom_metadata_must_be_json(service: SQLSpecArtifactService) -> None:
    for bad in ({"when": {1, 2}}, {"x": float("nan")}, {"b": b"bytes"}):
        with pytest.raises(InputValidationError):
            await service.save_artifact(
                app_name=APP, user_id=USER, session_id=SESSION, filename="m", artifact=blob(b"x"), custom_metadata=bad
            )
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="m") == []
    assert stored_files(service) == []


# ------------------------------------------------------------------- scopes
async def test_user_scope_is_shared_across_sessions(service: SQLSpecArtifactService) -> None:
    assert (
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id="s1", filename="user:profile.png", artifact=blob(b"me", "image/png")
        )
        == 0
    )
    from_other_session = await service.load_artifact(
        app_name=APP, user_id=USER, session_id="s2", filename="user:profile.png"
    )
    assert from_other_session == blob(b"me", "image/png")
    # Without a session, the same name (with or without the prefix) is the same user-scoped artifact.
    no_session = await service.load_artifact(app_name=APP, user_id=USER, filename="user:profile.png")
    assert no_session == from_other_session
    assert await service.load_artifact(app_name=APP, user_id=USER, filename="profile.png") == from_other_session

    # A save without a session is user-scoped and listed under its user: name, which loads verbatim.
    assert (
        await service.save_artifact(app_name=APP, user_id=USER, filename="notes.txt", artifact=types.Part(text="a"))
        == 0
    )
    assert (
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id="s9", filename="user:notes.txt", artifact=types.Part(text="b")
        )
        == 1
    )
    assert await service.list_versions(app_name=APP, user_id=USER, filename="notes.txt") == [0, 1]
    keys = await service.list_artifact_keys(app_name=APP, user_id=USER)
    assert keys == ["user:notes.txt", "user:profile.png"]
    for key in keys:
        assert await service.load_artifact(app_name=APP, user_id=USER, session_id="s3", filename=key) is not None
        assert await service.load_artifact(app_name=APP, user_id=USER, filename=key) is not None

    # A session-scoped name is not visible without its session, nor from another session.
    await service.save_artifact(app_name=APP, user_id=USER, session_id="s1", filename="draft.md", artifact=blob(b"d"))
    assert await service.load_artifact(app_name=APP, user_id=USER, filename="draft.md") is None
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id="s2", filename="draft.md") is None


async def test_list_artifact_keys_merges_session_and_user_names(service: SQLSpecArtifactService) -> None:
    for session_id, name in [("s1", "b.txt"), ("s1", "a.txt"), ("s1", "b.txt"), ("s2", "other.txt")]:
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id=session_id, filename=name, artifact=blob(b"x")
        )
    await service.save_artifact(app_name=APP, user_id=USER, filename="user:z.png", artifact=blob(b"z"))
    await service.save_artifact(app_name=APP, user_id=USER, session_id="s1", filename="user:c.png", artifact=blob(b"c"))
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id="s1") == [
        "a.txt",
        "b.txt",
        "user:c.png",
        "user:z.png",
    ]
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id="s2") == [
        "other.txt",
        "user:c.png",
        "user:z.png",
    ]
    assert await service.list_artifact_keys(app_name=APP, user_id=USER) == ["user:c.png", "user:z.png"]
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id="empty") == [
        "user:c.png",
        "user:z.png",
    ]
    assert await service.list_artifact_keys(app_name=APP, user_id="nobody", session_id="s1") == []


async def test_apps_users_and_sessions_are_isolated(service: SQLSpecArtifactService) -> None:
    scopes = [(APP, USER, "s1"), (APP, USER, "s2"), (APP, "bob", "s1"), ("other", USER, "s1")]
    for app, user, session in scopes:
        version = await service.save_artifact(
            app_name=app,
            user_id=user,
            session_id=session,
            filename="same.bin",
            artifact=blob(f"{app}|{user}|{session}".encode()),
        )
        assert version == 0
        await service.save_artifact(
            app_name=app, user_id=user, filename="user:shared", artifact=blob(f"{app}|{user}".encode())
        )
    for app, user, session in scopes:
        part = await service.load_artifact(app_name=app, user_id=user, session_id=session, filename="same.bin")
        assert part is not None and part.inline_data is not None
        assert part.inline_data.data == f"{app}|{user}|{session}".encode()
        shared = await service.load_artifact(app_name=app, user_id=user, session_id=session, filename="user:shared")
        assert shared is not None and shared.inline_data is not None
        assert shared.inline_data.data == f"{app}|{user}".encode()
    # Two sessions of one user share the user artifact, so it has two versions there.
    assert await service.list_versions(app_name=APP, user_id=USER, filename="user:shared") == [0, 1]
    assert await service.list_versions(app_name="other", user_id=USER, filename="user:shared") == [0]

    await service.delete_artifact(app_name=APP, user_id=USER, session_id="s1", filename="same.bin")
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id="s1", filename="same.bin") is None
    for app, user, session in scopes[1:]:
        assert await service.list_versions(app_name=app, user_id=user, session_id=session, filename="same.bin") == [0]


# ------------------------------------------------------------------- delete
async def test_delete_removes_rows_and_content(service: SQLSpecArtifactService) -> None:
    for data in (b"a", b"b"):
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="gone", artifact=blob(data)
        )
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="kept", artifact=blob(b"k"))
    gone = await service.list_artifact_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="gone")
    assert all(service.storage.exists(v.canonical_uri) for v in gone)

    await service.delete_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="gone")
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="gone") == []
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="gone") is None
    assert not any(service.storage.exists(v.canonical_uri) for v in gone)
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id=SESSION) == ["kept"]
    assert len(stored_files(service)) == 1
    # Deleting again, or something never saved, is a no-op.
    await service.delete_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="gone")
    await service.delete_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="never")
    # A new save after a delete starts over at version 0.
    assert (
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="gone", artifact=blob(b"n")
        )
        == 0
    )

    await service.save_artifact(app_name=APP, user_id=USER, filename="mine", artifact=blob(b"u"))
    await service.delete_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="user:mine")
    assert await service.list_versions(app_name=APP, user_id=USER, filename="mine") == []


# -------------------------------------------------------------- concurrency
async def test_concurrent_saves_get_distinct_versions_and_keep_content(service: SQLSpecArtifactService) -> None:
    payloads = [f"payload-{i}".encode() * (i + 1) for i in range(10)]
    versions = await asyncio.gather(
        *(
            service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="race.bin", artifact=blob(p))
            for p in payloads
        )
    )
    assert sorted(versions) == list(range(10))
    for version, payload in zip(versions, payloads):
        part = await service.load_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="race.bin", version=version
        )
        assert part is not None and part.inline_data is not None
        assert part.inline_data.data == payload
    assert len(stored_files(service)) == 10


async def test_concurrent_saves_from_two_configs(
    backend: Any, storage_uri: str, storage_options: dict[str, Any]
) -> None:
    first = await backend.artifacts(
        backend.config(artifact_storage_options=storage_options), artifact_storage_uri=storage_uri
    )
    second = await backend.artifacts(
        backend.config(artifact_storage_options=storage_options), artifact_storage_uri=storage_uri
    )
    jobs = []
    expected: dict[int, bytes] = {}
    for i in range(12):
        svc = first if i % 2 else second
        payload = f"writer-{i % 2}-save-{i}".encode()
        jobs.append(
            (payload, svc.save_artifact(app_name=APP, user_id=USER, filename="user:log", artifact=blob(payload)))
        )
    versions = await asyncio.gather(*(job for _, job in jobs))
    assert sorted(versions) == list(range(12))
    for (payload, _), version in zip(jobs, versions):
        expected[version] = payload
    for version, payload in expected.items():
        part = await first.load_artifact(app_name=APP, user_id=USER, filename="user:log", version=version)
        assert part is not None and part.inline_data is not None and part.inline_data.data == payload


# --------------------------------------------------------------- validation
BAD_SEGMENTS = [
    {"app_name": "../escape"},
    {"app_name": "/abs"},
    {"user_id": "a\x00b"},
    {"user_id": "x/../../y"},
    {"user_id": ""},
    {"session_id": ".."},
    {"session_id": "\\windows"},
    {"filename": "../../etc/passwd"},
    {"filename": "/etc/passwd"},
    {"filename": "user:../secret"},
    {"filename": "C:evil.txt"},
    {"filename": "nul\x00byte"},
    {"filename": "a/../../b"},
    {"filename": "user:"},
    {"filename": "   "},
]


@pytest.mark.parametrize("bad", BAD_SEGMENTS, ids=[repr(b) for b in BAD_SEGMENTS])
async def test_path_segments_are_validated_before_any_write(
    service: SQLSpecArtifactService, bad: dict[str, str]
) -> None:
    args: dict[str, Any] = {"app_name": APP, "user_id": USER, "session_id": SESSION, "filename": "ok.txt", **bad}
    with pytest.raises(InputValidationError):
        await service.save_artifact(**args, artifact=blob(b"should not land"))
    assert stored_files(service) == []
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id=SESSION) == []
    assert await service.list_artifact_keys(app_name=APP, user_id=USER) == []
    for call in (service.load_artifact, service.list_versions, service.delete_artifact, service.get_artifact_version):
        with pytest.raises(InputValidationError):
            await call(**args)
    if "filename" not in bad:
        scope = {k: v for k, v in args.items() if k != "filename"}
        with pytest.raises(InputValidationError):
            await service.list_artifact_keys(**scope)


async def test_nested_and_unusual_filenames_are_stored_safely(service: SQLSpecArtifactService) -> None:
    names = ["images/photo.png", "dir/sub/file.txt", "emoji 🌍.txt", "100%_done?.txt", "a" * 300, "user:docs/readme.md"]
    for name in names:
        await service.save_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename=name, artifact=blob(name.encode())
        )
    for name in names:
        part = await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename=name)
        assert part is not None and part.inline_data is not None and part.inline_data.data == name.encode()
    assert await service.list_artifact_keys(app_name=APP, user_id=USER, session_id=SESSION) == sorted(names)
    # Every blob stays under the configured root; unusual names become one hashed segment.
    root = service.storage.root_uri + "/"
    for name in names:
        meta = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename=name)
        assert meta is not None and meta.canonical_uri.startswith(root)
        assert "/artifacts/~" in meta.canonical_uri
    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="readme", artifact=blob(b"r"))
    plain = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="readme")
    assert plain is not None
    assert plain.canonical_uri.startswith(f"{root}apps/{APP}/users/{USER}/sessions/{SESSION}/artifacts/readme/")


# ---------------------------------------------------------------- integrity
async def test_corrupted_or_missing_content_raises(service: SQLSpecArtifactService) -> None:
    for data in (b"original-0", b"original-1", b"original-2"):
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="doc", artifact=blob(data))
    versions = await service.list_artifact_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="doc")

    # Same length, different bytes: only the checksum can tell.
    with open_blob(service, versions[0].canonical_uri, "wb") as handle:
        handle.write(b"tampered-0")
    with pytest.raises(ArtifactIntegrityError):
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="doc", version=0)
    # Truncated.
    with open_blob(service, versions[1].canonical_uri, "wb") as handle:
        handle.write(b"orig")
    with pytest.raises(ArtifactIntegrityError):
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="doc", version=1)
    # Missing.
    service.storage.fs.rm_file(service.storage.path_of(versions[2].canonical_uri))
    with pytest.raises(ArtifactIntegrityError):
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="doc")

    # Text content is verified the same way.
    await service.save_artifact(
        app_name=APP, user_id=USER, session_id=SESSION, filename="t", artifact=types.Part(text="hi")
    )
    meta = await service.get_artifact_version(app_name=APP, user_id=USER, session_id=SESSION, filename="t")
    assert meta is not None
    with open_blob(service, meta.canonical_uri, "wb") as handle:
        handle.write(b"ho")
    with pytest.raises(ArtifactIntegrityError):
        await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="t")
    # Metadata is still readable, and the damaged artifact can still be deleted.
    await service.delete_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="doc")
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="doc") == []


# ---------------------------------------------------------------- retention
async def test_retention_deletes_old_versions_and_their_content(service: SQLSpecArtifactService) -> None:
    async def save_at(when: float, app: str, name: str, data: bytes) -> None:
        platform_time.set_time_provider(lambda: when)
        try:
            await service.save_artifact(
                app_name=app, user_id=USER, session_id=SESSION, filename=name, artifact=blob(data)
            )
        finally:
            platform_time.reset_time_provider()

    await save_at(1_000.0, APP, "a", b"old-a0")
    await save_at(1_500.0, APP, "a", b"old-a1")
    await save_at(1_000.0, "other", "a", b"other-old")
    await save_at(5_000.0, APP, "a", b"new-a2")
    await save_at(5_000.0, APP, "b", b"new-b0")
    old = await service.list_artifact_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="a")

    assert await service.delete_artifacts_before(before=2_000.0, app_name=APP) == 2
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="a") == [2]
    assert not service.storage.exists(old[0].canonical_uri)
    assert not service.storage.exists(old[1].canonical_uri)
    assert service.storage.exists(old[2].canonical_uri)
    # The other app was out of scope for that call.
    assert await service.list_versions(app_name="other", user_id=USER, session_id=SESSION, filename="a") == [0]
    # The next save continues after the newest surviving version.
    assert (
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="a", artifact=blob(b"n"))
        == 3
    )

    assert await service.delete_artifacts_before(before=2_000.0) == 1
    assert await service.list_versions(app_name="other", user_id=USER, session_id=SESSION, filename="a") == []
    assert await service.delete_artifacts_before(before=2_000.0) == 0
    assert len(stored_files(service)) == 3


# ------------------------------------------------------- restart and config
async def test_new_config_store_and_service_see_saved_artifacts(
    backend: Any, storage_uri: str, storage_options: dict[str, Any]
) -> None:
    before = await backend.artifacts(
        backend.config(artifact_storage_options=storage_options), artifact_storage_uri=storage_uri
    )
    await before.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="keep.bin", artifact=blob(b"1"))
    await before.save_artifact(app_name=APP, user_id=USER, filename="user:pref", artifact=types.Part(text="dark"))
    await backend.close_config(before.store.config)

    after = await backend.artifacts(
        backend.config(artifact_storage_options=storage_options), artifact_storage_uri=storage_uri
    )
    assert await after.list_artifact_keys(app_name=APP, user_id=USER, session_id=SESSION) == ["keep.bin", "user:pref"]
    assert await after.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="keep.bin") == blob(b"1")
    assert await after.load_artifact(app_name=APP, user_id=USER, filename="user:pref") == types.Part(text="dark")
    assert (
        await after.save_artifact(
            app_name=APP, user_id=USER, session_id=SESSION, filename="keep.bin", artifact=blob(b"2")
        )
        == 1
    )


async def test_storage_location_comes_from_config_or_is_required(backend: Any, tmp_path: Path) -> None:
    from_config = (tmp_path / "configured").as_uri()
    store = await backend.artifact_store(artifact_storage_uri=from_config)
    svc = SQLSpecArtifactService(store)
    await svc.save_artifact(app_name=APP, user_id=USER, filename="x", artifact=blob(b"x"))
    meta = await svc.get_artifact_version(app_name=APP, user_id=USER, filename="x")
    assert meta is not None and meta.canonical_uri.startswith(svc.storage.root_uri + "/")
    assert (tmp_path / "configured").is_dir()

    bare = await backend.artifact_store()
    with pytest.raises(ConfigError, match="artifact_storage_uri"):
        SQLSpecArtifactService(bare)


async def test_disabled_artifacts_refuse_a_store(backend: Any) -> None:
    config = backend.config(enable_artifacts=False)
    store_cls = backend.spec.classes()[3]
    with pytest.raises(ConfigError, match="enable_artifacts"):
        store_cls(config)


# ------------------------------------------------------------ failure paths
async def test_lost_races_are_retried_a_bounded_number_of_times(
    service: SQLSpecArtifactService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlspec_adk.artifact.service as service_module

    await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="hot", artifact=blob(b"v0"))
    # Make every allocation propose version 0, as a writer that always loses the race would.
    dialect = service.store.dialect.artifacts
    monkeypatch.setitem(
        dialect.__dict__,
        "artifact_next_version_sql",
        f"SELECT 0 FROM {dialect.artifact_table} WHERE 1 = 1 OR "
        "app_name = ? OR user_id = ? OR scope = ? OR filename = ?",
    )
    monkeypatch.setattr(service_module, "SAVE_ATTEMPTS", 3)
    with pytest.raises(service_module.ArtifactVersionConflictError):
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="hot", artifact=blob(b"x"))
    # The losing save overwrote nothing and left no blob behind.
    monkeypatch.undo()
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="hot") == [0]
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="hot") == blob(b"v0")
    assert len(stored_files(service)) == 1


async def test_failed_metadata_insert_removes_the_blob(
    service: SQLSpecArtifactService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The metadata write itself is replaced (families compose it differently: one statement on
    # PostgreSQL, a skip-if-present insert elsewhere) by one that fails on every driver.
    def failing_save(key: Any, write: Any) -> Any:
        yield Stmt("INSERT INTO no_such_table (x) VALUES (1)", (), Fetch.ROWCOUNT)

    monkeypatch.setattr(service.store.dialect.artifacts, "save_artifact_version", failing_save)
    with pytest.raises(Exception) as raised:
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f", artifact=blob(b"x"))
    assert "no_such_table" in str(raised.value)
    monkeypatch.undo()
    assert stored_files(service) == []
    assert await service.list_versions(app_name=APP, user_id=USER, session_id=SESSION, filename="f") == []


async def test_a_save_that_committed_despite_an_error_keeps_its_content(
    service: SQLSpecArtifactService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = service.store.save_artifact_version
    calls: list[bool] = []

    def fail_once() -> None:
        if not calls:
            calls.append(True)
            raise ConnectionError("connection lost while the COMMIT reply was in flight")

    async def commit_then_fail_async(*args: Any) -> Any:
        result = await real_save(*args)
        fail_once()
        return result

    def commit_then_fail(*args: Any) -> Any:
        result = real_save(*args)
        fail_once()
        return result

    wrapper = commit_then_fail_async if inspect.iscoroutinefunction(real_save) else commit_then_fail
    monkeypatch.setattr(service.store, "save_artifact_version", wrapper)
    with pytest.raises(ConnectionError):
        await service.save_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f", artifact=blob(b"x"))
    monkeypatch.undo()
    # The row committed, so its content must still be there and load.
    assert await service.load_artifact(app_name=APP, user_id=USER, session_id=SESSION, filename="f") == blob(b"x")
