"""examples/semantic_memory.py: an ADK agent's ``load_memory`` finds a paraphrased fact; lexical search does not.

Runs the example in process (its results, structured) and as the documented command (its exit code and
output), both with the real model, offline.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sqlspec_adk.tokens import tokenize

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "semantic_memory.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("semantic_memory_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_the_question_shares_no_token_with_anything_told(example: ModuleType) -> None:
    asked = set(tokenize(example.QUESTION))
    for told in (example.FACT, *example.FILLER, "Noted."):
        assert not asked & set(tokenize(told)), told


async def test_load_memory_finds_the_paraphrased_fact_and_lexical_does_not(
    example: ModuleType, minilm: Any, tmp_path: Path
) -> None:
    result = await example.run_example(tmp_path / "memory.db")
    assert result.hybrid.query == example.QUESTION  # the tool got the user's question as its query
    assert result.hybrid.memories[0] == example.FACT
    assert example.FACT in result.hybrid.answer
    assert result.found
    assert result.lexical.query == example.QUESTION
    assert example.FACT not in result.lexical.memories
    assert result.lexical.answer == example.NO_MEMORY


def test_the_command_exits_0_and_shows_both_searches(minilm: Any, tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--database", str(database)],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lexical search found the fact: no" in run.stdout
    assert "hybrid search found the fact:  yes" in run.stdout
    assert "✔ the agent answered" in run.stdout
    assert database.exists()  # --database keeps the file
