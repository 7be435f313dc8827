"""SQLSpecArtifactService: ADK's BaseArtifactService with metadata in SQL and content in fsspec.

Contract, beyond ADK's base class:

- Versions count from 0 per ``(app, user, scope, filename)``. Scope is the
  session, or the user when the filename starts with ``user:`` or no session is
  given; user-scoped names are stored and listed as ``user:`` + bare name, so a
  listed name loads verbatim.
- A save writes its bytes to a new uuid-named blob first, then allocates the
  version and inserts the row in one write transaction (retried on a lost
  race). Concurrent saves, from one process or many, get distinct versions and
  never overwrite each other's content. If the row cannot be written, the blob
  is removed, unless the row turns out to have committed after all: there is
  never a visible version without content, and acknowledged content is never
  deleted.
- Each version records its size and sha256; a load verifies them and raises
  :class:`~sqlspec_adk.errors.ArtifactIntegrityError` for missing or altered
  content instead of returning a wrong artifact.
- Text parts are stored as UTF-8 with mime ``text/plain`` and load as text
  parts; ``inline_data`` keeps its mime type and display name; ``file_data``
  (including ``artifact://`` references, scope-checked like ADK does) is stored
  as metadata only, and references are followed on load up to a fixed depth.
  A rewind tombstone (empty ``application/octet-stream`` bytes) loads as None.
- Path segments are validated with ADK's ``validate_path_segment`` before
  anything is written (``InputValidationError``).
- Storage I/O runs in worker threads, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Optional, Union

from google.adk.artifacts.artifact_util import (
    is_artifact_ref,
    parse_artifact_uri,
    resolve_artifact_reference,
    validate_artifact_reference_scope,
)
from google.adk.artifacts.base_artifact_service import ArtifactVersion, BaseArtifactService, ensure_part
from google.adk.platform import time as platform_time
from google.genai import types
from typing_extensions import override

from sqlspec_adk.artifact.storage import ArtifactStorage, BlobLocation, sha256_hex
from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
from sqlspec_adk.converters import check_json_state, encode_state
from sqlspec_adk.errors import ArtifactIntegrityError, ConfigError, InputValidationError, InvalidStateError
from sqlspec_adk.modes import call
from sqlspec_adk.records import (
    CONTENT_KINDS,
    KIND_FILE,
    KIND_INLINE,
    KIND_REF,
    KIND_TEXT,
    ArtifactKey,
    ArtifactRow,
    ArtifactWrite,
)
from sqlspec_adk.service import OwnerId

__all__ = [
    "MAX_REFERENCE_DEPTH",
    "SAVE_ATTEMPTS",
    "AnyArtifactStore",
    "ArtifactVersionConflictError",
    "SQLSpecArtifactService",
]

logger = logging.getLogger(__name__)

AnyArtifactStore = Union[BaseAsyncADKArtifactStore[Any], BaseSyncADKArtifactStore[Any]]

#: How many ``artifact://`` hops a load follows before refusing (a cycle fails cleanly).
MAX_REFERENCE_DEPTH = 5
#: Write transactions a save tries before giving up on a heavily contended filename.
SAVE_ATTEMPTS = 20
_TOMBSTONE_MIME = "application/octet-stream"
_EMPTY_SHA256 = sha256_hex(b"")


class ArtifactVersionConflictError(RuntimeError):
    """Concurrent saves of one filename kept taking the next version; nothing was stored."""


class SQLSpecArtifactService(BaseArtifactService):
    """Persistent ADK artifacts: version metadata in SQL, content in fsspec storage.

    ``artifact_storage_uri`` (``file:///var/adk``, ``memory://x``,
    ``s3://bucket/prefix``, ...) defaults to the config's
    ``extension_config["adk"]["artifact_storage_uri"]``, and ``storage_options``
    (the filesystem's keywords) to ``artifact_storage_options``. No location
    anywhere is a :class:`~sqlspec_adk.errors.ConfigError`.
    """

    def __init__(
        self,
        store: AnyArtifactStore,
        artifact_storage_uri: Optional[str] = None,
        storage_options: Optional[Mapping[str, Any]] = None,
        *,
        owner_id: OwnerId = None,
    ) -> None:
        adk = store.config.adk
        uri = artifact_storage_uri if artifact_storage_uri is not None else adk.artifact_storage_uri
        if not uri:
            raise ConfigError(
                "no artifact content location: pass artifact_storage_uri= to SQLSpecArtifactService or set "
                "extension_config['adk']['artifact_storage_uri'] (e.g. 'file:///var/lib/adk-artifacts', 's3://bucket/adk')"
            )
        options = storage_options if storage_options is not None else adk.artifact_storage_options
        self.store = store
        self.storage = ArtifactStorage(uri, options)
        self._owner_id = owner_id if adk.owner_id_column is not None else None

    def _owner_for(self, app_name: str, user_id: str) -> Any:
        return self._owner_id(app_name, user_id) if callable(self._owner_id) else self._owner_id

    def _key(self, app_name: str, user_id: str, filename: str, session_id: Optional[str]) -> ArtifactKey:
        """The key of ADK's arguments, in the owner's own namespace when the service is owner-scoped."""
        owner = self._owner_for(app_name, user_id)
        return ArtifactKey.resolve(
            app_name=app_name, user_id=user_id, filename=filename, session_id=session_id, owner=owner
        )

    # ------------------------------------------------------------------ save
    @override
    async def save_artifact(
        self,
        *,
        app_name: str,
        user_id: str,
        filename: str,
        artifact: Union[types.Part, dict[str, Any]],
        session_id: Optional[str] = None,
        custom_metadata: Optional[dict[str, Any]] = None,
    ) -> int:
        """Store a new version and return its number (0 for the first)."""
        key = self._key(app_name, user_id, filename, session_id)
        part = ensure_part(artifact)
        metadata = _encode_metadata(custom_metadata)
        now = platform_time.get_time()
        if part.inline_data is not None:
            data = part.inline_data.data
            if data is None:
                raise InputValidationError("Artifact inline_data must contain data.")
            return await self._save_content(
                key, KIND_INLINE, bytes(data), part.inline_data.mime_type, part.inline_data.display_name, metadata, now
            )
        if part.text is not None:
            return await self._save_content(
                key, KIND_TEXT, part.text.encode("utf-8"), "text/plain", None, metadata, now
            )
        if part.file_data is not None:
            file_uri = part.file_data.file_uri
            if not file_uri:
                raise InputValidationError("Artifact file_data must have a file_uri.")
            if is_artifact_ref(part):
                parsed = parse_artifact_uri(file_uri)
                if parsed is None:
                    raise InputValidationError(f"Invalid artifact reference URI: {file_uri}")
                validate_artifact_reference_scope(
                    app_name=app_name, user_id=user_id, session_id=session_id, parsed_uri=parsed
                )
                # The target's mime type is only known once it is loaded, as in ADK's services.
                write = ArtifactWrite(
                    KIND_REF, None, part.file_data.display_name, file_uri, metadata, now, 0, _EMPTY_SHA256
                )
            else:
                write = ArtifactWrite(
                    KIND_FILE,
                    part.file_data.mime_type,
                    part.file_data.display_name,
                    file_uri,
                    metadata,
                    now,
                    0,
                    _EMPTY_SHA256,
                )
            return await self._insert(key, write, None)
        raise InputValidationError("Not supported artifact type: the part needs inline_data, text or file_data.")

    async def _save_content(
        self,
        key: ArtifactKey,
        kind: str,
        data: bytes,
        mime_type: Optional[str],
        display_name: Optional[str],
        metadata: str,
        now: float,
    ) -> int:
        location = self.storage.new_location(key)
        digest = await asyncio.to_thread(self.storage.write, location, data)
        write = ArtifactWrite(kind, mime_type, display_name, location.uri, metadata, now, digest.size, digest.checksum)
        return await self._insert(key, write, location)

    async def _insert(self, key: ArtifactKey, write: ArtifactWrite, location: Optional[BlobLocation]) -> int:
        write = dataclasses.replace(write, owner_id=self._owner_for(key.app_name, key.user_id))
        try:
            for attempt in range(SAVE_ATTEMPTS):
                version = await call(self.store.save_artifact_version, key, write)
                if version is not None:
                    return version
                # Jitter so writers that collided do not collide again in lockstep.
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 - timing jitter, not security
            raise ArtifactVersionConflictError(
                f"could not allocate a version of {key.filename!r} after {SAVE_ATTEMPTS} attempts under contention"
            )
        except Exception:
            # Only ordinary failures reach here; on cancellation the outcome is
            # unknown and the blob is kept (an orphan is better than a lost version).
            if location is not None:
                await self._discard_if_unreferenced(key, location)
            raise

    async def _discard_if_unreferenced(self, key: ArtifactKey, location: BlobLocation) -> None:
        """Remove a failed save's blob, unless its row committed despite the error (e.g. a lost COMMIT reply)."""
        try:
            referenced = await call(self.store.artifact_uri_exists, key, location.uri)
        except Exception:
            logger.warning("kept artifact blob %s: could not check whether its save committed", location.uri)
            return
        if not referenced:
            try:
                await asyncio.to_thread(self.storage.delete, location.uri)
            except Exception:
                logger.warning("could not remove unreferenced artifact blob %s", location.uri, exc_info=True)

    # ------------------------------------------------------------------ load
    @override
    async def load_artifact(
        self,
        *,
        app_name: str,
        user_id: str,
        filename: str,
        session_id: Optional[str] = None,
        version: Optional[int] = None,
    ) -> Optional[types.Part]:
        """The version's Part (newest when ``version`` is None), or None when absent or a tombstone."""
        return await self._load(app_name, user_id, filename, session_id, version, MAX_REFERENCE_DEPTH)

    async def _load(
        self,
        app_name: str,
        user_id: str,
        filename: str,
        session_id: Optional[str],
        version: Optional[int],
        remaining_depth: int,
    ) -> Optional[types.Part]:
        key = self._key(app_name, user_id, filename, session_id)
        row = await call(self.store.get_artifact_version, key, version)
        if row is None:
            return None
        kind = row["kind"]
        if kind == KIND_REF:
            target = resolve_artifact_reference(
                file_uri=row["canonical_uri"],
                app_name=app_name,
                user_id=user_id,
                session_id=session_id,
                remaining_depth=remaining_depth,
            )
            return await self._load(
                target.app_name, target.user_id, target.filename, target.session_id, target.version, remaining_depth - 1
            )
        if kind == KIND_FILE:
            return types.Part(
                file_data=types.FileData(
                    file_uri=row["canonical_uri"], mime_type=row["mime_type"], display_name=row["display_name"]
                )
            )
        if kind not in CONTENT_KINDS:
            raise ArtifactIntegrityError(
                f"artifact {row['filename']!r} version {row['version']} has unknown kind {kind!r}"
            )
        if kind == KIND_INLINE and _is_tombstone(row):
            return None
        data = await asyncio.to_thread(
            self.storage.read_verified, row["canonical_uri"], size=row["size"], checksum=row["checksum"]
        )
        if kind == KIND_TEXT:
            return types.Part(text=data.decode("utf-8"))
        return types.Part(
            inline_data=types.Blob(mime_type=row["mime_type"], data=data, display_name=row["display_name"])
        )

    # --------------------------------------------------------------- listing
    @override
    async def list_artifact_keys(self, *, app_name: str, user_id: str, session_id: Optional[str] = None) -> list[str]:
        """Sorted names of the session's artifacts (when given) and the user's; user names start with ``user:``."""
        owner = self._owner_for(app_name, user_id)
        return await call(
            self.store.list_artifact_keys, app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner
        )

    @override
    async def list_versions(
        self, *, app_name: str, user_id: str, filename: str, session_id: Optional[str] = None
    ) -> list[int]:
        """Stored version numbers, ascending ([] when none)."""
        return [row["version"] for row in await self._rows(app_name, user_id, filename, session_id)]

    @override
    async def list_artifact_versions(
        self, *, app_name: str, user_id: str, filename: str, session_id: Optional[str] = None
    ) -> list[ArtifactVersion]:
        """Every version's metadata, oldest first."""
        return [_to_version(row) for row in await self._rows(app_name, user_id, filename, session_id)]

    @override
    async def get_artifact_version(
        self,
        *,
        app_name: str,
        user_id: str,
        filename: str,
        session_id: Optional[str] = None,
        version: Optional[int] = None,
    ) -> Optional[ArtifactVersion]:
        """One version's metadata (newest when ``version`` is None), or None."""
        key = self._key(app_name, user_id, filename, session_id)
        row = await call(self.store.get_artifact_version, key, version)
        return _to_version(row) if row is not None else None

    async def _rows(self, app_name: str, user_id: str, filename: str, session_id: Optional[str]) -> list[ArtifactRow]:
        key = self._key(app_name, user_id, filename, session_id)
        return await call(self.store.list_artifact_versions, key)

    # -------------------------------------------------------------- deleting
    @override
    async def delete_artifact(
        self, *, app_name: str, user_id: str, filename: str, session_id: Optional[str] = None
    ) -> None:
        """Delete every version: the rows first (in one transaction), then their content."""
        key = self._key(app_name, user_id, filename, session_id)
        rows = await call(self.store.delete_artifact, key)
        await self._delete_content(rows)

    async def delete_artifacts_before(self, *, before: float, app_name: Optional[str] = None) -> int:
        """Retention: delete versions created before ``before`` (epoch seconds), content included; returns the count."""
        rows = await call(self.store.delete_artifacts_before, before=before, app_name=app_name)
        await self._delete_content(rows)
        return len(rows)

    async def close(self) -> None:
        """Close the store's pool; idempotent, and the service can be used again afterwards."""
        await call(self.store.close)

    async def __aenter__(self) -> SQLSpecArtifactService:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def _delete_content(self, rows: list[ArtifactRow]) -> None:
        # Rows are already gone, so a blob that cannot be removed is an
        # unreachable orphan, never a broken version: log it and carry on.
        uris = [row["canonical_uri"] for row in rows if row["kind"] in CONTENT_KINDS]
        if uris:
            await asyncio.to_thread(self._delete_blobs, uris)

    def _delete_blobs(self, uris: list[str]) -> None:
        for uri in uris:
            try:
                self.storage.delete(uri)
            except Exception:
                logger.warning("could not remove artifact blob %s", uri, exc_info=True)


def _encode_metadata(custom_metadata: Optional[Mapping[str, Any]]) -> str:
    """JSON text of ``custom_metadata``; anything that would not round-trip is refused before a write."""
    if custom_metadata is None:
        return "{}"
    if not isinstance(custom_metadata, Mapping):
        raise InputValidationError(f"custom_metadata must be a dict, got {type(custom_metadata).__name__}")
    try:
        check_json_state(dict(custom_metadata), "custom_metadata")
    except InvalidStateError as error:
        raise InputValidationError(str(error).replace("state value", "custom_metadata value")) from error
    return encode_state(custom_metadata)


def _is_tombstone(row: ArtifactRow) -> bool:
    """The empty ``application/octet-stream`` part a session rewind saves to hide an artifact."""
    return row["size"] == 0 and row["mime_type"] == _TOMBSTONE_MIME and row["display_name"] is None


def _to_version(row: ArtifactRow) -> ArtifactVersion:
    return ArtifactVersion(
        version=row["version"],
        canonical_uri=row["canonical_uri"],
        custom_metadata=row["custom_metadata"],
        create_time=row["create_time"],
        mime_type=row["mime_type"],
    )
