"""One SQLite library per database file per process.

The stdlib ``sqlite3`` (the ``sqlite`` and ``aiosqlite`` adapters) and ADBC's
SQLite driver each carry their own copy of SQLite. POSIX advisory locks belong
to the process, so when one copy closes a file it drops the locks the other
copy holds on it, and the file gets corrupted ("database disk image is
malformed"; sqlite.org/howtocorrupt.html, 2.2.1). Two processes are safe.

A config claims its file, for its library, before it opens the first
connection, and gives the claim back when its pool closes (or when it is
garbage-collected); a claim for a file another library holds is refused.

A claim given back by garbage collection is only queued (:func:`_finalized`)
and applied by the next claim or release under the lock: the collector may run
a finalizer on any thread at any allocation, including one made while this
thread holds the lock, so a finalizer that took it would deadlock.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from urllib.parse import unquote, urlsplit

from sqlspec_adk.errors import ConfigError

__all__ = ["claim_sqlite_file", "release_sqlite_file"]

_LOCK = threading.Lock()
#: file key -> library -> ids of the configs holding a claim.
_CLAIMS: dict[str, dict[str, set[int]]] = {}
#: Claims given back by garbage collection, not yet applied (a deque: appending never blocks).
_FINALIZED: deque[tuple[str, str, int]] = deque()


def _file_key(database: str) -> str | None:
    """The real path a ``database`` argument opens, or None for an in-memory database."""
    path = database
    if path.startswith("file:"):
        parts = urlsplit(path)
        if "mode=memory" in parts.query:
            return None
        path = unquote(parts.path)
    if path in ("", ":memory:"):
        return None
    return os.path.realpath(path)


def claim_sqlite_file(database: str, library: str, holder: object) -> None:
    """Record that ``holder`` opens ``database`` through ``library``; ConfigError if another library has it open."""
    key = _file_key(database)
    if key is None:
        return
    with _LOCK:
        _apply_finalized()
        by_library = _CLAIMS.setdefault(key, {})
        others = sorted(name for name, holders in by_library.items() if holders and name != library)
        if others:
            raise ConfigError(
                f"SQLite file {database!r} is already open in this process through {others[0]}; opening it "
                f"through {library} as well would corrupt it (two copies of SQLite do not see each other's "
                "locks). Use one SQLite adapter per file in a process, or separate processes."
            )
        holders = by_library.setdefault(library, set())
        if id(holder) in holders:
            return
        holders.add(id(holder))
    weakref.finalize(holder, _finalized, key, library, id(holder))


def release_sqlite_file(database: str, library: str, holder: object) -> None:
    """Give back ``holder``'s claim on ``database`` (no-op without one)."""
    key = _file_key(database)
    if key is not None:
        _release(key, library, id(holder))


def _release(key: str, library: str, holder_id: int) -> None:
    with _LOCK:
        _apply_finalized()
        _discard(key, library, holder_id)


def _finalized(key: str, library: str, holder_id: int) -> None:
    """A holder was garbage-collected: queue its release (never takes the lock, see the module docstring)."""
    _FINALIZED.append((key, library, holder_id))


def _apply_finalized() -> None:
    """Apply the queued releases (the caller holds the lock)."""
    while _FINALIZED:
        _discard(*_FINALIZED.popleft())


def _discard(key: str, library: str, holder_id: int) -> None:
    holders = _CLAIMS.get(key, {}).get(library)
    if holders is not None:
        holders.discard(holder_id)
