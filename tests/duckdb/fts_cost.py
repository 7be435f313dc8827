"""Measure what keeping DuckDB's full-text index current costs (run: python -m tests.duckdb.fts_cost).

Prints, per memory table size: one insert, one index rebuild (the dialect's own
``PRAGMA create_fts_index``), and one BM25 search. Not a test; the numbers go
into docs/backends/duckdb.md.
"""

from __future__ import annotations

import random
import time

import duckdb

from sqlspec_adk.adapters._duckdb import fts_load_sql
from sqlspec_adk.dialects.duckdb import DuckdbDialect
from sqlspec_adk.migrations import v0001_initial
from sqlspec_adk.settings import ADKConfig


def measure(rows: int) -> tuple[float, float, float]:
    dialect = DuckdbDialect(ADKConfig()).memory
    connection = duckdb.connect()
    connection.execute(fts_load_sql() or "SELECT 1")
    for component in ("metadata", "memory"):
        for sql in v0001_initial.statements(DuckdbDialect(ADKConfig()), component):
            connection.execute(sql)
    words = [f"w{i}" for i in range(5000)]
    rng = random.Random(1)
    data = [
        (
            f"id{i}",
            "a",
            "u",
            None,
            f"e{i}",
            "user",
            float(i),
            "{}",
            None,
            " " + " ".join(rng.choices(words, k=30)) + " ",
        )
        for i in range(rows)
    ]
    connection.executemany(dialect.upsert_sql(False), data)
    started = time.perf_counter()
    for i in range(50):
        connection.execute(dialect.upsert_sql(False), (f"n{i}", "a", "u", None, f"n{i}", "u", 1.0, "{}", None, " w1 "))
    insert = (time.perf_counter() - started) / 50
    rebuilds = []
    for _ in range(3):
        started = time.perf_counter()
        connection.execute(dialect.fts_build_sql)
        rebuilds.append(time.perf_counter() - started)
    stmt = dialect.fts_search_stmt("a", "u", ["w1", "w2", "w3"], 20)
    started = time.perf_counter()
    for _ in range(20):
        connection.execute(stmt.sql, stmt.params).fetchall()
    return insert, min(rebuilds), (time.perf_counter() - started) / 20


if __name__ == "__main__":
    for size in (1_000, 10_000, 50_000):
        insert, rebuild, search = measure(size)
        print(
            f"{size:>6} entries: insert {insert * 1000:6.2f} ms, rebuild {rebuild * 1000:8.1f} ms, "
            f"search {search * 1000:6.2f} ms, rebuild/insert {rebuild / insert:6.0f}x"
        )
