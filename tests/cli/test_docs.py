"""The docs stay in step with the code: every config key documented, every nav page present."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from sqlspec_adk.registry import ADAPTERS, scheme_for
from sqlspec_adk.settings import KNOWN_KEYS, ADKConfig

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


def test_the_docs_site_builds_strictly() -> None:
    """``nox -s docs``'s command, ``mkdocs build --strict``, succeeds with the project's own config: no
    broken link, no page missing from the nav, a site directory mkdocs accepts (outside ``docs/``)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (ROOT / "site" / "index.html").is_file()
