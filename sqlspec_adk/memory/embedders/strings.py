"""An embedder from its string form (``memory_embedder`` in a URI, YAML or ``extension_config``).

=================================  ====================================================
``sentence-transformers:<model>``  :class:`SentenceTransformersEmbedder` (hub id or directory)
``gemini:<model>``                 :class:`GeminiEmbedder` (768 dimensions, default client)
``fake`` / ``fake:<dimensions>``   :class:`FakeEmbedder` (tests and offline demos; not semantic)
``<module>:<attribute>``           an importable embedder, or a class / zero-argument factory of one
=================================  ====================================================

The built-in prefixes come first: a module of your own named ``gemini`` or
``fake`` needs a dotted path (``myapp.gemini:embedder``). The string form is
read when the config is built, so a bad value is a ``ConfigError`` then, naming
the value, never at the first ingest. ``<module>:<attribute>`` imports code: it
is as trusted as the configuration that names it.
"""

from __future__ import annotations

import importlib
import re

from sqlspec_adk.errors import ConfigError
from sqlspec_adk.memory.embedders.base import Embedder, is_embedder
from sqlspec_adk.memory.embedders.fake import FakeEmbedder
from sqlspec_adk.memory.embedders.gemini import GeminiEmbedder
from sqlspec_adk.memory.embedders.local import SentenceTransformersEmbedder

__all__ = ["embedder_from_string", "resolve_embedder"]

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
FORMS = "'sentence-transformers:<name-or-path>', 'gemini:<model>', 'fake:<dimensions>' or '<module>:<attribute>'"


def embedder_from_string(text: str) -> Embedder:
    """The embedder ``text`` names (see the module docstring); ``ConfigError`` naming ``text`` otherwise."""
    if not isinstance(text, str):
        raise ConfigError(f"memory_embedder must be an Embedder or a string, got {type(text).__name__}")
    value = text.strip()
    prefix, colon, rest = value.partition(":")
    rest = rest.strip()
    if value == "fake" or prefix == "fake":
        return _fake(text, rest if colon else "")
    if not colon or not rest:
        raise ConfigError(f"memory_embedder {text!r} is not an embedder: expected {FORMS}")
    if prefix == "sentence-transformers":
        return SentenceTransformersEmbedder(rest)
    if prefix == "gemini":
        return GeminiEmbedder(model=rest)
    if _DOTTED.fullmatch(prefix) and _DOTTED.fullmatch(rest):
        return _imported(text, prefix, rest)
    raise ConfigError(f"memory_embedder {text!r} is not an embedder: expected {FORMS}")


def resolve_embedder(value: Embedder | str | None) -> Embedder | None:
    """``memory_embedder``'s value as an embedder: an :class:`Embedder` as it is, a string through
    :func:`embedder_from_string`, ``None`` for none; ``ConfigError`` for anything else."""
    if value is None or isinstance(value, str):
        return None if value is None else embedder_from_string(value)
    if is_embedder(value):
        return value
    raise ConfigError(
        f"memory_embedder must be an Embedder (name, dimensions, async embed) or a string, got {value!r:.100}"
    )


def _fake(text: str, dimensions: str) -> Embedder:
    if not dimensions:
        return FakeEmbedder()
    if not dimensions.isdigit() or int(dimensions) < 2:
        raise ConfigError(f"memory_embedder {text!r}: 'fake:<dimensions>' takes an integer of at least 2")
    return FakeEmbedder(int(dimensions))


def _imported(text: str, module_name: str, attribute: str) -> Embedder:
    try:
        target: object = importlib.import_module(module_name)
    except Exception as error:
        raise ConfigError(f"memory_embedder {text!r}: cannot import module {module_name!r}: {error}") from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(f"memory_embedder {text!r}: {module_name!r} has no attribute {attribute!r}") from None
    if isinstance(target, type) or (callable(target) and not is_embedder(target)):
        try:
            target = target()
        except Exception as error:
            raise ConfigError(f"memory_embedder {text!r}: calling {attribute!r} failed: {error!r}") from error
    if is_embedder(target):
        return target
    raise ConfigError(
        f"memory_embedder {text!r}: {attribute!r} is {type(target).__name__}, not an Embedder "
        "(an object with name, dimensions and async embed(texts)) or a zero-argument factory of one"
    )
