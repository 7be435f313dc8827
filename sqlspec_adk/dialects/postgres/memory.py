"""PostgreSQL memory SQL: a stored tsvector of the folded ``search_text``, BM25-ranked, one statement per search.

The tsvector column and its GIN index are created by the migrations (one
column per ``fts_config``, so switching configurations is safe; version 4
makes the index ``(app_name, user_id, tsvector)`` where the ``btree_gin``
extension is there, so a search reads only its own user's entries). Writes are
the portable batched upserts, with content bound as JSONB text; every other
operation is one statement, sent alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.memory import BM25_B, BM25_K1, MEMORY_COLUMNS, MemorySQL
from sqlspec_adk.dialects.postgres.core import PostgresCore, alone, counted, memoized
from sqlspec_adk.dialects.postgres.jsonb import tsquery_text
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord
from sqlspec_adk.tokens import EMPTY_SEARCH_TEXT
from sqlspec_adk.vectors import pg_array_bytes, vector_text

__all__ = ["ENTRIES_CAP", "PostgresMemorySQL"]

#: A search counts at most this many of its user's entries (BM25's N); past it, N is taken as this.
#: It bounds a search's cost for a user with millions of entries (the count is an index-only scan).
ENTRIES_CAP = 100_000


class PostgresMemorySQL(PostgresCore, MemorySQL):
    """tsvector/GIN full-text search ranked by BM25 from frequencies counted in the index, whole tokens only."""

    has_fts: ClassVar[bool] = True

    @cached_property
    def fts_config_literal(self) -> str:
        """``fts_config`` as a SQL literal; a validated identifier, so it needs no escaping."""
        return f"'{self.adk.fts_config.lower()}'"

    @cached_property
    def fts_column(self) -> str:
        """The generated tsvector column of ``fts_config`` (see migrations v1)."""
        return self.quote(f"search_vector_{self.adk.fts_config.lower()}"[: self.max_identifier])

    def bm25_sql(self, owner: Any) -> str:
        """The ranked search over the bound tokens (the CTEs of :meth:`fts_search_stmt`), ``?`` placeholders in
        the order of :meth:`bm25_params`."""
        table, column, config = self.memory_table, self.fts_column, self.fts_config_literal
        scope = self.scope_sql(owner)
        live = f"{scope} AND content_json IS NOT NULL"
        # Tokens of ``search_text`` (one space between tokens, one on each side).
        length = "length(search_text) - length(replace(search_text, ' ', '')) - 1"
        # Occurrences of the padded token k.pat in c.search_text: each one shortens the text by len(token) + 1.
        tf = "((length(c.search_text) - length(replace(c.search_text, k.pat, ' '))) / (length(k.pat) - 1))::float8"
        norm = f"{BM25_K1} * ({1 - BM25_B} + {BM25_B} * c.dl / a.avgdl)"
        return (
            "WITH q AS (SELECT u.op, ' ' || u.tok || ' ' AS pat, "
            f"to_tsquery({config}, u.op) AS tq FROM unnest(?::text[], ?::text[]) AS u(tok, op)), "
            f"entries AS (SELECT count(*)::float8 AS n FROM (SELECT 1 FROM {table} WHERE {scope} LIMIT ?) e), "
            "ceiling AS (SELECT greatest(?::float8, ?::float8 * n) AS docs FROM entries), "
            # Entries holding each token whole, counted up to one past the ceiling: an everyday word costs no more.
            f"freq AS (SELECT q.op, q.pat, (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {live} "
            f"AND {column} @@ q.tq AND strpos(search_text, q.pat) > 0 "
            "LIMIT (SELECT docs FROM ceiling)::bigint + 1) c) AS df FROM q WHERE numnode(q.tq) > 0), "
            "kept AS (SELECT op, pat, greatest(ln((n - df + 0.5) / (df + 0.5)), 1e-6) AS idf FROM freq, entries "
            "WHERE df > 0 AND (df <= (SELECT docs FROM ceiling) OR df = (SELECT min(df) FROM freq WHERE df > 0))), "
            f"found AS (SELECT {', '.join(MEMORY_COLUMNS)}, search_text, {length} AS dl FROM {table} "
            f"WHERE {live} AND {column} @@ to_tsquery({config}, (SELECT string_agg(op, ' | ') FROM kept))), "
            f"scored AS (SELECT c.id, sum(k.idf * t.tf * {BM25_K1 + 1} / (t.tf + {norm})) AS score "
            "FROM found c CROSS JOIN (SELECT avg(dl)::float8 AS avgdl FROM found) a "
            "JOIN kept k ON strpos(c.search_text, k.pat) > 0 "
            f"CROSS JOIN LATERAL (SELECT {tf} AS tf) t GROUP BY c.id) "
            f"(SELECT {self.select_columns} FROM found JOIN scored USING (id) "
            f"ORDER BY score DESC, timestamp DESC, id {self.limit_sql})"
        )

    def bm25_params(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any
    ) -> tuple[Any, ...]:
        """The parameters of :meth:`bm25_sql`."""
        scope = self.scope_params(app_name, user_id, owner)
        operands = [tsquery_text([token]) for token in tokens]
        counts = (ENTRIES_CAP, float(self.prune_min_docs), float(self.prune_fraction))
        return (list(tokens), operands, *scope, *counts, *scope, *scope, limit)

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """Entries holding any query token, ranked by BM25 (as SQLite's FTS5), then newest; one statement.

        The frequencies BM25 needs are read from the index inside the
        statement, for this user (and ``owner``) only, so nothing is kept up
        to date at ingest and a deleted entry stops counting at once: ``N``,
        the user's entries (at most :data:`ENTRIES_CAP`), and per token the
        entries holding it, counted up to one past the pruning ceiling
        ``max(prune_min_docs, prune_fraction * N)``. A token over the ceiling
        is an everyday word and is left out of the ranked search unless no
        token present is rarer (:func:`~sqlspec_adk.dialects.memory.prune_common_tokens`
        is the same rule), so a frequent word neither ties with a rare one
        nor makes the search score thousands of rows. The entries holding a
        kept token are then scored: ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b
        + b * dl / avgdl))`` summed over the kept tokens they hold, with
        ``idf = ln((N - df + 0.5) / (df + 0.5))`` (floored at 1e-6, as FTS5),
        ``tf`` and ``dl`` counted in whole tokens of ``search_text``, and
        ``avgdl`` the mean length of the entries scored (a per-query constant).

        The GIN index finds candidates through ``fts_config`` (stemmed with
        'english'); a hit must also contain a kept token whole, the library's
        matching rule on every backend, so stemming never widens a match
        ("pancake" does not find "pancakes"). Each token's tsquery is a quoted
        operand built from the library's own tokens
        (:func:`~sqlspec_adk.dialects.postgres.jsonb.tsquery_text`), bound as a
        parameter like the tokens themselves; the ``OR`` of the kept operands
        is joined inside SQL from those bound operands.

        A configuration with stop words turns a query made only of them ("what
        is it") into empty tsqueries that match nothing; the second branch then
        ranks by whole tokens as :meth:`fallback_search_stmt` does. Its
        condition holds no column of the table, so PostgreSQL checks it once.
        """
        ranked = self.bm25_sql(owner)
        fallback = self.fallback_search_stmt(app_name, user_id, tokens, limit, owner)
        only_stop_words = "NOT EXISTS (SELECT 1 FROM q WHERE numnode(q.tq) > 0)"
        sql = f"{ranked} UNION ALL (SELECT * FROM ({fallback.sql}) f WHERE {only_stop_words})"
        params = (*self.bm25_params(app_name, user_id, tokens, limit, owner), *fallback.params)
        return Stmt(sql, params, Fetch.ALL)

    def search_memory(
        self, *, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Op[list[MemoryRecord]]:
        op = super().search_memory(app_name=app_name, user_id=user_id, tokens=tokens, limit=limit, owner=owner)
        return alone(op)

    def forget_count_sql(self, owner: Any = None) -> str:
        """:meth:`forget_sql`, selecting 0 or 1."""
        return counted(self.forget_sql(owner))

    def delete_user_sql(self, *, by_session: bool, owner: Any = None) -> str:
        """Delete every row of one user (or of one of their sessions; and ``owner``'s); select the count."""
        sql = f"DELETE FROM {self.memory_table} WHERE {self.scope_sql(owner)}"
        return counted(f"{sql} AND session_id = ?" if by_session else sql)

    @memoized
    def delete_before_sql(self, *, by_app: bool) -> str:
        """Delete rows with ``timestamp < ?`` (and ``app_name = ?``); select the count."""
        sql = f"DELETE FROM {self.memory_table} WHERE timestamp < ?"
        return counted(f"{sql} AND app_name = ?" if by_app else sql)

    def delete_memory(self, *, app_name: str, user_id: str, memory_id: str, owner: Any = None) -> Op[int]:
        params = (EMPTY_SEARCH_TEXT, *self.scope_params(app_name, user_id, owner), memory_id)
        row = yield Stmt(self.forget_count_sql(owner), params, Fetch.ONE, alone=True)
        return int(row[0])

    def delete_user_memory(
        self, *, app_name: str, user_id: str, session_id: str | None = None, owner: Any = None
    ) -> Op[int]:
        params = self.scope_params(app_name, user_id, owner) + (() if session_id is None else (session_id,))
        sql = self.delete_user_sql(by_session=session_id is not None, owner=owner)
        row = yield Stmt(sql, params, Fetch.ONE, alone=True, idempotent=True)
        return int(row[0])

    def delete_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        params = (float(before),) if app_name is None else (float(before), app_name)
        sql = self.delete_before_sql(by_app=app_name is not None)
        row = yield Stmt(sql, params, Fetch.ONE, alone=True, idempotent=True)
        return int(row[0])

    @memoized
    def idle_sessions_memory_sql(self, *, by_app: bool) -> str:
        """Delete the entries of sessions not updated since ``?`` (and of app ``?``); select the count."""
        table = self.memory_table
        return counted(
            f"DELETE FROM {table} WHERE session_id IS NOT NULL AND EXISTS (SELECT 1 FROM {self.session_table} s "
            f"WHERE s.app_name = {table}.app_name AND s.user_id = {table}.user_id AND s.id = {table}.session_id "
            "AND s.update_time < ?" + (" AND s.app_name = ?)" if by_app else ")")
        )

    def delete_idle_sessions_memory(self, *, before: float, app_name: str | None = None) -> Op[int]:
        params = (float(before),) if app_name is None else (float(before), app_name)
        row = yield Stmt(self.idle_sessions_memory_sql(by_app=app_name is not None), params, Fetch.ONE)
        return int(row[0])

    def count_memory_before(self, *, before: float, app_name: str | None = None) -> Op[int]:
        return alone(super().count_memory_before(before=before, app_name=app_name))

    # ------------------------------------------------------------- vectors
    # ``embedding`` is ``real[]`` (schema version 2), bound as the text of an array literal (every driver
    # binds text alike) and read as ``array_send`` bytes. With pgvector, schema version 5 adds an HNSW
    # index over ``embedding::vector(n)`` for the configured embedder's n, and search ranks in SQL
    # through it; without pgvector the store ranks the vectors (see memory_vectors).
    vector_placeholder = "CAST(CAST(? AS text) AS real[])"
    vector_select = "array_send(embedding)"

    def vector_param(self, vector: Sequence[float] | None) -> Any:
        return None if vector is None else vector_text(vector, "{}")

    def vector_value(self, value: Any) -> bytes | None:
        return None if value is None else pg_array_bytes(value)

    @cached_property
    def vector_index_dimensions(self) -> int | None:
        """The embedder's dimensions, which the pgvector index is built for (None: no embedder)."""
        embedder = self.adk.memory_embedder
        return None if embedder is None else int(embedder.dimensions)

    def vector_ranking_op(self) -> Op[str]:
        """``"sql"`` where the pgvector index for the embedder's dimensions exists (asked once per config)."""
        dimensions = self.vector_index_dimensions
        if dimensions is None:
            return "cache"
        found = self.__dict__.get("_pgvector_index")
        if found is None:
            schema = f"{self.quote(self.adk.schema)}." if self.adk.schema else ""
            name = schema + self.quote(self.vector_index_name(dimensions))
            row = yield Stmt("SELECT to_regclass(CAST(? AS text)) IS NOT NULL", (name,), Fetch.ONE)
            found = self.__dict__["_pgvector_index"] = bool(row[0])
        return "sql" if found else "cache"

    def pgvector_distance(self, dimensions: int) -> str:
        """The cosine distance the HNSW index orders by, to the bound query vector."""
        return f"((embedding::vector({dimensions})) <=> CAST(CAST(? AS text) AS vector({dimensions})))"

    def vector_search_stmt(
        self, app_name: str, user_id: str, vector: Sequence[float], limit: int, owner: Any = None
    ) -> Stmt:
        """pgvector: the nearest live entries through the HNSW index (approximate, post-filtered by scope)."""
        dimensions = len(vector)
        distance = self.pgvector_distance(dimensions)
        sql = (
            f"SELECT {self.select_columns}, 1 - {distance} AS score FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL AND array_length(embedding, 1) = {dimensions} "
            f"ORDER BY {distance} {self.limit_sql}"
        )
        text = vector_text(vector, "[]")
        return Stmt(sql, (text, *self.scope_params(app_name, user_id, owner), text, limit), Fetch.ALL)

    def vector_statements(self) -> list[str]:
        texts = super().vector_statements()
        if self.stores_vectors:
            texts.append(self.vector_search_stmt("a", "u", [1.0, 0.0, 0.0], 1).sql)
        return texts

    def statements(self) -> list[str]:
        texts = [*super().statements(), self.forget_count_sql()]
        for flag in (False, True):
            texts += [self.delete_user_sql(by_session=flag), self.delete_before_sql(by_app=flag)]
            texts.append(self.idle_sessions_memory_sql(by_app=flag))
            if self.owner is not None:  # any owner value renders the owner condition
                texts += [self.forget_count_sql(owner=0), self.delete_user_sql(by_session=flag, owner=0)]
        return texts
