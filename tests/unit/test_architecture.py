"""The package's layering, checked from its source: no import cycles, SQL apart from runtime, thin adapters.

Imports are read with ``ast`` from every module of ``sqlspec_adk``, those under
``if TYPE_CHECKING:`` included (a cycle hidden behind one is still a cycle), so
nothing is imported to check it.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import sqlspec_adk

PACKAGE = Path(sqlspec_adk.__file__).parent
#: What a dialect may not import: runtime (threads, clocks, the event loop, randomness), drivers, the engine.
RUNTIME = {"asyncio", "time", "random", "threading", "concurrent", "select", "socket", "logging", "os"}
DRIVERS = {
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "psycopg_pool",
    "psqlpy",
    "aiomysql",
    "asyncmy",
    "pymysql",
    "mysql",
    "duckdb",
    "adbc_driver_manager",
    "oracledb",
    "google.cloud",
}
MAX_ADAPTER_CODE_LINES = 150


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path, *, top_level_only: bool = False) -> set[str]:
    """Every module ``name`` imports (absolute names), TYPE_CHECKING blocks included.

    ``top_level_only``: leave out imports inside function bodies (the deliberate late ones).
    """
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    functions = ast.FunctionDef | ast.AsyncFunctionDef
    nodes: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(
            child for child in ast.iter_child_nodes(node) if not (top_level_only and isinstance(child, functions))
        )
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _internal_graph(*, top_level_only: bool) -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    return {
        name: {m for m in _imports(name, path, top_level_only=top_level_only) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    """Module-level imports, TYPE_CHECKING blocks included, form no cycle (a package ``__init__`` counts
    as importing what it re-exports). Imports inside functions are the deliberate late ones (optional
    drivers, the CLI's subcommands) and are checked below for not closing a cycle either."""
    assert _cycles(_internal_graph(top_level_only=True)) == []


def test_no_cycle_even_through_function_level_imports() -> None:
    assert _cycles(_internal_graph(top_level_only=False)) == []


def test_every_module_imports_on_its_own() -> None:
    """Importing any module first (a fresh interpreter's view) works: no hidden order dependency."""
    for info in pkgutil.walk_packages(sqlspec_adk.__path__, "sqlspec_adk."):
        if ".adapters." in info.name and not info.name.endswith(("sqlite", "aiosqlite", "sqlite.config")):
            continue  # optional drivers; imported by their own tests
        importlib.import_module(info.name)


@pytest.mark.parametrize("module", sorted(name for name in MODULES if name.startswith("sqlspec_adk.dialects")))
def test_dialects_import_no_runtime_and_no_driver(module: str) -> None:
    imported = _imports(module, MODULES[module])
    roots = {name.split(".")[0] for name in imported}
    assert not roots & RUNTIME, f"{module} imports runtime modules {sorted(roots & RUNTIME)}"
    assert not {name for name in imported for driver in DRIVERS if name == driver or name.startswith(driver + ".")}
    assert not {name for name in imported if name.startswith(("sqlspec_adk.engine", "sqlspec_adk.adapters"))}
    assert not {name for name in imported if name.startswith(("sqlspec_adk.config", "sqlspec_adk.store"))}


def _code_lines(path: Path) -> int:
    """Lines that are code: not blank, not comments, not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    count = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and number not in docstrings:
            count += 1
    return count


ADAPTER_PACKAGES = sorted(path for path in (PACKAGE / "adapters").iterdir() if path.is_dir() and path.name[0] != "_")


@pytest.mark.parametrize("package", ADAPTER_PACKAGES, ids=lambda path: path.name)
def test_adapter_packages_are_thin(package: Path) -> None:
    total = sum(_code_lines(path) for path in package.rglob("*.py"))
    assert total <= MAX_ADAPTER_CODE_LINES, f"adapters/{package.name}: {total} code lines"


@pytest.mark.parametrize("package", ADAPTER_PACKAGES, ids=lambda path: path.name)
def test_adapter_packages_hold_no_sql(package: Path) -> None:
    """An adapter answers driver questions; statements come from a dialect (transaction commands aside)."""
    words = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "MERGE ")
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lstrip().startswith(words):
                raise AssertionError(f"{path.name}: SQL text in an adapter: {node.value[:60]!r}")


def _prefix(module: str) -> str:
    return "".join(part.capitalize() for part in module.split("_"))


@pytest.mark.parametrize("package", ADAPTER_PACKAGES, ids=lambda path: path.name)
def test_adapter_names_follow_the_rule(package: Path) -> None:
    """``XConfig`` + ``XADKStore``/``XADKMemoryStore``/``XADKArtifactStore``; a driver with both modes has
    the four names twice, as ``XAsync…`` and ``XSync…``, each store bound to a config of its own mode."""
    from sqlspec_adk.artifact.store import BaseAsyncADKArtifactStore, BaseSyncADKArtifactStore
    from sqlspec_adk.memory.store import BaseAsyncADKMemoryStore, BaseSyncADKMemoryStore
    from sqlspec_adk.store import BaseAsyncADKStore, BaseSyncADKStore

    module = importlib.import_module(f"sqlspec_adk.adapters.{package.name}")  # every driver is in the dev extra
    prefix = _prefix(package.name)
    dual = hasattr(module, f"{prefix}AsyncConfig") or hasattr(module, f"{prefix}SyncConfig")
    modes = [("Async", True), ("Sync", False)] if dual else [("", None)]
    async_bases = (BaseAsyncADKStore, BaseAsyncADKMemoryStore, BaseAsyncADKArtifactStore)
    sync_bases = (BaseSyncADKStore, BaseSyncADKMemoryStore, BaseSyncADKArtifactStore)
    for mode, is_async in modes:
        config = getattr(module, f"{prefix}{mode}Config")
        if is_async is not None:
            assert config.is_async is is_async, f"{config.__name__} is_async should be {is_async}"
        for suffix, async_base, sync_base in zip(("", "Memory", "Artifact"), async_bases, sync_bases, strict=True):
            store = getattr(module, f"{prefix}{mode}ADK{suffix}Store")
            assert issubclass(store, async_base if config.is_async else sync_base), store.__name__
            assert f"{prefix}{mode}ADK{suffix}Store" in module.__all__
        assert f"{prefix}{mode}Config" in module.__all__
