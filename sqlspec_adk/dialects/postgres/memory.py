"""PostgreSQL memory SQL: a stored tsvector of the folded ``search_text``, ranked, one statement per search.

The tsvector column and its GIN index are created by the migrations (one
column per ``fts_config``, so switching configurations is safe). Writes are
the portable batched upserts, with content bound as JSONB text; every other
operation is one statement, sent alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from sqlspec_adk.dialects.memory import MemorySQL
from sqlspec_adk.dialects.postgres.core import PostgresCore, alone, counted, memoized
from sqlspec_adk.dialects.postgres.jsonb import tsquery_text
from sqlspec_adk.protocol import Fetch, Op, Stmt
from sqlspec_adk.records import MemoryRecord
from sqlspec_adk.tokens import EMPTY_SEARCH_TEXT

__all__ = ["PostgresMemorySQL"]


class PostgresMemorySQL(PostgresCore, MemorySQL):
    """tsvector/GIN full-text search, with the whole-token rule of every family."""

    has_fts: ClassVar[bool] = True
    #: Relevance function over the tsvector column (CockroachDB has only ``ts_rank``).
    rank_function: ClassVar[str] = "ts_rank_cd"

    @cached_property
    def fts_config_literal(self) -> str:
        """``fts_config`` as a SQL literal; a validated identifier, so it needs no escaping."""
        return f"'{self.adk.fts_config.lower()}'"

    @cached_property
    def fts_column(self) -> str:
        """The generated tsvector column of ``fts_config`` (see migrations v1)."""
        return self.quote(f"search_vector_{self.adk.fts_config.lower()}"[: self.max_identifier])

    def fts_search_stmt(
        self, app_name: str, user_id: str, tokens: Sequence[str], limit: int, owner: Any = None
    ) -> Stmt:
        """Entries holding any query token, ranked by relevance, then newest; one statement.

        The GIN index finds candidates through ``fts_config`` (stemmed with
        'english'); a hit must also contain one of the query's tokens whole,
        the library's matching rule on every backend, so stemming ranks but
        never widens a match ("pancake" does not find "pancakes"). The tsquery
        is built from the library's own tokens, each a quoted operand
        (:func:`~sqlspec_adk.dialects.postgres.jsonb.tsquery_text`), and bound
        as a parameter like the patterns.

        A configuration with stop words turns a query made only of them ("what
        is it") into an empty tsquery that matches nothing; the second branch
        then ranks by whole tokens as :meth:`fallback_search_stmt` does. Its
        condition holds no column, so PostgreSQL checks it once and skips the
        branch otherwise.
        """
        query = f"to_tsquery({self.fts_config_literal}, ?)"
        indexed = (
            f"SELECT {self.select_columns} FROM {self.memory_table} "
            f"WHERE {self.scope_sql(owner)} AND content_json IS NOT NULL AND {self.fts_column} @@ {query} "
            "AND search_text LIKE ANY (?::text[]) "
            f"ORDER BY {self.rank_function}({self.fts_column}, {query}) DESC, timestamp DESC, id {self.limit_sql}"
        )
        fallback = self.fallback_search_stmt(app_name, user_id, tokens, limit, owner)
        sql = f"({indexed}) UNION ALL (SELECT * FROM ({fallback.sql}) f WHERE numnode({query}) = 0)"
        text = tsquery_text(tokens)
        patterns = [f"% {token} %" for token in tokens]  # safe tokens: no wildcard, quote or backslash
        scope = self.scope_params(app_name, user_id, owner)
        params = (*scope, text, patterns, text, limit, *fallback.params, text)
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

    def statements(self) -> list[str]:
        texts = [*super().statements(), self.forget_count_sql()]
        for flag in (False, True):
            texts += [self.delete_user_sql(by_session=flag), self.delete_before_sql(by_app=flag)]
            texts.append(self.idle_sessions_memory_sql(by_app=flag))
            if self.owner is not None:  # any owner value renders the owner condition
                texts += [self.forget_count_sql(owner=0), self.delete_user_sql(by_session=flag, owner=0)]
        return texts
