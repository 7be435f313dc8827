"""The artifact metadata store contract, async and sync.

Mirrors :mod:`sqlspec_adk.store`: :class:`ArtifactStoreOps` builds each
operation once from the config's dialect, and the async or sync base runs it in
one transaction. ``arun`` works on both (a sync store runs in a worker thread,
never on the event loop). The store holds metadata only; content bytes belong
to :class:`~sqlspec_adk.artifact.storage.ArtifactStorage`, driven by the
service, which is why the delete operations return the deleted rows.
"""

from __future__ import annotations

from typing import Generic

from sqlspec_adk._runner import AC, SC, AsyncRunner, C, SyncRunner, async_method, sync_method
from sqlspec_adk.dialects.artifact_sql import ArtifactKey, ArtifactRow, ArtifactWrite, validate_scope
from sqlspec_adk.dialects.base import BaseDialect
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.migrations import upgrade
from sqlspec_adk.protocol import Op

__all__ = [
    "ArtifactKey",
    "ArtifactRow",
    "ArtifactStoreOps",
    "ArtifactWrite",
    "BaseAsyncADKArtifactStore",
    "BaseSyncADKArtifactStore",
]


class ArtifactStoreOps(Generic[C]):
    """Builds the artifact operations for one config; shared by the async and sync stores.

    Keys arrive as :class:`ArtifactKey`, which validates its path segments when
    built, so bad input fails before any connection is touched.
    """

    def __init__(self, config: C) -> None:
        if not config.adk.enable_artifacts:
            raise ConfigError("extension_config['adk']['enable_artifacts'] is false: this config has no artifact table")
        self.config = config
        self.dialect: BaseDialect = config.dialect

    def op_create_tables(self) -> Op[int]:
        """Bring the schema to the newest version (idempotent); returns that version."""
        return upgrade(self.dialect)

    def op_save_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        """Insert the next version of ``key``; None means it lost every race (retry in a new transaction)."""
        return self.dialect.save_artifact_version(key, write)

    def op_get_version(self, key: ArtifactKey, version: int | None = None) -> Op[ArtifactRow | None]:
        """One version's row (newest when ``version`` is None), or None."""
        return self.dialect.get_artifact_version(key, version)

    def op_list_versions(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Every version's row, oldest first."""
        return self.dialect.list_artifact_versions(key)

    def op_list_keys(self, *, app_name: str, user_id: str, session_id: str | None = None) -> Op[list[str]]:
        """Sorted filenames of the session (when given) and of the user scope (``user:`` names)."""
        validate_scope(app_name=app_name, user_id=user_id, session_id=session_id)
        return self.dialect.list_artifact_keys(app_name=app_name, user_id=user_id, session_id=session_id)

    def op_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> Op[bool]:
        """Whether some version of ``key`` records ``canonical_uri``."""
        return self.dialect.artifact_uri_exists(key, canonical_uri)

    def op_delete_artifact(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Delete every version's row (metadata only); returns them so the caller (the service) drops their content."""
        return self.dialect.delete_artifact(key)

    def op_delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[list[ArtifactRow]]:
        """Retention: delete rows created before ``before`` (epoch seconds); returns them."""
        return self.dialect.delete_artifacts_before(before=before, app_name=app_name)


class BaseAsyncADKArtifactStore(AsyncRunner[AC], ArtifactStoreOps[AC]):
    """Artifact metadata store over an async driver."""

    create_tables = async_method(ArtifactStoreOps.op_create_tables, write=True)
    save_version = async_method(ArtifactStoreOps.op_save_version, write=True)
    get_version = async_method(ArtifactStoreOps.op_get_version, write=False)
    list_versions = async_method(ArtifactStoreOps.op_list_versions, write=False)
    list_keys = async_method(ArtifactStoreOps.op_list_keys, write=False)
    delete_artifact = async_method(ArtifactStoreOps.op_delete_artifact, write=True)
    delete_artifacts_before = async_method(ArtifactStoreOps.op_delete_artifacts_before, write=True)


class BaseSyncADKArtifactStore(SyncRunner[SC], ArtifactStoreOps[SC]):
    """Artifact metadata store over a sync driver; :meth:`arun` keeps it off the event loop."""

    create_tables = sync_method(ArtifactStoreOps.op_create_tables, write=True)
    save_version = sync_method(ArtifactStoreOps.op_save_version, write=True)
    get_version = sync_method(ArtifactStoreOps.op_get_version, write=False)
    list_versions = sync_method(ArtifactStoreOps.op_list_versions, write=False)
    list_keys = sync_method(ArtifactStoreOps.op_list_keys, write=False)
    delete_artifact = sync_method(ArtifactStoreOps.op_delete_artifact, write=True)
    delete_artifacts_before = sync_method(ArtifactStoreOps.op_delete_artifacts_before, write=True)
