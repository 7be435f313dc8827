"""W6: artifact save and load (latest version) at each configured size."""

from __future__ import annotations

import os
from typing import Any

from benchmarks.contenders.artifacts import ArtifactContender
from benchmarks.group import Group
from benchmarks.timing import Batch, timed_batch
from benchmarks.workloads.common import measure

__all__ = ["run_artifacts", "size_label"]


def size_label(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


async def run_artifacts(group: Group[ArtifactContender]) -> None:
    for size in group.sizes.artifact_sizes:
        await _artifact_size(group, size)


async def _artifact_size(group: Group[ArtifactContender], size: int) -> None:
    operations = group.sizes.artifact_ops
    data = os.urandom(size)
    label = size_label(size)
    filename = f"blob-{label.replace(' ', '')}.bin"
    counts = {
        name: await group.count(name, _nothing, lambda c, _, i: c.save(f"count-{filename}", data))
        for name in group.names
    }

    async def save_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        return await timed_batch(operations, lambda i: contender.save(filename, data))

    await measure(group, "W6", f"save {label}", group.names, save_round, counts)

    counts = {
        name: await group.count(name, _nothing, lambda c, _, i: c.load(f"count-{filename}")) for name in group.names
    }

    async def load_round(name: str, number: int) -> Batch:
        contender = group.live[name]
        return await timed_batch(operations, lambda i: contender.load(filename))

    await measure(group, "W6", f"load {label}", group.names, load_round, counts)


async def _nothing(contender: Any) -> None:
    return None
