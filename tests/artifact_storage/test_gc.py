"""``artifacts gc``: orphan blobs and rows whose content is missing, found and (only when asked) removed.

How to see these fail: in ``collect_artifact_garbage`` treat every unreferenced
blob as old (drop the ``grace_seconds`` comparison: the grace test fails), skip
the ``referenced`` check (live content gets deleted: the delete test fails),
or drop the ``_still_missing`` re-check (a save that lands between the listing
and the row read is reported missing: the race test fails).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from google.genai import types

from sqlspec_adk.artifact import gc as gc_module
from sqlspec_adk.artifact.gc import collect_artifact_garbage, main, register
from sqlspec_adk.artifact.service import SQLSpecArtifactService
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.records import ArtifactKey
from tests.artifact_storage.conftest import Target, make_service
from tests.conftest import Backend

LATER = 7200.0  # seconds added to "now" so that every blob is past the default grace period


def blob(data: bytes) -> types.Part:
    return types.Part(inline_data=types.Blob(data=data, mime_type="application/octet-stream"))


async def populate(service: SQLSpecArtifactService) -> dict[str, Any]:
    """Live versions, one orphan blob, one row whose blob is gone, and a non-blob file; returns what is where."""
    for data in (b"a0", b"a1"):
        await service.save_artifact(app_name="app", user_id="u", session_id="s", filename="a", artifact=blob(data))
    await service.save_artifact(app_name="app", user_id="u", filename="user:b", artifact=blob(b"b0"))
    await service.save_artifact(
        app_name="app", user_id="u", session_id="s", filename="t", artifact=types.Part(text="hi")
    )
    broken = await service.get_artifact_version(app_name="app", user_id="u", filename="user:b")
    assert broken is not None
    service.storage.fs.rm_file(service.storage.path_of(broken.canonical_uri))
    orphan = service.storage.new_location(
        ArtifactKey.resolve(app_name="app", user_id="u", filename="x", session_id="s")
    )
    service.storage.write(orphan, b"nobody points here")
    # Not a blob (name is no uuid): never considered, whatever its age.
    service.storage.fs.pipe_file(f"{service.storage.blobs_root}/app/README", b"operator notes")
    return {"orphan": orphan.uri, "broken": broken.canonical_uri}


async def live_content_loads(service: SQLSpecArtifactService) -> None:
    for version, data in enumerate((b"a0", b"a1")):
        part = await service.load_artifact(app_name="app", user_id="u", session_id="s", filename="a", version=version)
        assert part == blob(data)
    assert await service.load_artifact(app_name="app", user_id="u", session_id="s", filename="t") == types.Part(
        text="hi"
    )


async def test_dry_run_reports_and_deletes_nothing(meta: Backend, target: Target) -> None:
    service = await make_service(meta, target)
    where = await populate(service)
    report = await collect_artifact_garbage(service.store.config, service.storage, now=time.time() + LATER)
    assert report.dry_run
    assert [o.uri for o in report.orphans] == [where["orphan"]]
    assert report.orphans[0].size == len(b"nobody points here")
    assert [(m.filename, m.version, m.canonical_uri) for m in report.missing] == [("user:b", 0, where["broken"])]
    assert report.fresh == [] and report.foreign_rows == 0
    assert (report.blobs_seen, report.rows_seen) == (4, 4)
    assert report.deleted_blobs == report.deleted_rows == 0 and report.needs_attention
    assert service.storage.exists(where["orphan"])
    assert await service.list_versions(app_name="app", user_id="u", filename="user:b") == [0]
    text = report.format()
    assert where["orphan"] in text and "dry run" in text and "user:b" in text


async def test_delete_removes_only_orphans_then_missing_rows(sqlite_meta: Backend, target: Target) -> None:
    service = await make_service(sqlite_meta, target)
    where = await populate(service)
    config, storage = service.store.config, service.storage
    first = await collect_artifact_garbage(config, storage, delete_orphans=True, now=time.time() + LATER)
    assert first.deleted_blobs == 1 and not first.dry_run
    assert not storage.exists(where["orphan"])
    await live_content_loads(service)
    assert storage.fs.exists(f"{storage.blobs_root}/app/README")
    # Missing content is only reported until its rows are asked to go.
    assert len(first.missing) == 1 and first.deleted_rows == 0 and first.needs_attention
    assert await service.list_versions(app_name="app", user_id="u", filename="user:b") == [0]

    second = await collect_artifact_garbage(config, storage, delete_missing_rows=True, now=time.time() + LATER)
    assert second.orphans == [] and second.deleted_rows == 1 and not second.needs_attention
    assert await service.list_versions(app_name="app", user_id="u", filename="user:b") == []
    await live_content_loads(service)
    clean = await collect_artifact_garbage(config, storage, grace_seconds=0)
    assert (clean.orphans, clean.missing, clean.fresh) == ([], [], []) and not clean.needs_attention


async def test_grace_period_keeps_fresh_blobs(sqlite_meta: Backend, target: Target) -> None:
    """A blob written moments ago with no row yet is what an in-flight save looks like: never collected."""
    service = await make_service(sqlite_meta, target)
    key = ArtifactKey.resolve(app_name="app", user_id="u", filename="inflight", session_id="s")
    location = service.storage.new_location(key)
    service.storage.write(location, b"row not committed yet")
    config, storage = service.store.config, service.storage

    report = await collect_artifact_garbage(config, storage, delete_orphans=True)
    assert report.orphans == [] and [f.uri for f in report.fresh] == [location.uri]
    assert report.deleted_blobs == 0 and storage.exists(location.uri) and not report.needs_attention
    report = await collect_artifact_garbage(
        config, storage, delete_orphans=True, grace_seconds=60, now=time.time() + 30
    )
    assert report.deleted_blobs == 0 and storage.exists(location.uri)

    report = await collect_artifact_garbage(
        config, storage, delete_orphans=True, grace_seconds=60, now=time.time() + 90
    )
    assert [o.uri for o in report.orphans] == [location.uri] and report.deleted_blobs == 1
    assert not storage.exists(location.uri)
    with pytest.raises(ConfigError, match="grace_seconds"):
        await collect_artifact_garbage(config, storage, grace_seconds=-1)


async def test_save_landing_mid_run_is_not_reported_missing(
    sqlite_meta: Backend, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing may predate a save whose row the later read sees: the re-check keeps it off the missing list."""
    service = await make_service(sqlite_meta, target)
    await service.save_artifact(app_name="app", user_id="u", filename="late", artifact=blob(b"late"))
    late = await service.get_artifact_version(app_name="app", user_id="u", filename="late")
    assert late is not None
    real_list = gc_module._list_blobs

    def listing_taken_before_the_save(storage: Any, app_name: Any) -> Any:
        listed = real_list(storage, app_name)
        del listed[storage.path_of(late.canonical_uri)]
        return listed

    monkeypatch.setattr(gc_module, "_list_blobs", listing_taken_before_the_save)
    report = await collect_artifact_garbage(
        service.store.config, service.storage, delete_missing_rows=True, now=time.time() + LATER
    )
    assert report.missing == [] and report.orphans == [] and report.deleted_rows == 0
    assert await service.load_artifact(app_name="app", user_id="u", filename="late") == blob(b"late")


async def test_app_filter_and_rows_outside_the_root(sqlite_meta: Backend, target: Target, tmp_path: Any) -> None:
    service = await make_service(sqlite_meta, target)
    await service.save_artifact(app_name="app", user_id="u", filename="kept", artifact=blob(b"k"))
    for app in ("app", "other"):
        key = ArtifactKey.resolve(app_name=app, user_id="u", filename="x", session_id=None)
        service.storage.write(service.storage.new_location(key), app.encode())
    # Same table, another content root: its rows are foreign to this storage and never touched.
    elsewhere = await make_service(sqlite_meta, Target("file", (tmp_path / "elsewhere").as_uri()))
    await elsewhere.save_artifact(app_name="app", user_id="u", filename="far", artifact=blob(b"far"))

    config, storage = service.store.config, service.storage
    only_app = await collect_artifact_garbage(config, storage, app_name="app", now=time.time() + LATER)
    assert [o.uri.split("/apps/")[1].split("/")[0] for o in only_app.orphans] == ["app"]
    assert only_app.foreign_rows == 1 and only_app.missing == []
    everything = await collect_artifact_garbage(
        config, storage, delete_orphans=True, delete_missing_rows=True, now=time.time() + LATER
    )
    assert len(everything.orphans) == 2 and everything.deleted_rows == 0
    assert await elsewhere.load_artifact(app_name="app", user_id="u", filename="far") == blob(b"far")
    assert await service.load_artifact(app_name="app", user_id="u", filename="kept") == blob(b"k")


async def test_cli_dry_run_then_delete(sqlite_meta: Backend, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    target = Target("file", (tmp_path / "cli-blobs").as_uri())
    service = await make_service(sqlite_meta, target)
    where = await populate(service)
    db_uri = f"sqlspec+sqlite:///{tmp_path / 'adk.db'}?artifact_storage_uri={target.uri}"

    assert await asyncio.to_thread(main, ["gc", db_uri, "--grace", "0"]) == 1
    out = capsys.readouterr().out
    assert where["orphan"] in out and "dry run" in out
    assert service.storage.exists(where["orphan"])

    assert (
        await asyncio.to_thread(main, ["gc", db_uri, "--grace", "0", "--delete", "--json"]) == 1
    )  # missing content remains
    report = json.loads(capsys.readouterr().out)
    assert report["deleted_blobs"] == 1 and len(report["missing"]) == 1
    assert not service.storage.exists(where["orphan"])

    assert await asyncio.to_thread(main, ["gc", db_uri, "--grace", "0", "--delete-missing-rows"]) == 0
    capsys.readouterr()
    # The same command through the package's CLI.
    from sqlspec_adk.cli import main as cli_main

    assert await asyncio.to_thread(cli_main, ["artifacts", "gc", db_uri]) == 0
    assert await asyncio.to_thread(main, ["gc", db_uri, "--storage-option", "nonsense"]) == 2
    await live_content_loads(service)


def test_register_adds_artifacts_gc_to_a_cli() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="sqlspec-adk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["artifacts", "gc", "sqlspec+sqlite:///x.db", "--delete", "--app", "a"])
    assert args.handler is gc_module.run_cli
    assert (args.command, args.artifacts_command, args.delete, args.app, args.grace) == (
        "artifacts",
        "gc",
        True,
        "a",
        gc_module.DEFAULT_GRACE_SECONDS,
    )
