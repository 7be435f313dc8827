"""What each backend supports, as data: ``store.capabilities``, ``sqlspec-adk doctor`` and the support matrix.

A :class:`Capabilities` is the profile of one SQL family, or of one adapter
(the family's profile plus the driver's mode). Facts the code already holds
are read from it, so the profile cannot disagree with what runs:

- ``savepoints``: the dialect's :class:`~sqlspec_adk.protocol.TransactionRules`;
- ``transactional_ddl``: the migration runner's strategy for the family
  (one transaction, or statements that commit one by one);
- ``group_commit``: :data:`sqlspec_adk.config.GROUP_COMMIT_DEFAULTS`;
- ``full_text``: the family's kind when its memory part has full-text search
  (``has_fts``), else ``like-fallback``;
- ``options``: the per-backend ``extension_config["adk"]`` keys
  (:data:`sqlspec_adk.backend_options.FAMILY_KEYS`).

- ``vector``: the memory part's ``stores_vectors`` and ``vector_ranking``
  (:func:`vector_kind`).

The rest is stated here, per family, in :data:`_FAMILY_FACTS`. ``tools/support_matrix.py`` renders
the feature columns of ``docs/support-matrix.md`` from these profiles, and a
test compares the committed page with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlspec_adk.backend_options import FAMILY_KEYS, FAMILY_NAMES
from sqlspec_adk.config import GROUP_COMMIT_DEFAULTS
from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.dialects.cockroach import CockroachDialect
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.dialects.mysql import MysqlDialect
from sqlspec_adk.dialects.oracle import OracleDialect
from sqlspec_adk.dialects.postgres import PostgresDialect
from sqlspec_adk.dialects.spanner import SpannerDialect
from sqlspec_adk.dialects.sqlite import SqliteDialect
from sqlspec_adk.migrations.runner import transactional_ddl

if TYPE_CHECKING:
    from sqlspec_adk.config import DatabaseConfig

__all__ = ["FAMILIES", "NATIVE_WHEN_AVAILABLE", "Capabilities", "config_profile", "profile", "vector_kind"]

#: The dialect of each family, in the order the docs list them.
FAMILIES: dict[str, type[Dialect]] = {
    "sqlite": SqliteDialect,
    "postgresql": PostgresDialect,
    "cockroachdb": CockroachDialect,
    "mysql": MysqlDialect,
    "duckdb": DuckdbDialect,
    "oracle": OracleDialect,
    "spanner": SpannerDialect,
}
_FULL_TEXT_KINDS = {
    "sqlite": "fts5",
    "postgresql": "tsvector",
    "cockroachdb": "tsvector",
    "mysql": "fulltext",
    "duckdb": "duckdb-fts",
    "oracle": "oracle-text",
    "spanner": "spanner-search",
}
#: Families whose store ranks vectors itself unless the server has the family's vector type: the one
#: vector fact the dialects decide at run time (pgvector's index, Oracle 23ai); see :func:`vector_kind`.
NATIVE_WHEN_AVAILABLE = frozenset({"postgresql", "oracle"})


def vector_kind(dialect: type[Dialect]) -> str:
    """Where semantic search ranks vectors: ``native`` (the database, in SQL), ``fallback`` (the store, over
    the stored vectors), ``native-if-available`` (the database where the server has it, else the store),
    ``none`` (the family stores no vectors). Read from the memory part (issue 15's ``stores_vectors`` and
    ``vector_ranking``): the one place to update if vector search gains another kind."""
    memory = dialect.memory_class
    if not memory.stores_vectors:
        return "none"
    if memory.vector_ranking == "sql":
        return "native"
    return "native-if-available" if dialect.family in NATIVE_WHEN_AVAILABLE else "fallback"


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the library does on a family that no other module states."""

    concurrent_writers: bool = True
    partitioning: tuple[str, ...] = ()
    compression: tuple[str, ...] = ()
    in_memory: bool = False
    native_ttl: tuple[str, ...] = ()
    sharding: tuple[str, ...] = ()
    json_storage: str = "text"


_FAMILY_FACTS = {
    # One writer per database at a time: a process-wide lock per file, and SQLite's own between processes.
    "sqlite": _Facts(concurrent_writers=False, json_storage="text (json1)"),
    "postgresql": _Facts(json_storage="jsonb"),
    "cockroachdb": _Facts(json_storage="jsonb"),
    "mysql": _Facts(json_storage="json (checked)"),
    # One writer: the adapter holds the database file's one connection slot.
    "duckdb": _Facts(concurrent_writers=False, json_storage="json"),
    "oracle": _Facts(
        partitioning=("hash", "range"),
        compression=("basic", "advanced"),
        in_memory=True,
        json_storage="native json on 21c+, checked clob before",
    ),
    "spanner": _Facts(native_ttl=("events", "memory", "artifacts"), sharding=("hash",), json_storage="string"),
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """One backend's profile. ``adapter`` and ``mode`` (``sync``/``async``) are None for a family's own.

    ``group_commit``: ``on`` (the default), ``off`` (available, opt-in with ``group_commit``) or
    ``unavailable``. ``native_ttl``: the tables the database itself expires from the ``retention_*``
    settings (everywhere else, and for the other tables, ``sqlspec-adk prune`` does). ``options``:
    the per-backend ``extension_config["adk"]`` keys this backend accepts.
    """

    family: str
    backend: str
    full_text: str
    vector: str
    transactional_ddl: bool
    savepoints: bool
    concurrent_writers: bool
    group_commit: str
    json_storage: str
    partitioning: tuple[str, ...]
    compression: tuple[str, ...]
    in_memory: bool
    native_ttl: tuple[str, ...]
    sharding: tuple[str, ...]
    options: tuple[str, ...]
    adapter: str | None = None
    mode: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs in plain words, in a stable order (what ``doctor`` prints)."""

        def listed(values: tuple[str, ...]) -> str:
            return ", ".join(values) if values else "no"

        pairs = [("backend", self.backend + (f" ({self.adapter}, {self.mode})" if self.adapter else ""))]
        pairs += [
            ("full-text search", self.full_text),
            ("vector search", self.vector),
            ("JSON storage", self.json_storage),
            ("transactional DDL", "yes" if self.transactional_ddl else "no"),
            ("savepoints", "yes" if self.savepoints else "no"),
            ("concurrent writers", "yes" if self.concurrent_writers else "no (one writer at a time)"),
            ("group commit", self.group_commit),
            ("partitioning", listed(self.partitioning)),
            ("compression", listed(self.compression)),
            ("in-memory column store", "yes" if self.in_memory else "no"),
            ("native TTL", listed(self.native_ttl)),
            ("sharding", listed(self.sharding)),
            ("backend options", listed(self.options)),
        ]
        return pairs


def profile(family: str, *, adapter: str | None = None, is_async: bool | None = None) -> Capabilities:
    """The profile of ``family`` (a dialect's ``family``), or of one of its adapters."""
    dialect = FAMILIES.get(family)
    if dialect is None:
        raise ValueError(f"unknown SQL family {family!r}; known: {', '.join(FAMILIES)}")
    facts = _FAMILY_FACTS[family]
    group = "unavailable" if family not in GROUP_COMMIT_DEFAULTS else ("on" if GROUP_COMMIT_DEFAULTS[family] else "off")
    return Capabilities(
        family=family,
        backend=FAMILY_NAMES[family],
        full_text=_FULL_TEXT_KINDS[family] if dialect.has_fts else "like-fallback",
        vector=vector_kind(dialect),
        transactional_ddl=transactional_ddl(family),
        savepoints=dialect.rules.savepoints,
        concurrent_writers=facts.concurrent_writers,
        group_commit=group,
        json_storage=facts.json_storage,
        partitioning=facts.partitioning,
        compression=facts.compression,
        in_memory=facts.in_memory,
        native_ttl=facts.native_ttl,
        sharding=facts.sharding,
        options=FAMILY_KEYS.get(family, ()),
        adapter=adapter,
        mode=None if is_async is None else ("async" if is_async else "sync"),
    )


def config_profile(config: DatabaseConfig) -> Capabilities:
    """The profile of the adapter ``config`` belongs to (its package name, e.g. ``aiosqlite``)."""
    module = type(config).__module__.split(".")
    adapter = module[2] if module[:2] == ["sqlspec_adk", "adapters"] and len(module) > 2 else type(config).__name__
    return profile(config.dialect.family, adapter=adapter, is_async=config.is_async)
