"""The docs stay in step with the code: every config key documented, every nav page present."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from sqlspec_adk.config import KNOWN_KEYS, ADKConfig
from sqlspec_adk.registry import ADAPTERS, scheme_for

ROOT = Path(__file__).resolve().parents[2]


def test_every_adk_config_key_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    keys = {field.name for field in dataclasses.fields(ADKConfig)} | set(KNOWN_KEYS)
    missing = sorted(key for key in keys if f"`{key}`" not in text)
    assert not missing, f"document these keys in docs/configuration.md: {missing}"


def test_every_nav_page_exists() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE)
    assert pages
    assert [page for page in pages if not (ROOT / "docs" / page).is_file()] == []


def test_backends_page_names_every_family_scheme() -> None:
    text = (ROOT / "docs" / "backends.md").read_text()
    for driver in ("sqlite", "aiosqlite", "asyncpg", "psycopg", "cockroach_asyncpg", "asyncmy", "duckdb", "oracledb"):
        assert driver in ADAPTERS
        assert scheme_for(driver) in text, scheme_for(driver)
