"""PostgreSQL artifact SQL: one statement per operation, sent alone.

A save allocates and inserts in one statement (the version is the
``MAX(version) + 1`` subquery inside the VALUES list); a lost race inserts
nothing and returns no row, and the caller retries in a new transaction.
Deletes return exactly the rows they deleted (``DELETE ... RETURNING``), so
their content can be removed without a second read.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from sqlspec_adk.dialects.artifacts import ARTIFACT_COLUMNS, KEY_WHERE, ArtifactSQL
from sqlspec_adk.dialects.postgres.core import PostgresCore, alone, memoized
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import ArtifactKey, ArtifactRow, ArtifactWrite

__all__ = ["PostgresArtifactSQL"]


class PostgresArtifactSQL(PostgresCore, ArtifactSQL):
    """One-statement saves and RETURNING deletes."""

    def artifact_save_sql(self) -> str:
        """Insert the next version of a key in one statement; ``RETURNING version``, no row after a lost race.

        Parameters: the key, the key again (for the version subquery), then
        the version's columns (:meth:`artifact_write_params`). Composed on
        each call from :attr:`artifact_next_version_sql`, so it follows that
        statement wherever it is replaced.
        """
        values = self.insert_values(version=f"({self.artifact_next_version_sql})")
        keys = ARTIFACT_COLUMNS[:5]
        return self.insert_skip_sql(self.artifact_table, self.insert_columns, values, keys, returning="version")

    @cached_property
    def artifact_delete_key_sql(self) -> str:
        return f"DELETE FROM {self.artifact_table} WHERE {KEY_WHERE} RETURNING {self.select_columns}"

    @memoized
    def artifact_delete_before_sql(self, *, by_app: bool) -> str:
        sql = f"DELETE FROM {self.artifact_table} WHERE create_time < ?" + (" AND app_name = ?" if by_app else "")
        return f"{sql} RETURNING {self.select_columns}"

    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        """One statement; None after a lost race, which the caller retries in a new transaction."""
        self.check_artifact_key(key, write)
        params = (*key.params(), *key.params(), *self.artifact_write_params(write))
        row = yield Stmt(self.artifact_save_sql(), params, Fetch.ONE, alone=True)
        return None if row is None else int(row[0])

    def get_artifact_version(self, key: ArtifactKey, version: int | None = None) -> Op[ArtifactRow | None]:
        return alone(super().get_artifact_version(key, version))

    def list_artifact_versions(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        return alone(super().list_artifact_versions(key))

    def list_artifact_keys(
        self, *, app_name: str, user_id: str, session_id: str | None, owner: Any = None
    ) -> Op[list[str]]:
        return alone(super().list_artifact_keys(app_name=app_name, user_id=user_id, session_id=session_id, owner=owner))

    def artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> Op[bool]:
        return alone(super().artifact_uri_exists(key, canonical_uri))

    def delete_artifact(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Delete every version and return exactly the deleted rows, oldest first, in one statement."""
        rows = yield Stmt(self.artifact_delete_key_sql, key.params(), Fetch.ALL, alone=True)
        return sorted((self.artifact_row(row) for row in rows), key=lambda row: row["version"])

    def delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[list[ArtifactRow]]:
        """Retention in one statement: the rows returned are exactly the rows deleted."""
        params: tuple[Any, ...] = (float(before),) if app_name is None else (float(before), app_name)
        rows = yield Stmt(self.artifact_delete_before_sql(by_app=app_name is not None), params, Fetch.ALL, alone=True)
        return [self.artifact_row(row) for row in rows]

    def count_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        return alone(super().count_artifacts_before(before=before, app_name=app_name))

    def statements(self) -> list[str]:
        return [
            *super().statements(),
            self.artifact_save_sql(),
            self.artifact_delete_key_sql,
            self.artifact_delete_before_sql(by_app=False),
            self.artifact_delete_before_sql(by_app=True),
        ]
