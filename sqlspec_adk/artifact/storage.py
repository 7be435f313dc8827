"""Artifact content in fsspec storage (``file://``, ``memory://``, ``s3://``, ``gs://``, ...).

Every protocol goes through the same calls (``open``, ``rm_file``,
``makedirs``, ``find``); nothing here knows one from another. Each saved
version gets its own blob named by a fresh uuid, so concurrent saves can never
write over each other and a blob is immutable once written:

    {root}/apps/{app}/users/{user}/artifacts/{name}/{uuid}                    (user scope)
    {root}/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/{uuid}

Segments made only of ``[A-Za-z0-9._-]`` (up to 100 characters) are used as
they are, for operators browsing the bucket; any other value becomes ``~`` +
its sha256, so a name with ``/``, ``%``, ``:`` or non-ASCII text is one safe
segment on every backend and no two names share a directory by accident.

Memory: content moves in :data:`CHUNK_SIZE` pieces. A write streams slices of
the caller's buffer (no concatenated copy) and hashes them on the way; a read
fills one buffer of the recorded size, hashing as it goes, and hands that very
buffer back as ``bytes`` (on CPython ``BytesIO.getvalue()`` returns its own
exactly-sized buffer without copying). Object stores buffer at most
:data:`UPLOAD_BLOCK_SIZE` per multipart part.

Options (endpoint, credentials) go to the filesystem and nowhere else: they
are not part of ``repr``/``str`` and are never logged.

The methods are blocking; the service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urlsplit, urlunsplit

import fsspec

from sqlspec_adk.errors import ArtifactIntegrityError, ConfigError
from sqlspec_adk.records import ArtifactKey

__all__ = [
    "BLOB_NAME",
    "CHUNK_SIZE",
    "UPLOAD_BLOCK_SIZE",
    "ArtifactStorage",
    "BlobDigest",
    "BlobLocation",
    "redact_uri",
    "sha256_hex",
]

#: Bytes moved (and hashed) per step when writing or reading a blob.
CHUNK_SIZE = 4 << 20
#: Buffered bytes per part for filesystems that upload in parts (S3's minimum part is 5 MiB).
UPLOAD_BLOCK_SIZE = 8 << 20
#: The file name of every blob: a uuid4 in hex (how gc tells blobs from anything else under the root).
BLOB_NAME = re.compile(r"[0-9a-f]{32}")

_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,100}")
Buffer = Union[bytes, bytearray, memoryview]


def sha256_hex(data: Buffer) -> str:
    """The checksum recorded for each version's bytes."""
    return hashlib.sha256(data).hexdigest()


def redact_uri(uri: str) -> str:
    """``uri`` without any ``user:password@`` part, for messages and ``repr``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable uri>"
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _segment(value: str) -> str:
    if _PLAIN_SEGMENT.fullmatch(value) and value not in (".", ".."):
        return value
    return "~" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class BlobLocation:
    """Where one blob lives: the fsspec path and the URI recorded as ``canonical_uri``."""

    __slots__ = ("path", "uri")

    def __init__(self, path: str, uri: str) -> None:
        self.path = path
        self.uri = uri

    def __repr__(self) -> str:
        return f"BlobLocation({redact_uri(self.uri)!r})"


@dataclass(frozen=True, slots=True)
class BlobDigest:
    """What a write stored: the byte count and sha256 recorded in the version's row."""

    size: int
    checksum: str


class ArtifactStorage:
    """Immutable content blobs under one fsspec root URI.

    ``options`` are the filesystem's own keywords (``endpoint_url``, ``key``,
    ``secret``, ``token``, ...). A blob is only ever read or deleted through a
    URI under this root, so a tampered ``canonical_uri`` cannot point the
    service at other files. One root belongs to one artifact table: garbage
    collection treats every blob under it that the table does not reference
    as an orphan.
    """

    def __init__(self, uri: str, options: Mapping[str, Any] | None = None) -> None:
        if not isinstance(uri, str) or not uri.strip():
            raise ConfigError("artifact storage URI must be a non-empty string")
        try:
            fs, root = fsspec.core.url_to_fs(uri, **dict(options or {}))
        except (ImportError, ValueError, TypeError) as error:
            # The error names a missing package or a bad keyword; option values never reach it.
            raise ConfigError(f"cannot open artifact storage {redact_uri(uri)!r}: {error}") from error
        self.fs: Any = fs
        self.root_path: str = str(root).rstrip("/")
        self.root_uri: str = str(fs.unstrip_protocol(self.root_path)).rstrip("/")

    def __repr__(self) -> str:
        return f"ArtifactStorage({redact_uri(self.root_uri)!r})"

    __str__ = __repr__

    @property
    def blobs_root(self) -> str:
        """The fsspec path every blob lives under (``{root}/apps``)."""
        return f"{self.root_path}/apps"

    def app_root(self, app_name: str) -> str:
        """The fsspec path of one app's blobs."""
        return f"{self.blobs_root}/{_segment(app_name)}"

    def new_location(self, key: ArtifactKey) -> BlobLocation:
        """A fresh, never-used blob location for one version of ``key``."""
        parts = ["apps", _segment(key.app_name), "users", _segment(key.user_id)]
        if not key.is_user_scoped:
            parts += ["sessions", _segment(key.scope)]
        parts += ["artifacts", _segment(key.bare_filename), uuid.uuid4().hex]
        relative = "/".join(parts)
        return BlobLocation(f"{self.root_path}/{relative}", f"{self.root_uri}/{relative}")

    def path_of(self, uri: str) -> str:
        """The fsspec path of a blob URI; :class:`ArtifactIntegrityError` when it is not under this root."""
        prefix = self.root_uri + "/"
        if not uri.startswith(prefix) or ".." in uri[len(prefix) :].split("/"):
            raise ArtifactIntegrityError(
                f"artifact content {redact_uri(uri)!r} is not under the configured storage "
                f"{redact_uri(self.root_uri)!r}; was artifact_storage_uri changed?"
            )
        return f"{self.root_path}/{uri[len(prefix) :]}"

    def uri_of(self, path: str) -> str:
        """The blob URI (as recorded in ``canonical_uri``) of an fsspec path under this root."""
        prefix = self.root_path + "/"
        if not path.startswith(prefix):
            raise ValueError(f"{path!r} is not under {self.root_path!r}")
        return f"{self.root_uri}/{path[len(prefix) :]}"

    def write(self, location: BlobLocation, data: Buffer) -> BlobDigest:
        """Stream ``data`` into a new blob and return its size and sha256.

        Slices of ``data`` go to the file :data:`CHUNK_SIZE` at a time, so no
        second copy of the content is made here. Parent directories are created
        only when opening the file fails for want of them (local and other
        hierarchical filesystems); object stores open without a request and
        never get a ``makedirs``, so a missing bucket is an error, not created.
        A write that fails removes whatever it left behind (best effort; a
        process killed mid-write leaves an orphan for :mod:`~sqlspec_adk.artifact.gc`).
        """
        view = memoryview(data).cast("B")
        try:
            return self._write(location.path, view)
        except BaseException:
            # A failed write may have left (or, on object stores, committed) part of the blob.
            with contextlib.suppress(Exception):
                self.fs.rm_file(location.path)
            raise
        finally:
            view.release()

    def _write(self, path: str, view: memoryview) -> BlobDigest:
        created: list[str] = []
        try:
            handle = self.fs.open(path, "wb", block_size=UPLOAD_BLOCK_SIZE)
        except FileNotFoundError:
            created = self._missing_parents(path)
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            handle = self.fs.open(path, "wb", block_size=UPLOAD_BLOCK_SIZE)
        digest = hashlib.sha256()
        with handle:
            for start in range(0, len(view), CHUNK_SIZE):
                piece = view[start : start + CHUNK_SIZE]
                digest.update(piece)
                handle.write(piece)
            if self.is_local:
                # The version row commits right after this returns: the bytes it points
                # to must survive a power loss too, not only a killed process.
                handle.flush()
                os.fsync(handle.fileno())
        if self.is_local:
            _fsync_directories([path.rsplit("/", 1)[0], *created])
        return BlobDigest(len(view), digest.hexdigest())

    @property
    def is_local(self) -> bool:
        """Whether blobs are files on a local disk (where durability needs fsync)."""
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))

    def _missing_parents(self, path: str) -> list[str]:
        """Parents of the directories ``makedirs`` will create for ``path`` (their entries need syncing too)."""
        if not self.is_local:
            return []
        parents: list[str] = []
        directory = path.rsplit("/", 1)[0]
        while directory and not os.path.isdir(directory):
            directory = directory.rsplit("/", 1)[0]
            parents.append(directory or "/")
        return parents

    def read_verified(self, uri: str, *, size: int, checksum: str) -> bytes:
        """The blob's bytes, after checking them against the recorded size and sha256.

        Reads into one buffer of ``size`` bytes, :data:`CHUNK_SIZE` at a time.
        Raises :class:`ArtifactIntegrityError` when the blob is missing, shorter,
        longer or different, so a load never returns a wrong artifact.
        """
        path = self.path_of(uri)
        shown = redact_uri(uri)
        if size < 0:
            raise ArtifactIntegrityError(f"artifact content at {shown} has a negative recorded size {size}")
        buffer = io.BytesIO()
        try:
            with self.fs.open(path, "rb", block_size=CHUNK_SIZE, cache_type="none") as handle:
                digest = _fill(handle, buffer, size, shown)
        except FileNotFoundError as error:  # at open, or mid-read when a listing cache was stale
            raise ArtifactIntegrityError(f"artifact content is missing at {shown}") from error
        if digest != checksum:
            raise ArtifactIntegrityError(
                f"artifact content at {shown} does not match its record (expected sha256 {checksum}, found {digest})"
            )
        return buffer.getvalue()

    def delete(self, uri: str) -> None:
        """Remove a blob; a blob already gone is not an error."""
        path = self.path_of(uri)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def exists(self, uri: str) -> bool:
        """Whether the blob is present (tests and repair tools)."""
        return bool(self.fs.exists(self.path_of(uri)))


def _fsync_directories(paths: list[str]) -> None:
    """fsync each directory, so the entries of new files and directories in it are on disk."""
    for directory in paths:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _fill(handle: Any, buffer: io.BytesIO, size: int, shown: str) -> str:
    """Read exactly ``size`` bytes from ``handle`` into ``buffer`` (allocated once); return their sha256."""
    digest = hashlib.sha256()
    if size:
        buffer.seek(size - 1)
        buffer.write(b"\0")  # allocates the whole buffer once
        filled = 0
        with buffer.getbuffer() as view:
            while filled < size:
                # Every slice is released at once: a live one would make getvalue() copy.
                with view[filled : min(filled + CHUNK_SIZE, size)] as target:
                    count = handle.readinto(target)
                    if not count:
                        break
                    with target[:count] as got:
                        digest.update(got)
                filled += count
        if filled < size:
            raise ArtifactIntegrityError(
                f"artifact content at {shown} is truncated: expected {size} bytes, found {filled}"
            )
    if handle.read(1):
        raise ArtifactIntegrityError(f"artifact content at {shown} is longer than its recorded {size} bytes")
    return digest.hexdigest()
