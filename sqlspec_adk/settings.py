"""``extension_config["adk"]``: the library's settings, validated when a config is built.

An unknown key, a bad table name or a malformed ``owner_id_column`` raises
``ConfigError`` naming the key, never a SQL error at the first query. Pure
data: no driver, dialect or I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlspec_adk.backend_options import OPTION_KEYS, RETENTION_KEYS, BackendSettings
from sqlspec_adk.backend_options import parse as parse_backend_options
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.identifiers import ColumnDefinition, parse_column_definition, validate_identifier

if TYPE_CHECKING:
    from sqlspec_adk.memory.embedders.base import Embedder

__all__ = ["BOOL_KEYS", "KNOWN_KEYS", "SEARCH_MODES", "ADKConfig"]

#: ``memory_search_mode`` values: full-text only, vectors only, or both fused.
SEARCH_MODES = ("lexical", "semantic", "hybrid")

_TABLE_KEYS: dict[str, str] = {
    "session_table": "adk_session",
    "events_table": "adk_event",
    "app_state_table": "adk_app_state",
    "user_state_table": "adk_user_state",
    "metadata_table": "adk_internal_metadata",
    "memory_table": "adk_memory",
    "artifact_table": "adk_artifact",
}
#: Keys whose value is true or false (URI query parameters are parsed as such).
BOOL_KEYS = (
    "enable_sessions",
    "enable_memory",
    "enable_artifacts",
    "include_sessions_migration",
    "include_memory_migration",
    "include_artifacts_migration",
    "create_tables",
    "memory_follows_sessions",
    "skip_compacted_events",
    "group_commit",
)
_OTHER_KEYS = (
    "artifact_storage_uri",
    "artifact_storage_options",
    "memory_use_fts",
    "memory_max_results",
    "owner_id_column",
    "schema",
    "fts_config",
    "busy_timeout",
    "group_commit_max",
    "memory_embedder",
    "memory_search_mode",
    "memory_vector_cache_mb",
)
KNOWN_KEYS = frozenset((*_TABLE_KEYS, *BOOL_KEYS, *_OTHER_KEYS, *OPTION_KEYS, *RETENTION_KEYS))


@dataclass(frozen=True, slots=True)
class ADKConfig:
    """Validated ``extension_config["adk"]`` settings.

    ``memory_use_fts`` is ``None`` when unset, meaning "on wherever the dialect
    has full-text search". ``busy_timeout`` is seconds a writer waits for a lock.
    ``include_*_migration`` false leaves those tables out of the library's
    migrations (a team manages them with its own tool); the stores then only
    check that they exist. ``create_tables``: a store brings the schema up to
    date on first use instead of refusing a database that is behind.
    ``memory_follows_sessions``: deleting a session (or retention of idle
    sessions) deletes its memory entries too. ``skip_compacted_events``:
    ``get_session`` loads the compaction events and the events no compaction
    covers, not the raw events a compaction summarized.
    ``group_commit``: writes arriving while a write transaction is in flight
    share the next transaction (None: the SQL family's default);
    ``group_commit_max`` caps the operations in one.
    ``memory_embedder`` is an ``Embedder`` (a string form is resolved here, so a
    bad one fails at construction); with one, ingest stores a vector per entry
    and ``memory_search_mode`` defaults to ``"hybrid"`` (else ``"lexical"``;
    ``"semantic"``/``"hybrid"`` need an embedder). ``memory_vector_cache_mb``
    bounds the stored vectors a store keeps in memory for the families that
    score vectors outside SQL (0: none kept, every search streams them).
    """

    session_table: str = "adk_session"
    events_table: str = "adk_event"
    app_state_table: str = "adk_app_state"
    user_state_table: str = "adk_user_state"
    metadata_table: str = "adk_internal_metadata"
    memory_table: str = "adk_memory"
    artifact_table: str = "adk_artifact"
    artifact_storage_uri: str | None = None
    # Credentials live here: keep them out of repr() and therefore out of logs.
    artifact_storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    enable_sessions: bool = True
    enable_memory: bool = True
    enable_artifacts: bool = True
    include_sessions_migration: bool = True
    include_memory_migration: bool = True
    include_artifacts_migration: bool = True
    create_tables: bool = False
    memory_follows_sessions: bool = False
    skip_compacted_events: bool = False
    memory_use_fts: bool | None = None
    memory_max_results: int = 20
    owner_id_column: ColumnDefinition | None = None
    schema: str | None = None
    fts_config: str = "english"
    busy_timeout: float = 5.0
    memory_embedder: Embedder | None = field(default=None, compare=False)
    memory_search_mode: str = "lexical"
    memory_vector_cache_mb: int = 256
    group_commit: bool | None = None
    group_commit_max: int = 64
    #: The per-backend options and retention ages (:mod:`sqlspec_adk.backend_options`).
    backend: BackendSettings = field(default_factory=BackendSettings)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ADKConfig:
        """Build and validate settings from an ``extension_config["adk"]`` mapping."""
        raw = dict(raw or {})
        unknown = sorted(set(raw) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown extension_config['adk'] key(s): {', '.join(map(repr, unknown))}; "
                f"known keys are {', '.join(sorted(KNOWN_KEYS))}"
            )
        values: dict[str, Any] = {}
        for key in _TABLE_KEYS:
            if key in raw:
                values[key] = validate_identifier(raw[key], key)
        tables = [values.get(key, default) for key, default in _TABLE_KEYS.items()]
        duplicates = sorted({name for name in tables if tables.count(name) > 1})
        if duplicates:
            raise ConfigError(f"extension_config['adk'] names the same table twice: {', '.join(duplicates)}")
        for key in BOOL_KEYS:
            if key in raw:
                values[key] = _require_bool(raw[key], key)
        if "memory_use_fts" in raw and raw["memory_use_fts"] is not None:
            values["memory_use_fts"] = _require_bool(raw["memory_use_fts"], "memory_use_fts")
        if "memory_max_results" in raw:
            value = raw["memory_max_results"]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
                raise ConfigError(
                    f"extension_config['adk']['memory_max_results'] must be an integer in 1..10000, got {value!r}"
                )
            values["memory_max_results"] = value
        if raw.get("artifact_storage_uri") is not None:
            uri = raw["artifact_storage_uri"]
            if not isinstance(uri, str) or not uri.strip():
                raise ConfigError(
                    f"extension_config['adk']['artifact_storage_uri'] must be a non-empty string, got {uri!r}"
                )
            values["artifact_storage_uri"] = uri
        if raw.get("artifact_storage_options") is not None:
            options = raw["artifact_storage_options"]
            if not isinstance(options, Mapping):
                raise ConfigError("extension_config['adk']['artifact_storage_options'] must be a mapping")
            values["artifact_storage_options"] = dict(options)
        if raw.get("owner_id_column") is not None:
            values["owner_id_column"] = parse_column_definition(raw["owner_id_column"])
        if raw.get("schema") is not None:
            values["schema"] = validate_identifier(raw["schema"], "schema")
        if "fts_config" in raw:
            values["fts_config"] = validate_identifier(raw["fts_config"], "fts_config")
        if "busy_timeout" in raw:
            value = raw["busy_timeout"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
                raise ConfigError(f"extension_config['adk']['busy_timeout'] must be seconds in 0..3600, got {value!r}")
            values["busy_timeout"] = float(value)
        if "group_commit_max" in raw:
            value = raw["group_commit_max"]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
                raise ConfigError(
                    f"extension_config['adk']['group_commit_max'] must be an integer in 1..1000, got {value!r}"
                )
            values["group_commit_max"] = value
        values.update(_memory_search(raw))
        values["backend"] = parse_backend_options(raw)
        return cls(**values)


def _memory_search(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``memory_embedder`` (resolved), ``memory_search_mode`` and ``memory_vector_cache_mb``, checked together."""
    values: dict[str, Any] = {}
    embedder = raw.get("memory_embedder")
    if embedder is not None:
        # Late import: the embedders' string forms import the built-in embedder classes, which this
        # data module does not otherwise need (and a config without an embedder never loads them).
        from sqlspec_adk.memory.embedders.strings import resolve_embedder

        values["memory_embedder"] = resolve_embedder(embedder)
    mode = raw.get("memory_search_mode")
    if mode is None:
        mode = "hybrid" if embedder is not None else "lexical"
    if mode not in SEARCH_MODES:
        raise ConfigError(
            f"extension_config['adk']['memory_search_mode'] must be one of {', '.join(SEARCH_MODES)}, got {mode!r}"
        )
    if mode != "lexical" and embedder is None:
        raise ConfigError(
            f"extension_config['adk']['memory_search_mode'] is {mode!r}, which needs an embedder: set "
            "memory_embedder (an Embedder, or a string form such as 'sentence-transformers:all-MiniLM-L6-v2')"
        )
    values["memory_search_mode"] = mode
    if "memory_vector_cache_mb" in raw:
        size = raw["memory_vector_cache_mb"]
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 1_000_000:
            raise ConfigError(
                f"extension_config['adk']['memory_vector_cache_mb'] must be an integer in 0..1000000, got {size!r}"
            )
        values["memory_vector_cache_mb"] = size
    return values


def _require_bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"extension_config['adk'][{key!r}] must be true or false, got {value!r}")
    return value
