"""The capability profiles: facts read from the code agree with it, stores and doctor expose them, and the
committed support matrix's feature tables are exactly what the profiles render."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sqlspec_adk import capabilities
from sqlspec_adk.adapters.aiosqlite import AiosqliteADKMemoryStore, AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.backend_options import FAMILY_KEYS
from sqlspec_adk.capabilities import FAMILIES, Capabilities, profile
from sqlspec_adk.config import GROUP_COMMIT_DEFAULTS
from sqlspec_adk.migrations import runner
from sqlspec_adk.operations.doctor import diagnose
from sqlspec_adk.registry import ADAPTERS, load_adapter

ROOT = Path(__file__).resolve().parents[2]


def support_matrix() -> ModuleType:
    spec = importlib.util.spec_from_file_location("support_matrix", ROOT / "tools" / "support_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("support_matrix", module)
    spec.loader.exec_module(module)
    return module


def test_the_committed_support_matrix_shows_what_the_profiles_say() -> None:
    """Regenerate with ``python tools/support_matrix.py features`` when a profile changes."""
    tool = support_matrix()
    page = (ROOT / "docs" / "support-matrix.md").read_text(encoding="utf-8")
    start, end = page.index(tool.FEATURES_START), page.index(tool.FEATURES_END) + len(tool.FEATURES_END)
    assert page[start:end] == tool.features_section()


def test_the_feature_tables_follow_a_changed_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables are rendered from the profile, not written beside it: change a fact, the page changes."""
    tool = support_matrix()
    before = tool.features_section()
    monkeypatch.setitem(capabilities._FULL_TEXT_KINDS, "sqlite", "fts6")
    after = tool.features_section()
    assert before != after and "| SQLite | `sqlite` (sync), `aiosqlite` (async), `adbc_sqlite` (sync) | fts6 |" in after


@pytest.mark.parametrize("family", list(FAMILIES))
def test_facts_read_from_the_code_agree_with_it(family: str) -> None:
    caps = profile(family)
    dialect = FAMILIES[family]
    assert caps.family == dialect.family == family
    assert caps.savepoints is dialect.rules.savepoints
    assert caps.transactional_ddl is (runner._STRATEGY[family] == "transaction")
    assert (caps.group_commit == "unavailable") is (family not in GROUP_COMMIT_DEFAULTS)
    assert (caps.full_text == "like-fallback") is (not dialect.has_fts)
    assert caps.options == FAMILY_KEYS.get(family, ())
    memory = dialect.memory_class
    assert (caps.vector == "none") is (not memory.stores_vectors)
    assert (caps.vector == "native") is (memory.stores_vectors and memory.vector_ranking == "sql")
    labels = [label for label, _ in caps.describe()]
    assert len(labels) == len(set(labels)) and "full-text search" in labels


def test_every_adapter_of_the_registry_has_a_profiled_family() -> None:
    families = set()
    for name in ADAPTERS:
        config = load_adapter(name)[0]
        families.add(name.removeprefix("adbc_") if name.startswith("adbc_") else config.dialect_class.family)
    assert families == set(FAMILIES)
    with pytest.raises(ValueError, match="unknown SQL family"):
        profile("nosql")


def test_stores_expose_their_adapters_profile(tmp_path: Path) -> None:
    sync = SqliteADKStore(SqliteConfig(connection_config={"database": str(tmp_path / "a.db")}))
    asynchronous = AiosqliteADKMemoryStore(AiosqliteConfig(connection_config={"database": str(tmp_path / "b.db")}))
    assert isinstance(sync.capabilities, Capabilities)
    assert (sync.capabilities.adapter, sync.capabilities.mode) == ("sqlite", "sync")
    assert (asynchronous.capabilities.adapter, asynchronous.capabilities.mode) == ("aiosqlite", "async")
    assert sync.capabilities.full_text == "fts5" and not sync.capabilities.concurrent_writers


async def test_doctor_prints_the_profile(tmp_path: Path) -> None:
    report = await diagnose(f"sqlspec+sqlite:///{tmp_path / 'doctor.db'}")
    rendered = report.render()
    caps = profile("sqlite", adapter="sqlite", is_async=False)
    for label, value in caps.describe():
        assert f"capability {label}: {value}" in rendered
