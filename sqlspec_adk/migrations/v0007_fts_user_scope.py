"""Schema version 7: SQLite's full-text index keeps every user's postings apart (issue 16). Frozen once released.

Memory component, SQLite family, with full-text search on; nothing anywhere
else. Version 1's FTS5 index holds the bare tokens, so one user's search walks
every user's postings of its terms three times over: counting each term's
entries (``fts5vocab``), ``bm25``'s per-query IDF, and the match itself. With
1,000,000 entries over 1,000 users a search cost 15 times what it cost at
20,000 entries (benchmark W7), though the user's own entries were as many.

This version numbers each (app, user) once, in ``<memory>_fts_users`` (``n``,
an integer primary key; a number is never reused or renumbered), and indexes
each entry's tokens prefixed with its user's key ``k<n>x``
(:func:`key_sql`), plus the bare key once: ``k7x k7xpancake k7xsyrup``. A
search asks for its own user's prefixed terms only, so every cost above is
the user's own: ``fts5vocab`` counts the user's entries holding a term (and the
bare key's count is the user's entries), and ``bm25`` ranks with those counts.

The key is letters and digits only, so the ``unicode61`` tokenizer keeps it
and the term as one token; it has no vowel and ends with a consonant, so the
porter stemmer stems ``k7xrunning`` to ``k7xrun`` as it stems ``running``
(query terms are prefixed the same way before FTS5 stems them, so both sides
always agree). Distinct users have distinct keys, and no key followed by a term
can be another key followed by another term (the first ``x`` after the digits
ends the key).

The index reads its content from a view (``<memory>_fts_source``) that joins
the numbers, so ``'rebuild'`` and the triggers index the same text. The
tokenizer and ``detail`` are the configured ones (version 3's options); when
those change, version 3 rebuilds the index and this version, applied again
(a changed option re-applies every version), rebuilds it in this shape.
Everything runs in the upgrade's one transaction (SQLite DDL is
transactional), so an upgrade killed half way leaves version 6's index.
"""

from __future__ import annotations

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.migrations.v0003_backend_options import _SQLITE_TOKENIZE

__all__ = ["NAME", "VERSION", "indexed_text_sql", "key_sql", "source_view", "statements", "users_table"]

VERSION = 7
NAME = "fts_user_scope"


def key_sql(number: str) -> str:
    """SQL for a user's key from the SQL expression of its number: ``'k' || n || 'x'``."""
    return f"('k' || {number} || 'x')"


def indexed_text_sql(search_text: str, number: str) -> str:
    """SQL for the text the index holds for an entry: the bare key, then every token of ``search_text``
    (tokens between single spaces) prefixed with the key."""
    key = key_sql(number)
    return f"({key} || replace({search_text}, ' ', ' ' || {key}))"


def users_table(dialect: Dialect) -> str:
    """The unquoted name of the table numbering each (app, user)."""
    return f"{dialect.adk.memory_table}_fts_users"


def source_view(dialect: Dialect) -> str:
    """The unquoted name of the view the index reads its content from."""
    return f"{dialect.adk.memory_table}_fts_source"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 7's statements for one component of ``dialect``'s config, in order."""
    if dialect.family != "sqlite" or component != "memory" or not dialect.memory.memory_fts:
        return []
    adk = dialect.adk
    name, table = adk.memory_table, dialect.memory_table
    fts, vocab = dialect.table(f"{name}_fts"), dialect.table(f"{name}_fts_vocab")
    view, users = dialect.quote(source_view(dialect)), dialect.quote(users_table(dialect))
    tokenize = _SQLITE_TOKENIZE[adk.backend.sqlite.fts_tokenizer]
    detail = adk.backend.sqlite.fts_detail

    def trigger(suffix: str) -> str:
        return dialect.quote(f"{name}_fts_{suffix}")

    def number(row: str) -> str:
        return f"(SELECT n FROM {users} WHERE app_name = {row}.app_name AND user_id = {row}.user_id)"

    def text(row: str) -> str:
        return indexed_text_sql(f"{row}.search_text", number(row))

    # Not INSERT OR IGNORE: inside a trigger the outer statement's conflict policy replaces the trigger's.
    numbered = (
        f"INSERT INTO {users} (app_name, user_id) SELECT new.app_name, new.user_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {users} WHERE app_name = new.app_name AND user_id = new.user_id);"
    )
    remove_old = f"INSERT INTO {fts} ({fts}, rowid, search_text) VALUES ('delete', old.id, {text('old')});"
    add_new = f"INSERT INTO {fts} (rowid, search_text) VALUES (new.id, {text('new')});"
    # Table names are validated plain names ([A-Za-z0-9_]), safe inside these string literals; the tokenizer
    # and detail come from a fixed list.
    return [
        f"CREATE TABLE IF NOT EXISTS {users} (n INTEGER PRIMARY KEY, app_name TEXT NOT NULL, "
        "user_id TEXT NOT NULL, UNIQUE (app_name, user_id))",
        f"INSERT OR IGNORE INTO {users} (app_name, user_id) SELECT DISTINCT app_name, user_id FROM {table}",
        *(f"DROP TRIGGER IF EXISTS {trigger(suffix)}" for suffix in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {vocab}",
        f"DROP TABLE IF EXISTS {fts}",
        f"DROP VIEW IF EXISTS {view}",
        f"CREATE VIEW {view} AS SELECT m.id AS id, {indexed_text_sql('m.search_text', 'u.n')} AS search_text "
        f"FROM {table} m JOIN {users} u ON u.app_name = m.app_name AND u.user_id = m.user_id",
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{source_view(dialect)}', "
        f"content_rowid='id', tokenize='{tokenize}', detail={detail})",
        f"CREATE VIRTUAL TABLE {vocab} USING fts5vocab('{name}_fts', 'row')",
        f"CREATE TRIGGER {trigger('ai')} AFTER INSERT ON {table} BEGIN {numbered} {add_new} END",
        f"CREATE TRIGGER {trigger('ad')} AFTER DELETE ON {table} BEGIN {remove_old} END",
        f"CREATE TRIGGER {trigger('au')} AFTER UPDATE OF search_text, app_name, user_id ON {table} "
        f"BEGIN {remove_old} {numbered} {add_new} END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]
