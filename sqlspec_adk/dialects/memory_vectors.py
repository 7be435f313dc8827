"""The vector statements of the memory part, written once for every family (semantic and hybrid search).

Storage: each memory row's ``embedding`` column (schema version 2) holds the
entry's unit vector in the family's form (:attr:`VectorSQL.vector_placeholder`,
:meth:`VectorSQL.vector_param`; float32 little-endian bytes by default), and
reads come back as those bytes (:meth:`VectorSQL.vector_value`). A deleted
entry's vector is cleared with its content.

Ranking is in one of two places (:attr:`VectorSQL.vector_ranking`):

- ``"sql"``: the family ranks by cosine in SQL (:meth:`VectorSQL.vector_search_stmt`;
  DuckDB, Spanner, PostgreSQL with pgvector, Oracle 23ai).
- ``"cache"``: the store ranks the vectors itself, kept in memory per (app,
  user, owner) and brought up to date by *revision* (:mod:`sqlspec_adk.memory.vector_cache`).
  Every memory write bumps its (app, user)'s row in ``<memory_table>_rev``
  (schema version 5) inside the write transaction and stamps the rows it
  writes with that revision (``vrev``). The row lock the bump takes makes
  revisions follow commit order per (app, user), so a reader that saw
  revision ``r`` finds everything written since in ``vrev > r``. Deletes do
  not bump: a deleted entry can never be returned (results are read back by
  key with their content), and the cache drops the vector the first time it
  comes back missing.

The embedder that made the stored vectors is recorded in the metadata table
(:meth:`VectorSQL.record_identity`, key ``memory_embedder:<memory_table>``).

Owner scope and the (app, user) scope apply to every read here, as in the
lexical search (:meth:`~sqlspec_adk.dialects.common.DialectCore.scope_sql`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.common import DialectCore
from sqlspec_adk.errors import EmbedderMismatchError
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.tokens import EMPTY_SEARCH_TEXT
from sqlspec_adk.vectors import vector_bytes

__all__ = ["REEMBED_KEY", "VectorSQL", "identity_text", "parse_identity"]

#: Metadata key prefix of the recorded embedder (``memory_embedder:<memory_table>``).
IDENTITY_KEY = "memory_embedder"
#: Metadata key prefix of a ``memory reembed`` run's progress (``memory_reembed:<memory_table>``).
REEMBED_KEY = "memory_reembed"


def identity_text(name: str, dimensions: int) -> str:
    """The recorded form of an embedder's identity."""
    return json.dumps({"name": name, "dimensions": dimensions}, sort_keys=True, separators=(",", ":"))


def parse_identity(text: Any) -> tuple[str, int] | None:
    """``(name, dimensions)`` of a recorded identity (None when unreadable)."""
    try:
        data = json.loads(str(text))
        return str(data["name"]), int(data["dimensions"])
    except (ValueError, TypeError, KeyError):
        return None


class VectorSQL(DialectCore):
    """Vector storage, revisions and vector reads of the memory table (a mixin of ``MemorySQL``)."""

    #: Whether writes store vectors in this family yet (its binding of the vector column exists).
    stores_vectors: ClassVar[bool] = True
    #: Where search ranks vectors: ``"cache"`` (the store) or ``"sql"`` (the family; see the module docstring).
    vector_ranking: ClassVar[str] = "cache"
    #: Whether writes bump ``<memory_table>_rev`` and stamp ``vrev`` (the families whose search may use the cache).
    revisions: ClassVar[bool] = True
    #: The column holding the vector (an instance attribute: Oracle's follows the server version).
    vector_column: str = "embedding"
    #: The placeholder expression binding one vector (or NULL) to :attr:`vector_column`.
    vector_placeholder: str = "?"
    #: The SELECT list item reading a stored vector as :meth:`vector_value` takes it.
    vector_select: str = "embedding"
    #: Whether the family has ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (one statement per bump).
    returning_upsert: ClassVar[bool] = True
    #: Rows per page when stored vectors are read for the cache (bounded memory per statement).
    vector_page: ClassVar[int] = 2000

    @cached_property
    def select_columns(self) -> str:
        """The SELECT list of a search (``MemorySQL`` defines it)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- storage
    def vector_param(self, vector: Sequence[float] | None) -> Any:
        """A vector as bound to :attr:`vector_placeholder` (default: float32 little-endian bytes); None stays None."""
        return None if vector is None else vector_bytes(vector)

    def vector_value(self, value: Any) -> bytes | None:
        """A stored vector as read through :attr:`vector_select`, as float32 little-endian bytes."""
        if value is None:
            return None
        return bytes(value)

    @cached_property
    def vector_write_columns(self) -> list[str]:
        """The columns a write sets beyond the lexical ones: the vector, and the revision stamp."""
        if not self.stores_vectors:
            return []
        return [self.vector_column, *(["vrev"] if self.revisions else [])]

    @cached_property
    def vector_write_values(self) -> list[str]:
        """The value expressions of :attr:`vector_write_columns`."""
        return [self.vector_placeholder, "?"][: len(self.vector_write_columns)]

    def vector_write_params(self, embedding: Sequence[float] | None, revision: int | None) -> tuple[Any, ...]:
        """The parameters of :attr:`vector_write_values` for one row."""
        if not self.stores_vectors:
            return ()
        vector = self.vector_param(embedding)
        return (vector, revision) if self.revisions else (vector,)

    @cached_property
    def vector_index_dimensions(self) -> int | None:
        """The vector length the schema's vector index is built for, where the DDL depends on it (else None)."""
        return None

    def vector_index_name(self, dimensions: int) -> str:
        """The (unquoted, unqualified) name of the vector index for ``dimensions`` (PostgreSQL's HNSW index);
        the table name is cut so the whole suffix fits."""
        suffix = f"hnsw_{dimensions}_idx"
        return f"{self.adk.memory_table[: self.max_identifier - len(suffix) - 1]}_{suffix}"

    # -------------------------------------------------------------- revisions
    @cached_property
    def revision_table(self) -> str:
        """Quoted name of the per-(app, user) revision table (schema version 5)."""
        return self.table(f"{self.adk.memory_table}_rev")

    @cached_property
    def bump_revision_sqls(self) -> list[str]:
        """The statements of :meth:`bump_revision`: one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, or
        (:attr:`returning_upsert` false) create-if-absent, update, read."""
        table, where = self.revision_table, "app_name = ? AND user_id = ?"
        if self.returning_upsert:
            return [
                f"INSERT INTO {table} (app_name, user_id, revision) VALUES (?, ?, 1) "
                f"ON CONFLICT (app_name, user_id) DO UPDATE SET revision = {table}.revision + 1 RETURNING revision"
            ]
        columns, values = ("app_name", "user_id", "revision"), ("?", "?", "0")
        return [
            self.insert_skip_sql(table, columns, values, ("app_name", "user_id")),
            f"UPDATE {table} SET revision = revision + 1 WHERE {where}",
            f"SELECT revision FROM {table} WHERE {where}",
        ]

    def bump_revision(self, app_name: str, user_id: str) -> Op[int]:
        """Add one to the (app, user)'s revision (creating it at 1), holding its row lock; return it."""
        scope = (app_name, user_id)
        if self.returning_upsert:
            row = yield Stmt(self.bump_revision_sqls[0], scope, Fetch.ONE)
            return int(row[0])
        insert, update, select = self.bump_revision_sqls
        yield self.insert_skip(insert, scope)
        yield Stmt(update, scope)
        row = yield Stmt(select, scope, Fetch.ONE)
        return int(row[0])

    def revision_stmt(self, app_name: str, user_id: str) -> Stmt:
        """The (app, user)'s revision (no row: nothing written since version 5, revision 0)."""
        sql = f"SELECT revision FROM {self.revision_table} WHERE app_name = ? AND user_id = ?"
        return Stmt(sql, (app_name, user_id), Fetch.ONE)

    # ------------------------------------------------------------ vector reads
    def vector_page_stmt(self, app_name: str, user_id: str, owner: Any, after: str | None, page: int) -> Stmt:
        """(event_id, vector) of live entries with a vector, in ``event_id`` order after ``after`` (keyset paging
        over the ``(app_name, user_id, event_id)`` unique index)."""
        sql = (
            f"SELECT event_id, {self.vector_select} FROM {self.memory_table} WHERE {self.scope_sql(owner)} "
            f"AND content_json IS NOT NULL AND {self.vector_column} IS NOT NULL"
            + (" AND event_id > ?" if after is not None else "")
            + f" ORDER BY event_id {self.limit_sql}"
        )
        params = (*self.scope_params(app_name, user_id, owner), *(() if after is None else (after,)), page)
        return Stmt(sql, params, Fetch.ALL)

    def vector_delta_stmt(self, app_name: str, user_id: str, owner: Any, since: int) -> Stmt:
        """(event_id, vector or NULL) of the rows written after revision ``since`` (NULL: no longer searchable)."""
        sql = (
            f"SELECT event_id, CASE WHEN content_json IS NULL THEN NULL ELSE {self.vector_select} END "
            f"FROM {self.memory_table} WHERE {self.scope_sql(owner)} AND vrev > ?"
        )
        return Stmt(sql, (*self.scope_params(app_name, user_id, owner), since), Fetch.ALL)

    def records_stmt(self, app_name: str, user_id: str, owner: Any, event_ids: Sequence[str]) -> Stmt:
        """The live entries among ``event_ids`` (search columns, any order)."""
        marks = ", ".join("?" for _ in event_ids)
        sql = (
            f"SELECT {self.select_columns} FROM {self.memory_table} WHERE {self.scope_sql(owner)} "
            f"AND content_json IS NOT NULL AND event_id IN ({marks})"
        )
        return Stmt(sql, (*self.scope_params(app_name, user_id, owner), *event_ids), Fetch.ALL)

    def existing_ids_stmt(self, app_name: str, user_id: str, event_ids: Sequence[str]) -> Stmt:
        """Which of ``event_ids`` the (app, user) has rows for, tombstones included (any owner: dedup is per key)."""
        marks = ", ".join("?" for _ in event_ids)
        sql = f"SELECT event_id FROM {self.memory_table} WHERE app_name = ? AND user_id = ? AND event_id IN ({marks})"
        return Stmt(sql, (app_name, user_id, *event_ids), Fetch.ALL)

    def vector_search_stmt(
        self, app_name: str, user_id: str, vector: Sequence[float], limit: int, owner: Any = None
    ) -> Stmt:
        """The ``limit`` live entries nearest ``vector`` by cosine, best first: search columns, then the
        similarity. Families whose :attr:`vector_ranking` is ``"sql"`` implement it."""
        raise NotImplementedError(f"{type(self).__name__} ranks vectors in the store, not in SQL")

    def vector_ranking_op(self) -> Op[str]:
        """Where this database's search ranks vectors (a family that finds out from the catalog overrides)."""
        yield from ()
        return self.vector_ranking

    # ---------------------------------------------------------------- identity
    @cached_property
    def identity_key(self) -> str:
        return f"{IDENTITY_KEY}:{self.adk.memory_table}"

    def identity_stmt(self) -> Stmt:
        """The recorded embedder identity (one row of the metadata table, or none)."""
        return Stmt(f"SELECT meta_value FROM {self.metadata_table} WHERE meta_key = ?", (self.identity_key,), Fetch.ONE)

    def record_identity(self, name: str, dimensions: int) -> Op[None]:
        """Record the embedder of the vectors being written, unless one is; another one recorded is refused
        (:class:`~sqlspec_adk.errors.EmbedderMismatchError`: the write transaction rolls back)."""
        text = identity_text(name, dimensions)
        sql = self.insert_skip_sql(self.metadata_table, ("meta_key", "meta_value"), ("?", "?"), ("meta_key",))
        inserted = yield self.insert_skip(sql, (self.identity_key, text))
        if inserted:
            return
        row = yield self.identity_stmt()
        recorded = parse_identity(row[0]) if row else None
        if recorded is not None and recorded != (name, dimensions):
            raise EmbedderMismatchError(recorded, (name, dimensions), self.adk.memory_table)

    def set_meta(self, key: str, value: str) -> Op[None]:
        """Set one metadata row (update, then insert when there was none)."""
        changed = yield Stmt(
            f"UPDATE {self.metadata_table} SET meta_value = ? WHERE meta_key = ?", (value, key), Fetch.ROWCOUNT
        )
        if not changed:
            sql = self.insert_skip_sql(self.metadata_table, ("meta_key", "meta_value"), ("?", "?"), ("meta_key",))
            inserted = yield self.insert_skip(sql, (key, value))
            if not inserted:  # MySQL counts an UPDATE to the same value as 0 rows: the row is there
                yield Stmt(f"UPDATE {self.metadata_table} SET meta_value = ? WHERE meta_key = ?", (value, key))

    def meta_stmt(self, key: str) -> Stmt:
        return Stmt(f"SELECT meta_value FROM {self.metadata_table} WHERE meta_key = ?", (key,), Fetch.ONE)

    def delete_meta_stmt(self, key: str) -> Stmt:
        return Stmt(f"DELETE FROM {self.metadata_table} WHERE meta_key = ?", (key,))

    # ----------------------------------------------------------------- reembed
    def reembed_where(self, everything: bool, after: tuple[str, str, str] | None) -> tuple[str, tuple[Any, ...]]:
        """The rows a ``memory reembed`` run still has to do: live entries with text (``everything``) or those
        of them without a vector, after the key ``after`` (app, user, event id) in key order."""
        sql = "content_json IS NOT NULL AND search_text <> ?"
        if not everything:
            sql += f" AND {self.vector_column} IS NULL"
        params: tuple[Any, ...] = (EMPTY_SEARCH_TEXT,)
        if after is not None:
            # Spelled out: Oracle and Spanner have no row-value comparison.
            sql += " AND (app_name > ? OR (app_name = ? AND (user_id > ? OR (user_id = ? AND event_id > ?))))"
            params += (after[0], after[0], after[1], after[1], after[2])
        return sql, params

    def reembed_count_stmt(self, everything: bool, after: tuple[str, str, str] | None) -> Stmt:
        where, params = self.reembed_where(everything, after)
        return Stmt(f"SELECT COUNT(*) FROM {self.memory_table} WHERE {where}", params, Fetch.ONE)

    def reembed_page_stmt(self, everything: bool, after: tuple[str, str, str] | None, limit: int) -> Stmt:
        """(app_name, user_id, event_id, content JSON) of the next ``limit`` rows to embed, in key order."""
        where, params = self.reembed_where(everything, after)
        sql = (
            f"SELECT app_name, user_id, event_id, {self.json.select('content_json')} FROM {self.memory_table} "
            f"WHERE {where} ORDER BY app_name, user_id, event_id {self.limit_sql}"
        )
        return Stmt(sql, (*params, limit), Fetch.ALL)

    @cached_property
    def set_vector_sql(self) -> str:
        """Set one live row's vector (and revision stamp) by key; parameters: :meth:`vector_write_params`, key."""
        return self.set_vector_text()

    def set_vector_text(self) -> str:
        """:attr:`set_vector_sql`, built."""
        sets = ", ".join(
            f"{column} = {value}"
            for column, value in zip(self.vector_write_columns, self.vector_write_values, strict=True)
        )
        return (
            f"UPDATE {self.memory_table} SET {sets} WHERE app_name = ? AND user_id = ? AND event_id = ? "
            "AND content_json IS NOT NULL"
        )

    def set_vectors(
        self, rows: Sequence[tuple[str, str, str, Sequence[float]]], progress: tuple[str, str] | None = None
    ) -> Op[None]:
        """Store recomputed vectors ``(app, user, event_id, vector)`` (bumping each (app, user) once), and the
        run's ``progress`` (a metadata key and value) in the same transaction."""
        revisions: dict[tuple[str, str], int] = {}
        if self.revisions:
            for scope in sorted({(row[0], row[1]) for row in rows}):
                revisions[scope] = yield from self.bump_revision(*scope)
        params = [
            (*self.vector_write_params(vector, revisions.get((app, user))), app, user, event_id)
            for app, user, event_id, vector in rows
        ]
        if params:
            yield Stmt(self.set_vector_sql, params, many=True)
        if progress is not None:
            yield from self.set_meta(*progress)

    def vector_statements(self) -> list[str]:
        """Every fixed vector statement text (for parse checks)."""
        if not self.stores_vectors:
            return []
        texts = [
            self.records_stmt("a", "u", None, ["e"]).sql,
            self.existing_ids_stmt("a", "u", ["e"]).sql,
            self.identity_stmt().sql,
            self.reembed_page_stmt(True, ("a", "u", "e"), 1).sql,
            self.reembed_count_stmt(False, None).sql,
            self.set_vector_sql,
        ]
        if self.revisions:
            texts += [
                *self.bump_revision_sqls,
                self.revision_stmt("a", "u").sql,
                self.vector_page_stmt("a", "u", None, "e", 1).sql,
                self.vector_delta_stmt("a", "u", None, 0).sql,
            ]
        if self.vector_ranking == "sql":
            texts.append(self.vector_search_stmt("a", "u", [1.0, 0.0], 1).sql)
        return texts
