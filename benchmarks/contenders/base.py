"""What every contender of the session workloads provides, and where its data lives.

A contender is one implementation of ADK's session operations on one database:
this library on one adapter (``ours``), one of ADK's own services (``adk``;
``InMemorySessionService`` is the ``ceiling``) or hand-written driver code doing
the least work the operation needs (``floor``). Each gets its own namespace (a
SQLite file, a PostgreSQL schema or a MySQL database) so no two share tables.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from google.adk.events.event import Event

from benchmarks.counting import Tally

__all__ = ["APP", "Counter", "Endpoint", "Family", "Kind", "SessionContender", "Spec", "counter_for"]

Kind = Literal["ours", "adk", "ceiling", "floor"]
Family = Literal["sqlite", "postgres", "mysql", "duckdb", "spanner", "memory"]
Counter = Literal["sqlite", "wire", "none"]


def counter_for(family: str) -> Counter:
    """How a family's statements are counted: SQLite's trace, the wire proxy, or not at all."""
    if family == "sqlite":
        return "sqlite"
    return "wire" if family in ("postgres", "mysql") else "none"


#: Every contender stores its sessions under this app name.
APP = "bench"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one contender's data lives.

    ``path`` is the contender's private directory (SQLite/DuckDB files,
    artifact blobs); ``namespace`` its PostgreSQL schema or MySQL database;
    ``port`` may point at a counting proxy instead of the server.
    """

    family: Family
    path: Path
    namespace: str
    prefix: str
    host: str = "127.0.0.1"
    port: int = 0
    user: str = ""
    password: str = ""
    database: str = ""

    def via(self, port: int) -> Endpoint:
        return dataclasses.replace(self, port=port)

    @property
    def pg_dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def sqlite_file(self) -> Path:
        return self.path / "bench.db"


class SessionContender(abc.ABC):
    """Session operations as the workloads call them; ``handle`` is whatever ``append`` needs."""

    #: Set by the spec that built it.
    spec: Spec

    async def open(self) -> None:
        """Connect and create tables (idempotent)."""
        return None

    async def close(self) -> None:
        """Release every connection."""
        return None

    @abc.abstractmethod
    async def create(self, user_id: str, session_id: str, state: dict[str, Any]) -> Any: ...

    @abc.abstractmethod
    async def append(self, handle: Any, event: Event) -> Any:
        """Append ``event``; return the handle for the next append."""

    @abc.abstractmethod
    async def get(self, user_id: str, session_id: str, recent: int) -> Any:
        """``get_session`` with ``num_recent_events=recent``; returns an append handle."""

    @abc.abstractmethod
    async def list_page(self, user_id: str, size: int) -> int:
        """The first page of the user's sessions; returns the number of sessions on it."""

    @abc.abstractmethod
    async def list_all(self, user_id: str) -> int:
        """Every session of the user; returns the count."""

    @abc.abstractmethod
    async def seed_history(self, user_id: str, session_id: str, events: list[Event]) -> None:
        """Create a session already holding ``events`` (bulk, untimed)."""

    @abc.abstractmethod
    async def seed_sessions(self, user_id: str, count: int) -> None:
        """Create ``count`` sessions of ``user_id`` (bulk, untimed)."""

    def count_yields(self, tally: Tally) -> Callable[[], None] | None:
        """Start counting this library's ``Stmt`` yields (ours only); returns the undo function."""
        return None

    @property
    def paged(self) -> bool:
        """Whether ``list_page`` really reads one page (ADK's services only list everything)."""
        return True


@dataclass(frozen=True)
class Spec:
    """How to build one contender on an endpoint (again, through a proxy, for counting)."""

    name: str
    kind: Kind
    family: Family
    driver: str
    label: str
    build: Callable[[Endpoint], Any]
    counter: Counter
    #: Whether the driver is sync (run in a worker thread by the async service/floor).
    concurrent: bool = True
    #: ``extension_config["adk"]`` keys this contender sets beyond the defaults (a variant of this library).
    settings: dict[str, Any] = field(default_factory=dict)
    #: What distinguishes this variant ("hybrid (fake:384)", "group commit on"); "" for the default.
    variant: str = ""

    def refused(self, error: BaseException) -> list[str]:
        """The keys of :attr:`settings` that ``error`` (a ``ConfigError``) names: the library refuses them."""
        from sqlspec_adk.errors import ConfigError

        if not isinstance(error, ConfigError):
            return []
        return [key for key in self.settings if repr(key) in str(error) or key in str(error)]

    def make(self, endpoint: Endpoint) -> Any:
        contender = self.build(endpoint)
        contender.spec = self
        return contender
