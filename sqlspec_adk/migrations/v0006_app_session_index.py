"""Schema version 6: an index for listing an app's sessions across its users (issue 16). Frozen once released.

Sessions component only. ``list_sessions(app_name=..., user_id=None)`` (and
``list_sessions_page``) orders an app's sessions by ``(update_time, user_id,
id)``; version 1 gave PostgreSQL and CockroachDB an index in that order
(``app_list_idx``) and every other family only the per-user one, so a first
page of 100 out of 100,000 sessions sorted all 100,000 (measured: benchmark W7
on SQLite, 37.6 ms against 7.4 ms at 10,000 sessions). This version gives
SQLite, MySQL/MariaDB, Oracle and Spanner the same ``app_list_idx``; a page
then reads its rows in index order from the keyset cursor on.

Not on DuckDB: its ART indexes serve point lookups only, never an ``ORDER BY``,
so the index would cost every append and speed up no list. Nothing is
backfilled (an index build covers the rows already there). Every statement is
idempotent (``IF NOT EXISTS``, or the "already exists" error the engine
absorbs), so an upgrade killed half way completes on the next run.
"""

from __future__ import annotations

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.migrations.v0002_lookups_and_vectors import index_statement

__all__ = ["COLUMNS", "NAME", "VERSION", "statements"]

VERSION = 6
NAME = "app_session_index"

#: The index's columns: the app, then the list order (update_time, user_id, id).
COLUMNS = "app_name, update_time, user_id, id"
#: Families with version 1's ``app_list_idx`` already, or (DuckDB) no use for it.
_WITHOUT = frozenset({"postgresql", "cockroachdb", "duckdb"})


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 6's statements for one component of ``dialect``'s config, in order."""
    if component != "sessions" or dialect.family in _WITHOUT:
        return []
    adk = dialect.adk
    return [index_statement(dialect, dialect.session_table, adk.session_table, "app_list_idx", COLUMNS)]
