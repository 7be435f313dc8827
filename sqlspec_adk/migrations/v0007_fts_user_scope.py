"""Schema version 7: SQLite's full-text index holds each entry's app and user (issue 16). Frozen once released.

Memory component, SQLite family, with full-text search on; nothing anywhere
else. Version 1's FTS5 index holds the search text only, so a search for one
user matched its terms in every user's entries and dropped the others' after
a lookup each: with 1,000,000 entries over 1,000 users a search cost 15 times
what it cost at 20,000 entries (benchmark W7). This version rebuilds the index
with a second column, ``scope_key``: one token per entry naming its app and
user (:func:`scope_key_sql`). A search matches that token together with its
terms (``"<key>" AND (<terms>)``), so FTS5 intersects the user's own postings
with the terms' instead of visiting every user's matches, and ``bm25`` weighs
the column 0, so the ranking is the search text's (each entry's length counts
one token more, for every entry alike).

The index's content is a view over the memory table (``<memory>_fts_source``)
that computes the key, so ``'rebuild'`` and the triggers write the same key the
search asks for. The tokenizer and ``detail`` are the configured ones (version
3's options), and version 3's rebuild, when those options change, is followed
by this version again (a changed option re-applies every version), which
rebuilds this shape. The key's token has no FTS5 column filter: a column filter
is refused with ``detail=none``, and no search term can equal a key (keys hold
an ``x`` between hexadecimal runs and end with one, where the porter stemmer
changes nothing either).

Everything runs in the upgrade's one transaction (SQLite DDL is transactional),
so an upgrade killed half way leaves version 6's index in place.
"""

from __future__ import annotations

from sqlspec_adk.dialects.base import Dialect
from sqlspec_adk.migrations.v0003_backend_options import _SQLITE_TOKENIZE

__all__ = ["NAME", "VERSION", "scope_key_sql", "source_view", "statements"]

VERSION = 7
NAME = "fts_user_scope"


def scope_key_sql(app_name: str, user_id: str) -> str:
    """SQL for the one-token key of an (app, user) from two SQL expressions: ``'k' || hex(app) || 'x' ||
    hex(user) || 'x'``. Distinct pairs give distinct keys (hexadecimal never holds an ``x``), and the
    key is one ``unicode61`` token (letters and digits only)."""
    return f"('k' || hex({app_name}) || 'x' || hex({user_id}) || 'x')"


def source_view(dialect: Dialect) -> str:
    """The unquoted name of the view the index reads its content from."""
    return f"{dialect.adk.memory_table}_fts_source"


def statements(dialect: Dialect, component: str) -> list[str]:
    """Version 7's statements for one component of ``dialect``'s config, in order."""
    if dialect.family != "sqlite" or component != "memory" or not dialect.memory.memory_fts:
        return []
    adk = dialect.adk
    name, table = adk.memory_table, dialect.memory_table
    fts, vocab, view = dialect.table(f"{name}_fts"), dialect.table(f"{name}_fts_vocab"), source_view(dialect)
    tokenize = _SQLITE_TOKENIZE[adk.backend.sqlite.fts_tokenizer]
    detail = adk.backend.sqlite.fts_detail

    def trigger(suffix: str) -> str:
        return dialect.quote(f"{name}_fts_{suffix}")

    def values(row: str) -> str:
        return f"{row}.id, {row}.search_text, {scope_key_sql(f'{row}.app_name', f'{row}.user_id')}"

    remove_old = f"INSERT INTO {fts} ({fts}, rowid, search_text, scope_key) VALUES ('delete', {values('old')});"
    add_new = f"INSERT INTO {fts} (rowid, search_text, scope_key) VALUES ({values('new')});"
    # Table names are validated plain names ([A-Za-z0-9_]), safe inside these string literals; the tokenizer
    # and detail come from a fixed list.
    return [
        *(f"DROP TRIGGER IF EXISTS {trigger(suffix)}" for suffix in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {vocab}",
        f"DROP TABLE IF EXISTS {fts}",
        f"DROP VIEW IF EXISTS {dialect.quote(view)}",
        f"CREATE VIEW {dialect.quote(view)} AS SELECT id, search_text, "
        f"{scope_key_sql('app_name', 'user_id')} AS scope_key FROM {table}",
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, scope_key, content='{view}', content_rowid='id', "
        f"tokenize='{tokenize}', detail={detail})",
        f"CREATE VIRTUAL TABLE {vocab} USING fts5vocab('{name}_fts', 'row')",
        f"CREATE TRIGGER {trigger('ai')} AFTER INSERT ON {table} BEGIN {add_new} END",
        f"CREATE TRIGGER {trigger('ad')} AFTER DELETE ON {table} BEGIN {remove_old} END",
        f"CREATE TRIGGER {trigger('au')} AFTER UPDATE OF search_text, app_name, user_id ON {table} "
        f"BEGIN {remove_old} {add_new} END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]
