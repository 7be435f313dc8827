"""A dialect: one SQL family bound to one config's settings, made of parts by concern.

- :attr:`Dialect.sessions` (:class:`~sqlspec_adk.dialects.sessions.SessionSQL`),
  :attr:`Dialect.memory` (:class:`~sqlspec_adk.dialects.memory.MemorySQL`) and
  :attr:`Dialect.artifacts` (:class:`~sqlspec_adk.dialects.artifacts.ArtifactSQL`)
  hold the statements and operations (generators of statements, see
  :mod:`sqlspec_adk.protocol`) and map results back;
- :attr:`Dialect.rules` says how the family runs a transaction; the engine acts
  on it;
- the schema (DDL) is in :mod:`sqlspec_adk.migrations`, one module per version.

A family module subclasses the parts it changes and names them here. A
dialect holds SQL only: no driver, thread, clock or event loop.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlspec_adk.backend_options import check_family
from sqlspec_adk.dialects.artifacts import ArtifactSQL
from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.sessions import SessionSQL, session_not_found
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.protocol import Fetch, Op, Stmt, TransactionRules
from sqlspec_adk.records import AppendResult, SessionSnapshot
from sqlspec_adk.settings import ADKConfig

__all__ = ["Dialect"]


class Dialect(DialectCore):
    """A SQL family: its parts, its transaction rules and what the schema needs to know of it."""

    #: The family, as the migrations and the capability profile name it.
    family: ClassVar[str] = ""
    #: OpenTelemetry ``db.system.name``.
    db_system: ClassVar[str] = ""
    rules: ClassVar[TransactionRules] = TransactionRules()
    sessions_class: ClassVar[type[SessionSQL]] = SessionSQL
    memory_class: ClassVar[type[MemorySQL]] = MemorySQL
    artifacts_class: ClassVar[type[ArtifactSQL]] = ArtifactSQL
    #: Whether the family has a native full-text search (its memory part's).
    has_fts: ClassVar[bool] = False
    #: The family's largest key or index entry in bytes that ids could pass (None: none they can reach).
    key_limit: ClassVar[int | None] = None
    #: The characters each id column holds (None: no limit), where the schema gives every id one size.
    key_chars: ClassVar[int | None] = None
    #: The family's name in a key-size refusal.
    key_family: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.has_fts = cls.memory_class.has_fts

    def __init__(self, adk: ADKConfig) -> None:
        # A per-backend option given to another family's config fails here, when the config is built.
        check_family(adk.backend.given, self.family)
        if adk.memory_follows_sessions and not adk.enable_memory:
            raise ConfigError(
                "extension_config['adk']['memory_follows_sessions'] deletes a session's memory in the same "
                "transaction, so the memory table must be in this database: enable_memory must not be false"
            )
        super().__init__(adk)
        self.sessions = self.sessions_class(adk)
        self.memory = self.memory_class(adk)
        self.artifacts = self.artifacts_class(adk)
        for part in (self, self.sessions, self.memory, self.artifacts):
            part.max_key_bytes = self.key_limit
            part.max_id_chars = self.key_chars
            part.key_label = self.key_family or self.family

    # A session belongs to one owner for good, so an owner-scoped call checks that first (one primary-key
    # lookup in the same transaction) and then runs the family's own statements unchanged.
    def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        num_recent_events: int | None = None,
        after_timestamp: float | None = None,
        skip_compacted: bool = False,
        owner: Any = None,
    ) -> Op[SessionSnapshot | None]:
        """The session (see :meth:`SessionSQL.get_session`); None when it belongs to another ``owner``."""
        if self.sessions.scoped(owner) and not (
            yield from self.sessions.session_owned((app_name, user_id, session_id), owner)
        ):
            return None
        return (
            yield from self.sessions.get_session(
                app_name=app_name,
                user_id=user_id,
                session_id=session_id,
                num_recent_events=num_recent_events,
                after_timestamp=after_timestamp,
                skip_compacted=skip_compacted,
            )
        )

    def append_event(self, *, owner: Any = None, **fields: Any) -> Op[AppendResult]:
        """One append: ``fields`` are :meth:`SessionSQL.append_event`'s keywords; another owner's session is
        not found."""
        keys = (fields["app_name"], fields["user_id"], fields["session_id"])
        if self.sessions.scoped(owner) and not (yield from self.sessions.session_owned(keys, owner)):
            raise session_not_found(keys)
        return (yield from self.sessions.append_event(**fields))

    def delete_session(self, *, app_name: str, user_id: str, session_id: str, owner: Any = None) -> Op[int]:
        """Delete a session and its events, and with ``memory_follows_sessions`` its memory entries; 0 or 1.

        Another ``owner``'s session is left alone (0).
        """
        keys = (app_name, user_id, session_id)
        if self.sessions.scoped(owner) and not (yield from self.sessions.session_owned(keys, owner)):
            return 0
        deleted = yield from self.sessions.delete_session(app_name=app_name, user_id=user_id, session_id=session_id)
        if self.adk.memory_follows_sessions:
            yield from self.memory.delete_user_memory(app_name=app_name, user_id=user_id, session_id=session_id)
        return deleted

    def delete_idle_sessions(self, *, before: float, app_name: str | None = None) -> Op[int]:
        """Retention of idle sessions (their events too, and their memory with ``memory_follows_sessions``)."""
        if self.adk.memory_follows_sessions:
            yield from self.memory.delete_idle_sessions_memory(before=before, app_name=app_name)
        return (yield from self.sessions.delete_idle_sessions(before=before, app_name=app_name))

    def count_rows(self, table: str) -> Op[int]:
        """The number of rows of a quoted table name."""
        row = yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE, alone=True)
        return int(row[0])

    def statements(self) -> list[str]:
        """Every fixed statement text of the dialect's parts (for parse checks)."""
        texts = self.sessions.statements() if self.adk.enable_sessions else []
        if self.adk.enable_memory:
            texts += self.memory.statements()
        if self.adk.enable_artifacts:
            texts += self.artifacts.statements()
        return texts
