"""``sqlspec-adk memory reembed``: compute the memory vectors a database lacks, or all of them for a new embedder.

- Same embedder as recorded: the live entries with text and no vector (written
  without an embedder, or before one was configured) get one.
- Another embedder (or none recorded): every live entry with text gets a new
  vector; the recorded identity changes to the new embedder when the run is
  done, so until then stores configured with the new one refuse to open and
  stores with the old one keep working (stop their writers during the run, or
  run it again afterwards: entries they write behind the run keep old vectors).

Entries are read in key order, ``batch_size`` at a time; each batch is one
embedder call, then one transaction writing its vectors and the run's position
(a metadata row). A run killed at any point (``kill -9`` included) resumes at
the last committed batch when started again with the same embedder; a run with
another embedder starts over. The schema is brought up to date first (like
``create_tables``), so PostgreSQL's pgvector index for the new dimensions exists.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from google.genai import types

from sqlspec_adk.config import DatabaseConfig
from sqlspec_adk.dialects.memory_vectors import REEMBED_KEY, identity_text, parse_identity
from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.embedders.base import Embedder, embed_documents, embedder_identity
from sqlspec_adk.memory.semantic import EMBED_CHARS, one
from sqlspec_adk.migrations.guard import mark_current
from sqlspec_adk.migrations.runner import upgrade
from sqlspec_adk.operations.database import run_op
from sqlspec_adk.operations.progress import Progress
from sqlspec_adk.tokens import content_text

__all__ = ["ReembedResult", "reembed"]

Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class ReembedResult:
    """What a run did: ``embedded`` vectors written, ``everything`` (all entries, for a new embedder) or only
    the missing ones, ``resumed`` from an earlier run's position, and the embedder recorded at the end."""

    embedded: int
    everything: bool
    resumed: bool
    embedder: tuple[str, int]

    def render(self) -> str:
        what = "every entry (new embedder)" if self.everything else "entries without a vector"
        again = ", resumed" if self.resumed else ""
        name, dimensions = self.embedder
        return f"reembedded {self.embedded} memory entries: {what}{again}; embedder {name!r} ({dimensions} dimensions)"


def _text(value: Any) -> str:
    """The embedder text of a stored ``content_json`` (text, bytes or decoded)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    data = json.loads(value) if isinstance(value, str) else value
    return content_text(types.Content.model_validate(data))[:EMBED_CHARS]


async def reembed(
    config: DatabaseConfig,
    embedder: Embedder | None = None,
    *,
    batch_size: int = 64,
    progress: bool = True,
    stream: TextIO | None = None,
) -> ReembedResult:
    """Compute the memory vectors of ``config``'s database with ``embedder`` (default: the config's); see the
    module docstring. Resumable; :class:`~sqlspec_adk.errors.EmbeddingError` if the embedder fails (the
    batches written before it stay written)."""
    embedder = embedder if embedder is not None else config.adk.memory_embedder
    if embedder is None:
        raise ConfigError("memory reembed needs an embedder: --embedder <string form>, or memory_embedder in the URI")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"--batch-size must be a positive integer, got {batch_size!r}")
    sql = config.dialect.memory
    if not sql.stores_vectors:
        raise ConfigError(f"{type(sql).__name__} does not store vectors yet: nothing to reembed")
    target = await embedder_identity(embedder)
    await upgrade(config)
    mark_current(config)
    progress_key = f"{REEMBED_KEY}:{config.adk.memory_table}"
    row = await run_op(config, lambda: one(sql.identity_stmt()), write=False, name="reembed_state")
    recorded = parse_identity(row[0]) if row else None
    row = await run_op(config, lambda: one(sql.meta_stmt(progress_key)), write=False, name="reembed_state")
    saved = json.loads(str(row[0])) if row else None
    after: Key | None = None
    resumed = False
    if saved is not None and tuple(saved.get("target", ())) == target:
        everything, resumed = bool(saved["everything"]), True
        mark = saved.get("after")
        after = (str(mark[0]), str(mark[1]), str(mark[2])) if mark else None
    else:
        everything = recorded != target
    count_row = await run_op(config, lambda: one(sql.reembed_count_stmt(everything, after)), write=False)
    embedded = 0
    with Progress("reembedding memory", int(count_row[0]), enabled=progress, stream=stream or sys.stderr) as bar:
        while True:
            page = sql.reembed_page_stmt(everything, after, batch_size)
            rows = await run_op(config, partial(one, page), write=False, name="reembed_page")
            if not rows:
                break
            keys: list[Key] = [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
            texts = [_text(sql.json.read(r[3])) for r in rows]
            todo = [(key, text) for key, text in zip(keys, texts, strict=True) if text.strip()]
            vectors = await embed_documents(embedder, [text for _, text in todo]) if todo else []
            after = keys[-1]
            position = json.dumps({"target": list(target), "everything": everything, "after": list(after)})
            written = [(*key, vector) for (key, _), vector in zip(todo, vectors, strict=True)]
            store = partial(sql.set_vectors, written, (progress_key, position))
            await run_op(config, store, write=True, name="reembed_batch")
            embedded += len(written)
            bar.advance(len(rows))

    def finish() -> Any:
        yield from sql.set_meta(sql.identity_key, identity_text(*target))
        yield sql.delete_meta_stmt(progress_key)

    await run_op(config, finish, write=True, name="reembed_done")
    return ReembedResult(embedded=embedded, everything=everything, resumed=resumed, embedder=target)
