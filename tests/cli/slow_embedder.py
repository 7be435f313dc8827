"""An embedder for the ``memory reembed`` kill test: the FakeEmbedder, slowed down, logging what it embeds.

Named by its string form ``tests.cli.slow_embedder:SlowEmbedder`` in a subprocess. Each call sleeps
``SLOW_EMBEDDER_SECONDS`` (default 0.3) and appends one line per text to ``SLOW_EMBEDDER_LOG``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from sqlspec_adk.memory.embedders import FakeEmbedder


class SlowEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__(32)

    @property
    def name(self) -> str:
        return "slow-fake:32"

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        await asyncio.sleep(float(os.environ.get("SLOW_EMBEDDER_SECONDS", "0.3")))
        log = os.environ.get("SLOW_EMBEDDER_LOG")
        if log:
            await asyncio.to_thread(_append, log, texts)
        return await super().embed(texts)


def _append(path: str, texts: Sequence[str]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(f"{text}\n" for text in texts)
