"""Artifact metadata SQL, written once for every family.

One row per artifact version, keyed ``(app_name, user_id, scope, filename,
version)``; the content bytes live in fsspec storage and the row records where
(``canonical_uri``), how many bytes (``size_bytes``) and their sha256.

``scope`` is the session id, or :data:`~sqlspec_adk.records.USER_SCOPE` for
user-scoped artifacts, whose stored filename always carries the ``user:``
prefix. ADK's path-segment rule forbids a leading ``/`` in session ids, so no
session can be mistaken for the user scope.

A save allocates its version inside the write transaction as ``MAX(version) +
1`` and inserts with the family's skip-if-present insert
(:meth:`~sqlspec_adk.dialects.common.DialectCore.insert_skip_sql`): a lost race
shows up as zero rows inserted, not a driver-specific exception, and the caller
retries.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.converters import decode_state
from sqlspec_adk.dialects.common import DialectCore, key_part_bytes
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import ArtifactKey, ArtifactRow, ArtifactWrite, scope_of

__all__ = ["ARTIFACT_COLUMNS", "KEY_WHERE", "ArtifactSQL"]

#: The stored columns of a version, in the order :meth:`ArtifactSQL.artifact_row` reads them.
ARTIFACT_COLUMNS = (
    "app_name",
    "user_id",
    "scope",
    "filename",
    "version",
    "kind",
    "mime_type",
    "display_name",
    "canonical_uri",
    "custom_metadata",
    "create_time",
    "size_bytes",
    "checksum",
)
KEY_WHERE = "app_name = ? AND user_id = ? AND scope = ? AND filename = ?"


class ArtifactSQL(DialectCore):
    """Artifact statements and operations; a family subclasses it with its own core mixin."""

    #: Times a save re-reads MAX(version) inside one transaction after losing a race.
    #: Helps under READ COMMITTED; snapshot-isolation families need the caller's retry.
    insert_attempts: ClassVar[int] = 3

    @cached_property
    def select_columns(self) -> str:
        """The SELECT (and RETURNING) list of a version, :data:`ARTIFACT_COLUMNS` as :meth:`artifact_row` reads it."""
        return ", ".join(self.json.select(c) if c == "custom_metadata" else c for c in ARTIFACT_COLUMNS)

    # ------------------------------------------------------------- statements
    @cached_property
    def artifact_next_version_sql(self) -> str:
        return f"SELECT COALESCE(MAX(version) + 1, 0) FROM {self.artifact_table} WHERE {KEY_WHERE}"

    @cached_property
    def insert_columns(self) -> tuple[str, ...]:
        """The columns a save writes: :data:`ARTIFACT_COLUMNS`, then the owner column when one is configured."""
        return (*ARTIFACT_COLUMNS, self.owner.name) if self.owner is not None else ARTIFACT_COLUMNS

    def insert_values(self, version: str = "?") -> list[str]:
        """The VALUES items of :attr:`insert_columns`, with ``version`` as the fifth."""
        values = ["?", "?", "?", "?", version, "?", "?", "?", "?", self.json.param, "?", "?", "?"]
        return [*values, "?"] if self.owner is not None else values

    @cached_property
    def artifact_insert_sql(self) -> str:
        """Insert one version; a version number taken concurrently inserts nothing (0 rows)."""
        return self.insert_skip_sql(
            self.artifact_table, self.insert_columns, self.insert_values(), ARTIFACT_COLUMNS[:5]
        )

    @cached_property
    def artifact_select_version_sql(self) -> str:
        return f"SELECT {self.select_columns} FROM {self.artifact_table} WHERE {KEY_WHERE} AND version = ?"

    @cached_property
    def artifact_select_latest_sql(self) -> str:
        # A MAX subquery rather than ORDER BY ... LIMIT 1: portable to every family.
        return (
            f"SELECT {self.select_columns} FROM {self.artifact_table} WHERE {KEY_WHERE} AND version = "
            f"(SELECT MAX(version) FROM {self.artifact_table} WHERE {KEY_WHERE})"
        )

    @cached_property
    def artifact_select_versions_sql(self) -> str:
        return f"SELECT {self.select_columns} FROM {self.artifact_table} WHERE {KEY_WHERE} ORDER BY version"

    @cached_property
    def artifact_select_keys_sql(self) -> str:
        return (
            f"SELECT DISTINCT filename FROM {self.artifact_table} "
            "WHERE app_name = ? AND user_id = ? AND scope IN (?, ?)"
        )

    @cached_property
    def artifact_uri_exists_sql(self) -> str:
        return f"SELECT COUNT(*) FROM {self.artifact_table} WHERE {KEY_WHERE} AND canonical_uri = ?"

    @cached_property
    def artifact_delete_version_sql(self) -> str:
        return f"DELETE FROM {self.artifact_table} WHERE {KEY_WHERE} AND version = ?"

    def artifact_select_before_sql(self, *, by_app: bool) -> str:
        sql = f"SELECT {self.select_columns} FROM {self.artifact_table} WHERE create_time < ?"
        return sql + " AND app_name = ?" if by_app else sql

    def statements(self) -> list[str]:
        """Every fixed statement text of this part (for parse checks)."""
        return [
            self.artifact_next_version_sql,
            self.artifact_insert_sql,
            self.artifact_select_version_sql,
            self.artifact_select_latest_sql,
            self.artifact_select_versions_sql,
            self.artifact_select_keys_sql,
            self.artifact_uri_exists_sql,
            self.artifact_delete_version_sql,
            self.artifact_select_before_sql(by_app=False),
            self.artifact_select_before_sql(by_app=True),
        ]

    def artifact_write_params(self, write: ArtifactWrite) -> tuple[Any, ...]:
        """The parameters of :attr:`artifact_insert_sql` after the key and the version."""
        params = (
            write.kind,
            write.mime_type,
            write.display_name,
            write.canonical_uri,
            self.json.text(write.custom_metadata),
            write.create_time,
            write.size,
            write.checksum,
        )
        return (*params, write.owner_id) if self.owner is not None else params

    # ------------------------------------------------------------- operations
    def check_artifact_key(self, key: ArtifactKey, write: ArtifactWrite) -> None:
        """Refuse ids too long for the family's keys, before any statement: the key holds the version, and
        an index may add two numbers (a shard id and a time) or the owner."""
        owner = write.owner_id if self.owner else None
        extra = max(16, key_part_bytes(owner) if owner is not None else 0)
        self.check_key(
            "artifact", 8 + extra, app_name=key.app_name, user_id=key.user_id, scope=key.scope, filename=key.filename
        )

    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        """Allocate the next version of ``key`` and insert ``write`` as it; run in a write transaction.

        Returns the version, or None when concurrent writers kept taking the
        number first; the caller then retries in a new transaction.
        """
        self.check_artifact_key(key, write)
        for _ in range(self.insert_attempts):
            row = yield Stmt(self.artifact_next_version_sql, key.params(), Fetch.ONE)
            version = int(row[0])
            params = (*key.params(), version, *self.artifact_write_params(write))
            inserted = yield self.insert_skip(self.artifact_insert_sql, params)
            if inserted == 1:
                return version
        return None

    def get_artifact_version(self, key: ArtifactKey, version: int | None = None) -> Op[ArtifactRow | None]:
        """One version of ``key`` (the newest when ``version`` is None), or None."""
        if version is None:
            row = yield Stmt(self.artifact_select_latest_sql, (*key.params(), *key.params()), Fetch.ONE)
        else:
            row = yield Stmt(self.artifact_select_version_sql, (*key.params(), version), Fetch.ONE)
        return self.artifact_row(row) if row is not None else None

    def list_artifact_versions(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Every version of ``key``, oldest first."""
        rows = yield Stmt(self.artifact_select_versions_sql, key.params(), Fetch.ALL)
        return [self.artifact_row(row) for row in rows]

    def list_artifact_keys(
        self, *, app_name: str, user_id: str, session_id: str | None, owner: Any = None
    ) -> Op[list[str]]:
        """Stored filenames of the session (if given) plus the user scope, sorted; user names keep ``user:``."""
        user_scope = scope_of(None, owner)
        scope = user_scope if session_id is None else scope_of(session_id, owner)
        rows = yield Stmt(self.artifact_select_keys_sql, (app_name, user_id, scope, user_scope), Fetch.ALL)
        # Sorted here, not by ORDER BY: collations differ per database, Python order does not.
        return sorted({str(row[0]) for row in rows})

    def artifact_uri_exists(self, key: ArtifactKey, canonical_uri: str) -> Op[bool]:
        """Whether a version of ``key`` records ``canonical_uri`` (did a failed save commit after all?)."""
        row = yield Stmt(self.artifact_uri_exists_sql, (*key.params(), canonical_uri), Fetch.ONE)
        return bool(row and int(row[0]))

    def delete_artifact_rows(self, rows: list[ArtifactRow]) -> Op[None]:
        """Delete exactly ``rows`` by primary key.

        By key, not by a range: a version committed concurrently after the
        caller's read is neither deleted nor left without its content.
        """
        if rows:
            params = [(r["app_name"], r["user_id"], r["scope"], r["filename"], r["version"]) for r in rows]
            yield Stmt(self.artifact_delete_version_sql, params, many=True)

    def delete_artifact(self, key: ArtifactKey) -> Op[list[ArtifactRow]]:
        """Delete every version of ``key``; return the deleted rows so their content can be removed."""
        rows = yield from self.list_artifact_versions(key)
        yield from self.delete_artifact_rows(rows)
        return rows

    def delete_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[list[ArtifactRow]]:
        """Delete versions created before ``before`` (optionally one app); return the deleted rows."""
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        found = yield Stmt(self.artifact_select_before_sql(by_app=app_name is not None), params, Fetch.ALL)
        rows = [self.artifact_row(row) for row in found]
        yield from self.delete_artifact_rows(rows)
        return rows

    def count_artifacts_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention dry run: versions :meth:`delete_artifacts_before` would remove."""
        sql = f"SELECT COUNT(*) FROM {self.artifact_table} WHERE create_time < ?"
        params: tuple[Any, ...] = (before,) if app_name is None else (before, app_name)
        row = yield Stmt(sql + (" AND app_name = ?" if app_name is not None else ""), params, Fetch.ONE)
        return int(row[0])

    def artifact_row(self, row: Any) -> ArtifactRow:
        """Map a row of :attr:`select_columns`; numbers go through int/float for drivers returning Decimal."""
        return ArtifactRow(
            app_name=str(row[0]),
            user_id=str(row[1]),
            scope=str(row[2]),
            filename=str(row[3]),
            version=int(row[4]),
            kind=str(row[5]),
            mime_type=None if row[6] is None else str(row[6]),
            display_name=None if row[7] is None else str(row[7]),
            canonical_uri=str(row[8]),
            custom_metadata=decode_state(self.json.read(row[9])),
            create_time=float(row[10]),
            size=int(row[11]),
            checksum=str(row[12]),
        )
