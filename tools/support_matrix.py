"""Generate docs/support-matrix.md from a real run of the contract suite (JUnit XML), never by hand.

    python tools/support_matrix.py run       # pytest tests/contract once per adapter -> build/support-matrix/*.xml
    python tools/support_matrix.py render    # those XML files -> docs/support-matrix.md
    python tools/support_matrix.py features  # only the feature tables of docs/support-matrix.md, from the code
    python tools/support_matrix.py           # run and render

``run`` accepts ``--adapters a,b`` (default: every adapter in tests/backends.py)
and ``--results DIR``. ``render`` reads every ``<adapter>.xml`` in the results
folder; an adapter whose server was unreachable shows as skipped with the
reason pytest gave. The feature tables come from the capability profiles
(:mod:`sqlspec_adk.capabilities`), never from a test run, so ``features``
rewrites just them; ``tests/unit/test_capabilities.py`` checks that the
committed page holds what the profiles render.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = ROOT / "build" / "support-matrix"
DEFAULT_OUTPUT = ROOT / "docs" / "support-matrix.md"
FAMILIES = {
    "sqlite": "SQLite",
    "aiosqlite": "SQLite",
    "asyncpg": "PostgreSQL",
    "psycopg_async": "PostgreSQL",
    "psycopg_sync": "PostgreSQL",
    "psqlpy": "PostgreSQL",
    "cockroach_asyncpg": "CockroachDB (PG wire)",
    "cockroach_psycopg": "CockroachDB (PG wire)",
    "aiomysql": "MySQL/MariaDB",
    "asyncmy": "MySQL/MariaDB",
    "pymysql": "MySQL/MariaDB",
    "mysqlconnector": "MySQL/MariaDB",
    "duckdb": "DuckDB",
    "adbc_sqlite": "ADBC (SQLite)",
    "adbc_postgresql": "ADBC (PostgreSQL)",
    "adbc_duckdb": "ADBC (DuckDB)",
    "oracledb": "Oracle",
    "spanner": "Spanner",
}


@dataclass
class Cell:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    skip_reasons: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def render(self) -> str:
        total = self.passed + self.failed
        if total == 0 and self.skipped:
            return "skipped"
        if self.failed:
            return f"❌ {self.passed}/{total}"
        text = f"✅ {self.passed}/{total}"
        return text + (f" ({self.skipped} skipped)" if self.skipped else "")


FEATURES_START = "<!-- features: generated from sqlspec_adk.capabilities; do not edit -->"
FEATURES_END = "<!-- end of features -->"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "—"


def family_adapters() -> dict[str, list[str]]:
    """Per SQL family, its registry adapters as ``name`` (mode), in the registry's order."""
    sys.path.insert(0, str(ROOT))
    from sqlspec_adk.registry import ADAPTERS, load_adapter

    found: dict[str, list[str]] = {}
    for name in ADAPTERS:
        config = load_adapter(name)[0]
        # ADBC's one config class serves three families: the registry name says which.
        family = name.removeprefix("adbc_") if name.startswith("adbc_") else config.dialect_class.family
        found.setdefault(family, []).append(f"`{name}` ({'async' if config.is_async else 'sync'})")
    return found


def features_section() -> str:
    """The feature tables (Markdown, between the markers), one row per SQL family, from the profiles."""
    sys.path.insert(0, str(ROOT))
    from sqlspec_adk.capabilities import FAMILIES, profile

    by_family = family_adapters()
    lines = [
        FEATURES_START,
        "## Features per backend",
        "",
        "From the capability profiles (`store.capabilities`, `sqlspec-adk doctor`), not from a test run.",
        "",
        "| family | adapters | full-text search | vector search | JSON storage | transactional DDL | savepoints "
        "| concurrent writers | group commit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    profiles = [profile(family) for family in FAMILIES]
    for caps in profiles:
        row = [caps.backend, ", ".join(by_family.get(caps.family, [])), caps.full_text, caps.vector]
        row += [caps.json_storage, _yes(caps.transactional_ddl), _yes(caps.savepoints)]
        row += [_yes(caps.concurrent_writers), caps.group_commit]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "| family | partitioning | compression | in-memory column store | native TTL | sharding | backend options |",
        "|---|---|---|---|---|---|---|",
    ]
    for caps in profiles:
        row = [caps.backend, _listed(caps.partitioning), _listed(caps.compression), _yes(caps.in_memory)]
        row += [_listed(caps.native_ttl), _listed(caps.sharding), _listed(tuple(f"`{key}`" for key in caps.options))]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "Vector search: `native` ranks in the database, `fallback` in the store over the stored vectors,",
        "`native-if-available` in the database where the server has it (pgvector, Oracle 23ai). Native TTL:",
        "the tables the database expires itself from the `retention_*` settings; everything else is",
        "`sqlspec-adk prune`'s. The options are described in [Configuration](configuration.md).",
        FEATURES_END,
    ]
    return "\n".join(lines)


def write_features(output: Path) -> None:
    """Replace the feature tables of an existing page with :func:`features_section`."""
    text = output.read_text(encoding="utf-8")
    start, end = text.find(FEATURES_START), text.find(FEATURES_END)
    if start < 0 or end < 0:
        raise SystemExit(f"{output} has no feature tables to replace; run 'render' first")
    output.write_text(text[:start] + features_section() + text[end + len(FEATURES_END) :], encoding="utf-8")
    print(f"wrote the feature tables of {output}")


def adapters() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from tests.backends import ADAPTERS

    return [spec.name for spec in ADAPTERS]


def run(names: list[str], results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = results / f"{name}.xml"
        print(f"contract suite on {name} ...", flush=True)
        subprocess.run(  # noqa: S603 - fixed command line
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/contract",
                f"--adapter={name}",
                f"--junitxml={target}",
            ],
            cwd=ROOT,
            check=False,
        )


def area_of(classname: str) -> str:
    module = classname.split(".")[-1] if "." in classname else classname
    for part in classname.split("."):
        if part.startswith("test_"):
            module = part
    return module.removeprefix("test_").replace("_", " ")


def read(results: Path) -> dict[str, dict[str, Cell]]:
    matrix: dict[str, dict[str, Cell]] = {}
    for path in sorted(results.glob("*.xml")):
        adapter = path.stem
        cells = matrix.setdefault(adapter, {})
        for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - our own pytest output
            cell = cells.setdefault(area_of(case.get("classname", "")), Cell())
            outcome = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
            if outcome is None:
                cell.passed += 1
            elif outcome.tag == "skipped":
                cell.skipped += 1
                cell.skip_reasons.add((outcome.get("message") or "").removeprefix("Skipped: ")[:160])
            else:
                cell.failed += 1
                cell.failures.append(f"{case.get('name')}: {(outcome.get('message') or '').splitlines()[0][:160]}")
    return matrix


def render(matrix: dict[str, dict[str, Cell]], output: Path) -> None:
    order = {name: index for index, name in enumerate(adapters())}
    matrix = dict(sorted(matrix.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))
    areas = sorted({area for cells in matrix.values() for area in cells})
    try:
        adk = metadata.version("google-adk")
    except metadata.PackageNotFoundError:
        adk = "?"
    lines = [
        "# Support matrix",
        "",
        "Generated by `python tools/support_matrix.py` from a run of the contract suite (`tests/contract`)",
        f"on {datetime.date.today().isoformat()}, Python {platform.python_version()}, google-adk {adk}.",
        "Each cell is *passed/run* contract tests for that adapter and area; do not edit by hand.",
        "",
        "| family | adapter | " + " | ".join(areas) + " |",
        "|---|---|" + "---|" * len(areas),
    ]
    for adapter, cells in matrix.items():
        row = [FAMILIES.get(adapter, adapter), f"`{adapter}`"]
        row += [cells[area].render() if area in cells else "n/a" for area in areas]
        lines.append("| " + " | ".join(row) + " |")
    notes = []
    for adapter, cells in matrix.items():
        for area, cell in sorted(cells.items()):
            for failure in cell.failures:
                notes.append(f"- `{adapter}` / {area}: failed `{failure}`")
            if cell.skipped and not cell.passed and not cell.failed:
                notes.append(f"- `{adapter}` / {area}: skipped ({'; '.join(sorted(cell.skip_reasons))})")
    if notes:
        lines += ["", "## What did not pass", "", *notes]
    lines += ["", features_section()]
    lines += [
        "",
        "Families without a server here (Oracle, a real CockroachDB) are covered by dialect checks",
        "and recorded SQL in the unit tests rather than by this suite; see [Backends](backends.md).",
        "Spanner runs on the Cloud Spanner emulator the tests start, not on Cloud Spanner; see",
        "[Spanner](backends/spanner.md) for what the emulator does not reproduce.",
        "Artifact content in S3 (a moto server) is tested with the sqlite, aiosqlite and asyncpg metadata",
        "adapters; on the others those runs are skipped by design (the metadata SQL is the same per family,",
        "and the storage layer is independent of the adapter).",
        "",
    ]
    output.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {output}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=["run", "render", "features", "all"], default="all")
    parser.add_argument("--adapters", help="comma-separated adapter names (default: all in tests/backends.py)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    if args.step in ("run", "all"):
        run(args.adapters.split(",") if args.adapters else adapters(), args.results)
    if args.step in ("render", "all"):
        render(read(args.results), args.output)
    if args.step == "features":
        write_features(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
