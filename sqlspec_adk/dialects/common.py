"""What every part of a dialect shares: the config's quoted names and how JSON columns bind and read.

A dialect (:mod:`sqlspec_adk.dialects.base`) is made of parts by concern
(sessions, memory, artifacts); each part gets this core, never the whole
dialect, so a part's surface is its own statements plus these few names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.converters import decode_state, encode_state
from sqlspec_adk.identifiers import ColumnDefinition, quote_identifier
from sqlspec_adk.protocol import Fetch, Stmt
from sqlspec_adk.settings import ADKConfig

__all__ = ["EVENT_KEY_ROOM", "DialectCore", "JsonCodec", "key_part_bytes"]

#: Room a session's key leaves for its events' keys: ``seq`` and the event id (the events' unique index),
#: at ADK's 36-character uuid4 event ids. A session whose events could not be stored is refused at create.
EVENT_KEY_ROOM = 8 + 36


def key_part_bytes(value: object) -> int:
    """One key column's bytes: a string's UTF-8, bytes as they are, a number 8."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    return 8


class JsonCodec:
    """How a family binds JSON text to a JSON column and reads it back (text, bytes or decoded)."""

    #: Placeholder expression binding JSON text to a JSON column.
    param: ClassVar[str] = "?"

    def text(self, text: str) -> str:
        """JSON text as bound; a family whose column refuses some text escapes it here."""
        return text

    def read(self, value: Any) -> Any:
        """A JSON column's value as read back: the inverse of :meth:`text` (None passes through)."""
        return value

    def select(self, column: str) -> str:
        """``column`` (a JSON column) as a SELECT list item whose value :meth:`read` takes."""
        return column

    def state(self, state: Mapping[str, Any]) -> str:
        """A state mapping as the bound JSON text of a state column."""
        return self.text(encode_state(state))

    def read_state(self, value: Any) -> dict[str, Any]:
        """A stored state column (None when there is no row) as a mapping."""
        return decode_state(self.read(value))


class DialectCore:
    """One SQL family's quoting plus one config's table names, owner column and JSON codec."""

    #: sqlglot dialect name used for quoting and statement checks.
    sqlglot_name: ClassVar[str] = ""
    #: Identifiers are folded to upper case before quoting (Oracle).
    upper_identifiers: ClassVar[bool] = False
    #: Longest index name the family accepts.
    max_identifier: ClassVar[int] = 63
    json_codec_class: ClassVar[type[JsonCodec]] = JsonCodec
    #: The row-limit clause, with one ``?``.
    limit_sql: ClassVar[str] = "LIMIT ?"
    #: What a SELECT without a table needs (Oracle: `` FROM dual``).
    no_table: ClassVar[str] = ""
    #: Whether :meth:`insert_skip_sql` reports a lost race as a duplicate-key error (then counted as 0 rows).
    insert_skip_raises: ClassVar[bool] = False
    #: A flag column's true and false as bound (families without a boolean type store 1 and 0).
    true_value: ClassVar[Any] = True
    false_value: ClassVar[Any] = False

    def __init__(self, adk: ADKConfig) -> None:
        self.adk = adk
        self.owner: ColumnDefinition | None = adk.owner_id_column
        self.json = self.json_codec_class()
        #: The family's largest key or index entry in bytes (None: none that ids can reach); the
        #: :class:`~sqlspec_adk.dialects.base.Dialect` sets it on each of its parts.
        self.max_key_bytes: int | None = None
        #: The characters each id column holds (None: no limit), set as :attr:`max_key_bytes` is.
        self.max_id_chars: int | None = None
        self.key_label = ""

    def check_key(self, what: str, fixed: int, **parts: object) -> None:
        """Refuse ids (name -> value; None: no value) whose key, with ``fixed`` bytes more for its other
        columns, would be over :attr:`max_key_bytes`, or an id longer than :attr:`max_id_chars` (the owner is
        the configured column's own); run before any statement of the operation."""
        self.check_id_chars(**{name: value for name, value in parts.items() if name != "owner_id"})
        limit = self.max_key_bytes
        if limit is None:
            return
        sizes = {name: key_part_bytes(value) for name, value in parts.items() if value is not None}
        total = sum(sizes.values())
        if total + fixed > limit:
            shown = ", ".join(f"{name} {size:,}" for name, size in sizes.items())
            raise ValueError(
                f"{what}: these ids take {total:,} bytes of UTF-8 ({shown}); a {self.key_label} key holds at most "
                f"{limit:,} bytes and its other columns need {fixed}, so these may total {limit - fixed:,}"
            )

    def scoped(self, owner: Any) -> bool:
        """Whether ``owner`` limits a call to one owner's rows (an owner column is configured and one is given)."""
        return self.owner is not None and owner is not None

    def scope_sql(self, owner: Any, alias: str = "") -> str:
        """``app_name = ? AND user_id = ?``, plus the owner condition when the call is scoped (:meth:`scoped`)."""
        prefix = f"{alias}." if alias else ""
        sql = f"{prefix}app_name = ? AND {prefix}user_id = ?"
        return f"{sql} AND {prefix}{self.owner.name} = ?" if self.owner is not None and owner is not None else sql

    def scope_params(self, app_name: str, user_id: str, owner: Any) -> tuple[Any, ...]:
        """The parameters of :meth:`scope_sql`."""
        return (app_name, user_id, owner) if self.scoped(owner) else (app_name, user_id)

    def quote(self, name: str) -> str:
        """A validated identifier, quoted (upper-cased first where the family folds names)."""
        return quote_identifier(name.upper() if self.upper_identifiers else name, self.sqlglot_name)

    def table(self, name: str) -> str:
        """Quoted, schema-qualified table name."""
        return f"{self.quote(self.adk.schema)}.{self.quote(name)}" if self.adk.schema else self.quote(name)

    def index_name(self, table: str, suffix: str) -> str:
        """Quoted index name derived from a table name (not schema-qualified)."""
        return self.quote(f"{table}_{suffix}"[: self.max_identifier])

    def check_id_chars(self, **ids: object) -> None:
        """Refuse an id (name -> value) longer than its column holds (:attr:`max_id_chars`)."""
        chars = self.max_id_chars
        if chars is None:
            return
        for name, value in ids.items():
            if isinstance(value, str) and len(value) > chars:
                raise ValueError(
                    f"{name} is {len(value)} characters long; the {self.key_label} schema stores at most "
                    f"{chars} (got {value[:40]!r}...)"
                )

    @cached_property
    def session_table(self) -> str:
        return self.table(self.adk.session_table)

    @cached_property
    def events_table(self) -> str:
        return self.table(self.adk.events_table)

    @cached_property
    def app_state_table(self) -> str:
        return self.table(self.adk.app_state_table)

    @cached_property
    def user_state_table(self) -> str:
        return self.table(self.adk.user_state_table)

    @cached_property
    def metadata_table(self) -> str:
        return self.table(self.adk.metadata_table)

    @cached_property
    def memory_table(self) -> str:
        return self.table(self.adk.memory_table)

    @cached_property
    def artifact_table(self) -> str:
        return self.table(self.adk.artifact_table)

    def insert_skip_sql(self, table: str, columns: Sequence[str], values: Sequence[str], keys: Sequence[str]) -> str:
        """Insert one row unless a row with the same unique key exists (then 0 rows change).

        The portable form is ``ON CONFLICT DO NOTHING``: no conflict target, so
        every unique key is an arbiter and racing writers never raise.
        """
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) ON CONFLICT DO NOTHING"

    def insert_skip(self, sql: str, params: Sequence[Any]) -> Stmt:
        """A statement of :meth:`insert_skip_sql`, run for the number of rows it inserted."""
        return Stmt(sql, params, Fetch.ROWCOUNT, duplicate_is_zero=self.insert_skip_raises)
