"""The database config every adapter builds on: settings, dialect, pool lifecycle, running operations.

An adapter's config is its driver glue: it implements the questions of
:mod:`sqlspec_adk.engine.driver` (as abstract methods here, so a missing one
fails at construction and mypy checks each signature) and inherits ``run`` /
``arun``, which hand an :class:`~sqlspec_adk.protocol.Operation` to the one
engine. ``arun`` works on every config: a sync driver's operation runs on a
worker thread, so the event loop never blocks. With group commit on
(``extension_config["adk"]["group_commit"]``, default per SQL family:
:data:`GROUP_COMMIT_DEFAULTS`), write operations go through the config's
:attr:`~SyncDatabaseConfig.group_commit` (:mod:`sqlspec_adk.engine.group`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from functools import cached_property, partial
from typing import Any, ClassVar, Generic, TypeVar

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.engine.driver import ErrorKind
from sqlspec_adk.engine.group import AsyncGroup, SyncGroup, ThreadedGroup
from sqlspec_adk.engine.loop import run_async, run_sync
from sqlspec_adk.engine.threads import submit, thread_runner
from sqlspec_adk.engine.tracing import traced
from sqlspec_adk.engine.transaction import transaction
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Operation, Stmt
from sqlspec_adk.settings import ADKConfig

__all__ = [
    "GROUP_COMMIT_DEFAULTS",
    "AsyncDatabaseConfig",
    "AsyncDriverConfig",
    "DatabaseConfig",
    "SyncDatabaseConfig",
]

T = TypeVar("T")
C = TypeVar("C")

#: Group commit per SQL family: on by default where it measured faster (docs/configuration.md). A family
#: not listed has none (no ``SAVEPOINT ... RELEASE``, or no server here to measure it on).
GROUP_COMMIT_DEFAULTS: dict[str, bool] = {"sqlite": True, "duckdb": True, "postgresql": False, "mysql": True}


class DatabaseConfig(abc.ABC):
    """Shared shape of every adapter config.

    ``connection_config`` holds the driver's own connect keywords,
    ``pool_config`` pool sizing where the driver pools, and
    ``extension_config["adk"]`` the validated :class:`ADKConfig`. An adapter
    does its own construction-time work in :meth:`configure` rather than
    restating this constructor.
    """

    #: The dialect class of the SQL family; set by each adapter.
    dialect_class: ClassVar[type[Dialect]]
    is_async: ClassVar[bool]

    def __init__(
        self,
        *,
        connection_config: Mapping[str, Any] | None = None,
        pool_config: Mapping[str, Any] | None = None,
        extension_config: Mapping[str, Any] | None = None,
    ) -> None:
        if extension_config is not None and not isinstance(extension_config, Mapping):
            raise ConfigError("extension_config must be a mapping such as {'adk': {...}}")
        extension = dict(extension_config or {})
        adk_raw = extension.get("adk", {})
        if not isinstance(adk_raw, Mapping):
            raise ConfigError("extension_config['adk'] must be a mapping")
        self.connection_config: dict[str, Any] = dict(connection_config or {})
        self.pool_config: dict[str, Any] = dict(pool_config or {})
        self.extension_config: dict[str, Any] = extension
        self.adk: ADKConfig = ADKConfig.from_mapping(adk_raw)
        #: Per component, what the stores' schema check found (see :mod:`sqlspec_adk.migrations.guard`).
        self.schema_checks: dict[str, str] = {}
        _ = self.dialect  # dialect-specific checks fail here, at construction
        _ = self.group_commit_cap
        self.configure()

    def configure(self) -> None:  # noqa: B027 - optional hook, most adapters need it
        """Driver-specific setup at construction, after the settings above are validated.

        Reads ``connection_config``/``pool_config``/``adk``, validates what the
        driver needs and sets up the (empty) pool; raises ``ConfigError``. No I/O.
        """

    def check_pool_keys(self, allowed: tuple[str, ...], *, location: str) -> None:
        """Refuse ``pool_config`` keys this adapter never reads, naming them: a ``location`` key (where the
        database is) put there by mistake would otherwise leave the config on an in-memory database."""
        unknown = sorted(str(key) for key in self.pool_config if key not in allowed)
        if not unknown:
            return
        hint = f"; {location!r} goes in connection_config" if location in unknown else ""
        takes = ", ".join(repr(key) for key in allowed) or "nothing"
        raise ConfigError(f"pool_config of {type(self).__name__} takes {takes}, not {', '.join(unknown)}{hint}")

    def database_missing(self) -> bool:
        """Whether the database does not exist yet (a file family's file), so a read-only check creates nothing."""
        return False

    @cached_property
    def dialect(self) -> Dialect:
        """The dialect bound to this config's table names and options."""
        return self.dialect_class(self.adk)

    @cached_property
    def group_commit_cap(self) -> int:
        """Most operations one group-commit transaction holds; 0: group commit is off (ConfigError if asked
        for on a family without it)."""
        family = self.dialect.family
        wanted = self.adk.group_commit
        if wanted and family not in GROUP_COMMIT_DEFAULTS:
            raise ConfigError(f"extension_config['adk']['group_commit'] is not available on {family or 'this family'}")
        on = GROUP_COMMIT_DEFAULTS.get(family, False) if wanted is None else wanted
        return self.adk.group_commit_max if on else 0

    def group_commit_slots(self) -> int:
        """How many group-commit transactions run at once: 1 where the database has one writer (a file);
        a server config says its pool's size, so its connections overlap their round trips."""
        return 1

    @abc.abstractmethod
    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction, from async code."""

    @abc.abstractmethod
    def classify(self, error: BaseException) -> ErrorKind | None:
        """The kind of a driver exception (see :class:`~sqlspec_adk.engine.driver.ErrorKind`), None to raise it."""


class SyncDatabaseConfig(DatabaseConfig, Generic[C]):
    """A config whose driver is synchronous (``C`` is its connection type)."""

    is_async: ClassVar[bool] = False

    def run(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction on the calling thread (a write may share it: group commit)."""
        with traced(operation, self.dialect.db_system) as on_retry:
            group = self.group_commit
            if group is not None and operation.write:
                return group.run(operation, on_retry)
            return run_sync(self, transaction(operation, self.dialect.rules, self, on_retry))

    @cached_property
    def group_commit(self) -> SyncGroup | None:
        """The group commit of this config's writes (its ``stats`` say what it ran), None when off."""
        if not self.group_commit_cap:
            return None
        slots = self.group_commit_slots()
        return SyncGroup(self.group_commit_cap, self.dialect.rules, self, partial(run_sync, self), slots)

    @cached_property
    def loop_group_commit(self) -> ThreadedGroup | None:
        """The group commit of this config's writes submitted from an event loop (:meth:`arun`), None when
        off: callers wait as tasks, and each transaction (an operation alone, or a batch) runs whole on one
        of the library's worker threads, which goes on to its slot's next batch. Its queue is not
        :attr:`group_commit`'s; both take the same writer, one at a time."""
        if not self.group_commit_cap:
            return None
        slots = self.group_commit_slots()
        return ThreadedGroup(self.group_commit_cap, self.dialect.rules, self, partial(run_sync, self), submit, slots)

    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction from async code. A write with group commit on waits on the
        event loop for its batch (:attr:`loop_group_commit`: one thread hop per transaction, not one per
        caller); anything else runs :meth:`run` on a worker thread (:mod:`sqlspec_adk.engine.threads`)."""
        group = self.loop_group_commit
        if group is not None and operation.write:
            with traced(operation, self.dialect.db_system) as on_retry:
                batched: T = await group.run(operation, on_retry)
                return batched
        result: T = await thread_runner(self)(self.run, operation)
        return result

    @abc.abstractmethod
    def close_pool(self) -> None:
        """Close every pooled connection; the config can be used again afterwards."""

    # ------------------------------------------------------------ driver glue
    @abc.abstractmethod
    def acquire(self, write: bool) -> C: ...

    @abc.abstractmethod
    def release(self, connection: C, discard: bool) -> None: ...

    def refresh(self) -> None:
        """Drop idle connections after one was found dead (default: nothing to drop)."""

    @abc.abstractmethod
    def execute(self, connection: C, stmt: Stmt) -> Any: ...

    @abc.abstractmethod
    def command(self, connection: C, sql: str) -> None: ...

    @abc.abstractmethod
    def in_transaction(self, connection: C) -> bool: ...


class AsyncDatabaseConfig(DatabaseConfig):
    """A config whose callers await it: its pool closes with ``await close_pool()``."""

    is_async: ClassVar[bool] = True

    @abc.abstractmethod
    async def close_pool(self) -> None:
        """Close every pooled connection; the config can be used again afterwards."""


class AsyncDriverConfig(AsyncDatabaseConfig, Generic[C]):
    """An async config over an asynchronous driver (``C`` is its connection type)."""

    #: Whether :meth:`release` may suspend: then the engine shields it from a caller's cancellation
    #: (a task per release); a config whose release awaits nothing says False.
    release_suspends: ClassVar[bool] = True

    async def arun(self, operation: Operation[T]) -> T:
        """Run ``operation`` in one transaction (a write may share it: group commit)."""
        with traced(operation, self.dialect.db_system) as on_retry:
            group = self.group_commit
            if group is not None and operation.write:
                return await group.run(operation, on_retry)
            return await run_async(self, transaction(operation, self.dialect.rules, self, on_retry))

    @cached_property
    def group_commit(self) -> AsyncGroup | None:
        """The group commit of this config's writes (its ``stats`` say what it ran), None when off."""
        if not self.group_commit_cap:
            return None
        slots = self.group_commit_slots()
        return AsyncGroup(self.group_commit_cap, self.dialect.rules, self, partial(run_async, self), slots)

    # ------------------------------------------------------------ driver glue
    @abc.abstractmethod
    async def acquire(self, write: bool) -> C: ...

    @abc.abstractmethod
    async def release(self, connection: C, discard: bool) -> None: ...

    async def refresh(self) -> None:
        """Drop idle connections after one was found dead (default: nothing to drop)."""

    @abc.abstractmethod
    async def execute(self, connection: C, stmt: Stmt) -> Any: ...

    @abc.abstractmethod
    async def command(self, connection: C, sql: str) -> None: ...

    @abc.abstractmethod
    def in_transaction(self, connection: C) -> bool: ...
