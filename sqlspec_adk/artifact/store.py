"""The artifact metadata store contract, async and sync.

Mirrors :mod:`sqlspec_adk.store`: :class:`ArtifactStoreBase` prepares each
operation once from the config's dialect (``dialect.artifacts``), and the async
or sync store runs it in one transaction. The store holds metadata only;
content bytes belong to :class:`~sqlspec_adk.artifact.storage.ArtifactStorage`,
driven by the service, which is why the delete operations return the deleted
rows. Keys arrive as :class:`~sqlspec_adk.records.ArtifactKey`, valid by
construction.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlspec_adk.config import AsyncDatabaseConfig, DatabaseConfig, SyncDatabaseConfig
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.lifecycle import AsyncLifecycle, SyncLifecycle
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import upgrade, upgrade_sync
from sqlspec_adk.protocol import Op, Operation, operation
from sqlspec_adk.records import ArtifactKey, ArtifactRow, ArtifactWrite, validate_scope

__all__ = ["ArtifactStoreBase", "BaseAsyncADKArtifactStore", "BaseSyncADKArtifactStore"]

T = TypeVar("T")
C = TypeVar("C", bound=DatabaseConfig)
AC = TypeVar("AC", bound=AsyncDatabaseConfig)
SC = TypeVar("SC", bound=SyncDatabaseConfig[Any])
Rows = list[ArtifactRow]


class ArtifactStoreBase(Generic[C]):
    """Artifact operations prepared for one config; shared by the async and sync stores."""

    component: ClassVar[str] = "artifacts"

    def __init__(self, config: C) -> None:
        if not config.adk.enable_artifacts:
            raise ConfigError("extension_config['adk']['enable_artifacts'] is false: this config has no artifact table")
        self.config = config
        self.dialect = config.dialect
        self.sql = config.dialect.artifacts

    def _op(self, name: str, build: Any, *, write: bool) -> Operation[T]:
        op: Operation[T] = operation(name, build, write=write, table=self.config.adk.artifact_table)
        return op

    def _save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Operation[int | None]:
        return self._op("save_artifact_version", lambda: self.sql.save_artifact_version(key, write), write=True)

    def _get_artifact_version(self, key: ArtifactKey, version: int | None) -> Operation[ArtifactRow | None]:
        return self._op("get_artifact_version", lambda: self.sql.get_artifact_version(key, version), write=False)

    def _list_artifact_versions(self, key: ArtifactKey) -> Operation[Rows]:
        return self._op("list_artifact_versions", lambda: self.sql.list_artifact_versions(key), write=False)

    def _list_artifact_keys(
        self, *, app_name: str, user_id: str, session_id: str | None, owner_id: Any
    ) -> Operation[list[str]]:
        validate_scope(app_name=app_name, user_id=user_id, session_id=session_id)

        def build() -> Op[list[str]]:
            return self.sql.list_artifact_keys(
                app_name=app_name, user_id=user_id, session_id=session_id, owner=owner_id
            )

        return self._op("list_artifact_keys", build, write=False)

    def _artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> Operation[bool]:
        return self._op("artifact_uri_exists", lambda: self.sql.artifact_uri_exists(key, canonical_uri), write=False)

    def _delete_artifact(self, key: ArtifactKey) -> Operation[Rows]:
        return self._op("delete_artifact", lambda: self.sql.delete_artifact(key), write=True)

    def _delete_artifacts_before(self, *, before: float, app_name: str | None) -> Operation[Rows]:
        cutoff = float(before)
        return self._op(
            "delete_artifacts_before",
            lambda: self.sql.delete_artifacts_before(before=cutoff, app_name=app_name),
            write=True,
        )


class BaseAsyncADKArtifactStore(ArtifactStoreBase[AC], AsyncLifecycle[AC]):
    """Artifact metadata store over an async driver."""

    async def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = await upgrade(self.config)
        mark_current(self.config)
        return version

    async def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> int | None:
        """Insert the next version of ``key``; None means it lost every race (retry in a new transaction)."""
        return await self._arun(self._save_artifact_version(key, write))

    async def get_artifact_version(self, key: ArtifactKey, version: int | None = None) -> ArtifactRow | None:
        """One version's row (newest when ``version`` is None), or None."""
        return await self._arun(self._get_artifact_version(key, version))

    async def list_artifact_versions(self, key: ArtifactKey) -> Rows:
        """Every version's row, oldest first."""
        return await self._arun(self._list_artifact_versions(key))

    async def list_artifact_keys(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> list[str]:
        """Sorted filenames of the session (when given) and of the user scope (``user:`` names), of the owner's."""
        op = self._list_artifact_keys(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return await self._arun(op)

    async def artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> bool:
        """Whether some version of ``key`` records ``canonical_uri``."""
        return await self._arun(self._artifact_uri_exists(key, canonical_uri))

    async def delete_artifact(self, key: ArtifactKey) -> Rows:
        """Delete every version's row (metadata only); returns them so the service drops their content."""
        return await self._arun(self._delete_artifact(key))

    async def delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Rows:
        """Retention: delete rows created before ``before`` (epoch seconds); returns them."""
        return await self._arun(self._delete_artifacts_before(before=before, app_name=app_name))


class BaseSyncADKArtifactStore(ArtifactStoreBase[SC], SyncLifecycle[SC]):
    """Artifact metadata store over a sync driver: the same operations, run on the calling thread."""

    def create_tables(self) -> int:
        """Bring the schema to the newest version (idempotent, safe to run from many processes); returns it."""
        version = upgrade_sync(self.config)
        mark_current(self.config)
        return version

    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> int | None:
        """Insert the next version of ``key``; None means it lost every race (retry in a new transaction)."""
        return self._run(self._save_artifact_version(key, write))

    def get_artifact_version(self, key: ArtifactKey, version: int | None = None) -> ArtifactRow | None:
        """One version's row (newest when ``version`` is None), or None."""
        return self._run(self._get_artifact_version(key, version))

    def list_artifact_versions(self, key: ArtifactKey) -> Rows:
        """Every version's row, oldest first."""
        return self._run(self._list_artifact_versions(key))

    def list_artifact_keys(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner_id: Any = None
    ) -> list[str]:
        """Sorted filenames of the session (when given) and of the user scope (``user:`` names), of the owner's."""
        op = self._list_artifact_keys(app_name=app_name, user_id=user_id, session_id=session_id, owner_id=owner_id)
        return self._run(op)

    def artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> bool:
        """Whether some version of ``key`` records ``canonical_uri``."""
        return self._run(self._artifact_uri_exists(key, canonical_uri))

    def delete_artifact(self, key: ArtifactKey) -> Rows:
        """Delete every version's row (metadata only); returns them so the service drops their content."""
        return self._run(self._delete_artifact(key))

    def delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Rows:
        """Retention: delete rows created before ``before`` (epoch seconds); returns them."""
        return self._run(self._delete_artifacts_before(before=before, app_name=app_name))
