"""Storage options reach the filesystem (endpoint, credentials) and never show up in a repr, a message or a log.

Checked against moto's S3 server over HTTP with recognizable fake credentials,
with every logger at DEBUG. botocore's own DEBUG output names the access key
id in the signed request (the secret never appears): that is botocore's, not
ours, so the id is checked in this package's records only.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from google.genai import types

from sqlspec_adk.artifact.gc import collect_artifact_garbage
from sqlspec_adk.artifact.storage import ArtifactStorage, redact_uri
from sqlspec_adk.errors import ArtifactIntegrityError
from sqlspec_adk.records import ArtifactKey
from tests.artifact_storage.conftest import Target, make_service
from tests.artifact_storage.moto_s3 import ACCESS_KEY, SECRET_KEY, require_moto_s3
from tests.conftest import Backend


def rendered(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    formatter = logging.Formatter("%(name)s %(message)s")
    return [(record.name, formatter.format(record)) for record in records]


async def test_credentials_stay_out_of_reprs_messages_and_logs(
    sqlite_meta: Backend, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    moto = require_moto_s3(request.config)
    target = Target("s3", moto.new_prefix_uri(), moto.options)
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []

    service = await make_service(sqlite_meta, target)
    shown += [repr(service), str(service), repr(service.storage), str(service.storage)]
    part = types.Part(inline_data=types.Blob(data=b"secret-free content", mime_type="text/plain"))
    await service.save_artifact(app_name="app", user_id="u", filename="f", artifact=part)
    assert await service.load_artifact(app_name="app", user_id="u", filename="f") == part
    meta = await service.get_artifact_version(app_name="app", user_id="u", filename="f")
    assert meta is not None
    shown.append(repr(meta))

    # Failure paths: damaged content, an unreachable bucket, garbage collection.
    with service.storage.fs.open(service.storage.path_of(meta.canonical_uri), "wb") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactIntegrityError) as damaged:
        await service.load_artifact(app_name="app", user_id="u", filename="f")
    shown.append(str(damaged.value))
    broken = await make_service(sqlite_meta, Target("s3", "s3://no-such-bucket-sqlspec-adk/x", moto.options))
    with pytest.raises(Exception) as failed:  # whatever s3fs raises must not carry the secret
        await broken.save_artifact(app_name="app", user_id="u", filename="g", artifact=part)
    shown.append(repr(failed.value))
    assert isinstance(failed.value, FileNotFoundError)  # s3fs: "The specified bucket does not exist"
    assert not broken.storage.fs.exists("no-such-bucket-sqlspec-adk")  # and nothing created it
    orphan = service.storage.new_location(
        ArtifactKey.resolve(app_name="app", user_id="u", filename="o", session_id=None)
    )
    shown.append(repr(orphan))
    service.storage.write(orphan, b"orphan")
    report = await collect_artifact_garbage(
        service.store.config, service.storage, delete_orphans=True, now=time.time() + 7200
    )
    assert report.deleted_blobs == 1
    shown += [report.format(), repr(report.to_dict())]
    await service.delete_artifact(app_name="app", user_id="u", filename="f")

    records = rendered(caplog.records)
    assert records, "expected DEBUG records from the S3 stack"
    for text in shown:
        assert SECRET_KEY not in text and ACCESS_KEY not in text, text
    for name, text in records:
        assert SECRET_KEY not in text, (name, text[:500])
        if name.startswith("sqlspec_adk"):
            assert ACCESS_KEY not in text, (name, text[:500])


def test_userinfo_in_uris_is_redacted() -> None:
    assert redact_uri("sftp://user:pw@host:22/root") == "sftp://***@host:22/root"
    assert redact_uri("s3://bucket/prefix") == "s3://bucket/prefix"
    storage = ArtifactStorage("memory://redact-test/x")
    assert repr(storage) == "ArtifactStorage('memory:///redact-test/x')"


def test_s3_endpoint_options_pass_through(request: pytest.FixtureRequest) -> None:
    """An S3-compatible endpoint (MinIO, moto, ...) is just ``endpoint_url`` (or ``client_kwargs``) in the options."""
    moto = require_moto_s3(request.config)
    options: dict[str, Any] = {
        "key": ACCESS_KEY,
        "secret": SECRET_KEY,
        "client_kwargs": {"endpoint_url": moto.endpoint, "region_name": "us-east-1"},
    }
    storage = ArtifactStorage(moto.new_prefix_uri(), options)
    location = storage.new_location(ArtifactKey.resolve(app_name="a", user_id="u", filename="f", session_id=None))
    digest = storage.write(location, b"via client_kwargs")
    assert storage.read_verified(location.uri, size=digest.size, checksum=digest.checksum) == b"via client_kwargs"
    storage.delete(location.uri)
    assert not storage.exists(location.uri)


def test_gcs_storage_is_built_from_options() -> None:
    """gs:// goes through gcsfs with its own options (no GCS server here, so no I/O)."""
    pytest.importorskip("gcsfs", reason="gs: gcsfs is not installed (the 'gcs' extra)")
    storage = ArtifactStorage("gs://bucket/adk", {"token": "anon", "project": "p"})
    assert storage.root_uri == "gs://bucket/adk"
    location = storage.new_location(ArtifactKey.resolve(app_name="a", user_id="u", filename="f", session_id="s"))
    assert location.uri.startswith("gs://bucket/adk/apps/a/users/u/sessions/s/artifacts/f/")
    assert location.path.startswith("bucket/adk/apps/")
    assert "anon" not in repr(storage)
