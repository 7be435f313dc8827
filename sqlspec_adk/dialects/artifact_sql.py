"""Artifact metadata SQL, written once for every family.

One row per artifact version, keyed ``(app_name, user_id, scope, filename,
version)``; the content bytes live in fsspec storage and the row records where
(``canonical_uri``), how many bytes (``size_bytes``) and their sha256.

``scope`` is the session id, or :data:`USER_SCOPE` for user-scoped artifacts,
whose stored filename always carries the ``user:`` prefix. ADK's path-segment
rule forbids a leading ``/`` in session ids, so no session can be mistaken for
the user scope.

A save allocates its version inside the write transaction as ``MAX(version) +
1`` and inserts with a conflict-ignoring INSERT: a lost race shows up as zero
rows inserted (not a driver-specific exception), and the caller retries. The
statements here are portable (``?`` placeholders, no LIMIT); a family overrides
:attr:`ArtifactSQL.artifact_insert_sql` (MySQL ``INSERT IGNORE``, Oracle
``MERGE``/hint, Spanner ``INSERT OR IGNORE``) and :meth:`ArtifactSQL.artifact_ddl`
where its DDL differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from google.adk.artifacts.artifact_util import validate_path_segment
from google.adk.errors.input_validation_error import InputValidationError

from sqlspec_adk.converters import decode_state
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import ArtifactRecord

if TYPE_CHECKING:
    from sqlspec_adk.config import ADKConfig

__all__ = [
    "CONTENT_KINDS",
    "KIND_FILE",
    "KIND_INLINE",
    "KIND_REF",
    "KIND_TEXT",
    "USER_PREFIX",
    "USER_SCOPE",
    "ArtifactKey",
    "ArtifactRow",
    "ArtifactSQL",
    "ArtifactWrite",
    "validate_scope",
]

#: Filename prefix that makes an artifact user-scoped (shared by the user's sessions).
USER_PREFIX = "user:"
#: ``scope`` value of user-scoped rows; a leading ``/`` is never a valid session id.
USER_SCOPE = "/user"

#: Stored kinds: raw bytes with a mime type, a text part, a file_data link, an artifact:// reference.
KIND_INLINE = "inline"
KIND_TEXT = "text"
KIND_FILE = "file"
KIND_REF = "ref"
#: Kinds whose bytes live in fsspec storage (the others are metadata only).
CONTENT_KINDS = frozenset({KIND_INLINE, KIND_TEXT})
_KINDS = frozenset({KIND_INLINE, KIND_TEXT, KIND_FILE, KIND_REF})

_COLUMNS = (
    "app_name, user_id, scope, filename, version, kind, mime_type, display_name, "
    "canonical_uri, custom_metadata, create_time, size_bytes, checksum"
)
_KEY_WHERE = "app_name = ? AND user_id = ? AND scope = ? AND filename = ?"


def validate_scope(*, app_name: str, user_id: str, session_id: str | None) -> None:
    """Raise ADK's ``InputValidationError`` unless app, user and (given) session are safe path segments."""
    for name, value in (("app_name", app_name), ("user_id", user_id), ("session_id", session_id)):
        if value is None and name == "session_id":
            continue
        if not isinstance(value, str):
            raise InputValidationError(f"{name} must be a string, got {value!r}")
        validate_path_segment(value, name)
        _require_utf8(value, name)


def _require_utf8(value: str, name: str) -> None:
    """Refuse a lone surrogate: no driver sends one as UTF-8, so it would fail inside the transaction."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputValidationError(
                f"{name} contains a lone surrogate, which UTF-8 cannot store: {value!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class ArtifactKey:
    """Where an artifact's versions live; valid by construction.

    Build it with :meth:`resolve` from ADK's arguments. Direct construction is
    checked too: every segment passes ADK's ``validate_path_segment`` (no
    traversal, absolute path, drive letter or NUL), and ``scope`` is
    :data:`USER_SCOPE` exactly when ``filename`` starts with ``user:``.
    """

    app_name: str
    user_id: str
    scope: str
    filename: str

    def __post_init__(self) -> None:
        for name in ("app_name", "user_id", "scope", "filename"):
            if not isinstance(getattr(self, name), str):
                raise InputValidationError(f"{name} must be a string, got {getattr(self, name)!r}")
        validate_path_segment(self.app_name, "app_name")
        validate_path_segment(self.user_id, "user_id")
        user_scoped = self.filename.startswith(USER_PREFIX)
        if user_scoped != (self.scope == USER_SCOPE):
            raise InputValidationError(
                f"artifact scope {self.scope!r} does not match filename {self.filename!r}: "
                f"user-scoped filenames start with {USER_PREFIX!r}"
            )
        if not user_scoped:
            validate_path_segment(self.scope, "session_id")
        validate_path_segment(self.bare_filename, "filename")
        for name in ("app_name", "user_id", "scope", "filename"):
            _require_utf8(getattr(self, name), name)

    @classmethod
    def resolve(cls, *, app_name: str, user_id: str, filename: str, session_id: str | None) -> ArtifactKey:
        """The key ADK's arguments name; raises ADK's ``InputValidationError`` for a bad segment.

        User scope applies when ``filename`` starts with ``user:`` or
        ``session_id`` is None; its filename is normalized to ``user:`` + the
        bare name, so ``"x"`` saved without a session and ``"user:x"`` are one
        artifact. A given ``session_id`` is validated even for user scope.
        """
        validate_scope(app_name=app_name, user_id=user_id, session_id=session_id)
        if not isinstance(filename, str):
            raise InputValidationError(f"filename must be a string, got {filename!r}")
        if filename.startswith(USER_PREFIX) or session_id is None:
            bare = filename.removeprefix(USER_PREFIX)
            return cls(app_name, user_id, USER_SCOPE, USER_PREFIX + bare)
        return cls(app_name, user_id, session_id, filename)

    @property
    def is_user_scoped(self) -> bool:
        return self.scope == USER_SCOPE

    @property
    def session_id(self) -> str | None:
        """The session of a session-scoped key, None for user scope."""
        return None if self.scope == USER_SCOPE else self.scope

    @property
    def bare_filename(self) -> str:
        """The filename without the ``user:`` prefix."""
        return self.filename.removeprefix(USER_PREFIX)

    def params(self) -> tuple[str, str, str, str]:
        return (self.app_name, self.user_id, self.scope, self.filename)


@dataclass(frozen=True, slots=True)
class ArtifactWrite:
    """The columns of a new version except the version number, prepared before the transaction.

    ``custom_metadata`` is JSON text. For content kinds the bytes are already
    in storage at ``canonical_uri``; for file_data and references
    ``canonical_uri`` is the linked URI and ``size``/``checksum`` describe no bytes.
    """

    kind: str
    mime_type: str | None
    display_name: str | None
    canonical_uri: str
    custom_metadata: str
    create_time: float
    size: int
    checksum: str

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown artifact kind {self.kind!r}")


class ArtifactRow(ArtifactRecord):
    """An :class:`~sqlspec_adk.records.ArtifactRecord` plus how to rebuild the Part."""

    kind: str
    display_name: str | None


class ArtifactSQL:
    """Artifact DDL, statements and operations; mixed into ``BaseDialect``."""

    if TYPE_CHECKING:
        # Provided by BaseDialect, which this mixin is part of.
        adk: ADKConfig
        key_type: ClassVar[str]
        text_type: ClassVar[str]
        json_type: ClassVar[str]
        float_type: ClassVar[str]
        bigint_type: ClassVar[str]

        def table(self, name: str) -> str: ...

        def index_name(self, table: str, suffix: str) -> str: ...

        def json_param(self) -> str: ...

        def json_text(self, text: str) -> str: ...

        def read_json(self, value: Any) -> Any: ...

    #: The SELECT (and RETURNING) list of an artifact row, in :data:`_COLUMNS` order; a family
    #: whose JSON column must be read as text (to undo :meth:`json_text`) casts it here.
    artifact_select_columns: ClassVar[str] = _COLUMNS

    #: Times a save re-reads MAX(version) inside one transaction after losing a race.
    #: Helps under READ COMMITTED; snapshot-isolation families need the caller's retry.
    artifact_insert_attempts: ClassVar[int] = 3

    @cached_property
    def artifact_table(self) -> str:
        return self.table(self.adk.artifact_table)

    # -------------------------------------------------------------------- DDL
    def artifact_ddl(self) -> list[str]:
        """The artifact table and its retention index, idempotent."""
        return [
            f"CREATE TABLE IF NOT EXISTS {self.artifact_table} (\n"
            f"  app_name {self.key_type} NOT NULL,\n  user_id {self.key_type} NOT NULL,\n"
            f"  scope {self.key_type} NOT NULL,\n  filename {self.key_type} NOT NULL,\n"
            f"  version {self.bigint_type} NOT NULL,\n  kind {self.text_type} NOT NULL,\n"
            f"  mime_type {self.text_type},\n  display_name {self.text_type},\n"
            f"  canonical_uri {self.text_type} NOT NULL,\n  custom_metadata {self.json_type} NOT NULL,\n"
            f"  create_time {self.float_type} NOT NULL,\n  size_bytes {self.bigint_type} NOT NULL,\n"
            f"  checksum {self.text_type} NOT NULL,\n"
            "  PRIMARY KEY (app_name, user_id, scope, filename, version)\n)",
            f"CREATE INDEX IF NOT EXISTS {self.index_name(self.adk.artifact_table, 'time_idx')} "
            f"ON {self.artifact_table} (create_time)",
        ]

    # ------------------------------------------------------------- statements
    @cached_property
    def artifact_next_version_sql(self) -> str:
        return f"SELECT COALESCE(MAX(version) + 1, 0) FROM {self.artifact_table} WHERE {_KEY_WHERE}"

    @cached_property
    def artifact_insert_sql(self) -> str:
        """Insert one version; a duplicate key must insert nothing (rowcount 0), not raise."""
        return (
            f"INSERT INTO {self.artifact_table} ({_COLUMNS}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {self.json_param()}, ?, ?, ?) ON CONFLICT DO NOTHING"
        )

    @cached_property
    def artifact_select_version_sql(self) -> str:
        return f"SELECT {self.artifact_select_columns} FROM {self.artifact_table} WHERE {_KEY_WHERE} AND version = ?"

    @cached_property
    def artifact_select_latest_sql(self) -> str:
        # A MAX subquery rather than ORDER BY ... LIMIT 1: portable to every family.
        return (
            f"SELECT {self.artifact_select_columns} FROM {self.artifact_table} WHERE {_KEY_WHERE} AND version = "
            f"(SELECT MAX(version) FROM {self.artifact_table} WHERE {_KEY_WHERE})"
        )

    @cached_property
    def artifact_select_versions_sql(self) -> str:
        return f"SELECT {self.artifact_select_columns} FROM {self.artifact_table} WHERE {_KEY_WHERE} ORDER BY version"

    @cached_property
    def artifact_select_keys_sql(self) -> str:
        return (
            f"SELECT DISTINCT filename FROM {self.artifact_table} "
            "WHERE app_name = ? AND user_id = ? AND scope IN (?, ?)"
        )

    @cached_property
    def artifact_uri_exists_sql(self) -> str:
        return f"SELECT COUNT(*) FROM {self.artifact_table} WHERE {_KEY_WHERE} AND canonical_uri = ?"

    @cached_property
    def artifact_delete_version_sql(self) -> str:
        return f"DELETE FROM {self.artifact_table} WHERE {_KEY_WHERE} AND version = ?"

    def artifact_select_before_sql(self, *, by_app: bool) -> str:
        sql = f"SELECT {self.artifact_select_columns} FROM {self.artifact_table} WHERE create_time < ?"
        return sql + " AND app_name = ?" if by_app else sql

    def artifact_statements(self) -> Iterator[str]:
        """Every fixed artifact statement text (for sqlglot parse checks)."""
        yield from self.artifact_ddl()
        yield self.artifact_next_version_sql
        yield self.artifact_insert_sql
        yield self.artifact_select_version_sql
        yield self.artifact_select_latest_sql
        yield self.artifact_select_versions_sql
        yield self.artifact_select_keys_sql
        yield self.artifact_uri_exists_sql
        yield self.artifact_delete_version_sql
        yield self.artifact_select_before_sql(by_app=False)
        yield self.artifact_select_before_sql(by_app=True)

    def artifact_write_params(self, write: ArtifactWrite) -> tuple[Any, ...]:
        """The parameters of :attr:`artifact_insert_sql` after the key and the version."""
        return (
            write.kind,
            write.mime_type,
            write.display_name,
            write.canonical_uri,
            self.json_text(write.custom_metadata),
            write.create_time,
            write.size,
            write.checksum,
        )

    # ------------------------------------------------------------- operations
    def save_artifact_version(self, key: ArtifactKey, write: ArtifactWrite) -> Op[int | None]:
        """Allocate the next version of ``key`` and insert ``write`` as it; run in a write transaction.

        Returns the version, or None when concurrent writers kept taking the
        number first; the caller then retries in a new transaction.
        """
        for _ in range(self.artifact_insert_attempts):
            row = yield Stmt(self.artifact_next_version_sql, key.params(), Fetch.ONE)
            version = int(row[0])
            params = (*key.params(), version, *self.artifact_write_params(write))
            inserted = yield Stmt(self.artifact_insert_sql, params, Fetch.ROWCOUNT)
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

    def list_artifact_keys(self, *, app_name: str, user_id: str, session_id: str | None) -> Op[list[str]]:
        """Stored filenames of the session (if given) plus the user scope, sorted; user names keep ``user:``."""
        scope = USER_SCOPE if session_id is None else session_id
        rows = yield Stmt(self.artifact_select_keys_sql, (app_name, user_id, scope, USER_SCOPE), Fetch.ALL)
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

    def artifact_row(self, row: Any) -> ArtifactRow:
        """Map a ``SELECT {_COLUMNS}`` row; numbers go through int/float for drivers returning Decimal."""
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
            custom_metadata=decode_state(self.read_json(row[9])),
            create_time=float(row[10]),
            size=int(row[11]),
            checksum=str(row[12]),
        )
