"""Schema version 8: SQLite's memory table keeps only the per-user indexes a read uses (issue 16). Frozen once released.

Memory component, SQLite family; nothing anywhere else. Entries arriving live
belong to many users, so each per-user index ``(app_name, user_id, ...)`` costs
an insert one leaf page of its own, and every dirtied page is written to the
WAL and copied back at the checkpoint. With 1,000,000 entries over 1,000 users a
live batch of 500 cost 2.9 times per entry what it cost at 20,000 (benchmark
W7; measured with the schema of version 7 and SQLite's default checkpoint).

- ``scope_idx`` ``(app_name, user_id, timestamp)`` is dropped. The unique key
  ``(app_name, user_id, event_id)`` serves every read by user; the only read
  that used the timestamp column is retention (``timestamp < ?``, optionally one
  app's), which ``time_idx`` ``(app_name, timestamp)`` serves as a range within
  the app (without an app, SQLite reads this index, as it read ``scope_idx``),
  and whose pages new entries (each app's newest) dirty at the app's right edge.
- ``vrev_idx`` ``(app_name, user_id, vrev)`` becomes partial, ``WHERE vrev IS
  NOT NULL``: only stores that keep vectors stamp ``vrev``, and the vector
  cache's ``vrev > ?`` implies the condition, so SQLite still uses it. A lexical
  store's entries no longer enter it.

Runs in the upgrade's one transaction (SQLite DDL is transactional); each
statement is idempotent, so a re-application (a changed option re-applies every
version) leaves the same indexes. Building ``time_idx`` and the partial index
reads the memory table once.
"""

from __future__ import annotations

from sqlspec_adk.dialects.base import Dialect

__all__ = ["NAME", "VERSION", "statements"]

VERSION = 8
NAME = "memory_write_indexes"

#: The retention index's columns: the app it is limited to, then the time compared.
TIME_COLUMNS = "app_name, timestamp"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 8's statements for one component of ``dialect``'s config, in order."""
    if dialect.family != "sqlite" or component != "memory":
        return []
    name, table = dialect.adk.memory_table, dialect.memory_table
    vrev = dialect.index_name(name, "vrev_idx")
    return [
        f"CREATE INDEX IF NOT EXISTS {dialect.index_name(name, 'time_idx')} ON {table} ({TIME_COLUMNS})",
        f"DROP INDEX IF EXISTS {dialect.index_name(name, 'scope_idx')}",
        f"DROP INDEX IF EXISTS {vrev}",
        f"CREATE INDEX {vrev} ON {table} (app_name, user_id, vrev) WHERE vrev IS NOT NULL",
    ]
