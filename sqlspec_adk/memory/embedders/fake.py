"""``FakeEmbedder``: deterministic vectors from words, for tests and offline demos. Not semantic.

Each text is split with the library's own tokenizer (:func:`sqlspec_adk.tokens.tokenize`),
common English function words are dropped, each word is cut to a crude stem
(``foods`` -> ``food``), and every stem adds a signed, hashed feature (blake2b,
so the same text gives the same vector in every process, on every machine).
A stem that belongs to one of the small hand-written :data:`SYNONYM_GROUPS` also
adds its group's feature, so a handful of everyday paraphrases land near each
other: "which foods should I avoid?" is closer to "I'm allergic to peanuts" than
to "my sister lives in Lisbon".

That is all it knows. It has no model of meaning: two texts sharing no stem and
no group are unrelated to it, and it does not know most words. Use it to test
the vector plumbing (storage, ranking, fusion) without a model; use a real
embedder for real search.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import lru_cache

from sqlspec_adk.tokens import tokenize

__all__ = ["SYNONYM_GROUPS", "FakeEmbedder"]

_STOPWORDS_TEXT = """
a about all am an and any are as at be been but by can could did do does doing for from had has have he her here
hers him his how i if in into is it its just ll m me might more most must my no not now of on or our ours out over
re s shall she should so some t than that the their them then there these they this those to too up us ve very was
we were what when where which who whom why will with would you your yours d don doesn didn isn aren wasn weren won
wouldn shouldn couldn
"""
#: Words that carry no topic; dropped unless a text has nothing else.
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

#: Hand-written groups of words (space-separated) an everyday paraphrase may swap for one another.
SYNONYM_GROUPS: dict[str, str] = {
    "food": (
        "food allergic allergy allergies peanut peanuts nut nuts eat eating ate meal meals diet dish dishes "
        "cuisine snack snacks gluten dairy lactose vegan vegetarian cook cooking recipe breakfast lunch dinner"
    ),
    "health": "allergic allergy allergies sick illness ill doctor medicine medication health hospital",
    "home": "live lives living home house apartment flat reside resides address city town moved move",
    "pet": "pet pets dog dogs cat cats puppy kitten animal animals",
    "family": (
        "family sister brother sibling siblings mother mom mum father dad parent parents wife husband spouse "
        "son daughter child children kid kids"
    ),
    "work": "work works working job employer company office career profession employed colleague boss",
    "travel": "travel trip trips vacation holiday flight fly flying visit journey abroad",
    "liking": "like likes love loves enjoy enjoys favorite favourite prefer prefers fond",
    "drink": "drink drinks coffee tea beverage juice espresso",
    "music": "music song songs band sing singing guitar piano instrument",
    "sport": "sport sports exercise gym workout run running football soccer tennis swim swimming",
    "birth": "birthday born age anniversary",
    "naming": "name named called call",
    "language": "language languages speak speaks fluent spanish french english german",
    "transport": "car drive drives vehicle bike bicycle commute bus train",
    "reading": "book books read reading novel novels author",
    "money": "money salary pay paid budget cost price expensive cheap",
    "schedule": "meeting meetings appointment schedule calendar deadline",
}


def stem(word: str) -> str:
    """A crude English stem: enough that a plural or an ``-ing`` form meets its base word."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _group_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for group, words in SYNONYM_GROUPS.items():
        for word in words.split():
            members = index.setdefault(stem(word), [])
            if group not in members:
                members.append(group)
    return {word: tuple(groups) for word, groups in index.items()}


_GROUPS = _group_index()


@lru_cache(maxsize=65_536)
def _feature(feature: str, dimensions: int) -> tuple[int, float]:
    """The (index, sign) a feature adds to: a stable hash, never Python's per-process ``hash``."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimensions, 1.0 if (digest >> 63) & 1 else -1.0


class FakeEmbedder:
    """Deterministic hashed-word vectors (see the module docstring); ``name`` is ``fake:<dimensions>``.

    Not semantic in any real sense: for tests and offline demos only.
    """

    def __init__(self, dimensions: int = 256) -> None:
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 2:
            raise ValueError(f"FakeEmbedder dimensions must be an integer of at least 2, got {dimensions!r}")
        self._dimensions = dimensions

    @property
    def name(self) -> str:
        return f"fake:{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def __repr__(self) -> str:
        return f"FakeEmbedder(dimensions={self._dimensions})"

    def vector(self, text: str) -> list[float]:
        """The unit vector of one text (synchronous: it is a few hashes)."""
        words = tokenize(text)
        stems = [stem(word) for word in words if word not in STOPWORDS] or [stem(word) for word in words]
        features = [f"w:{word}" for word in stems]
        features += [f"g:{group}" for word in stems for group in _GROUPS.get(word, ())]
        values = [0.0] * self._dimensions
        for feature in features or ["empty"]:
            index, sign = _feature(feature, self._dimensions)
            values[index] += sign
        norm = math.sqrt(math.fsum(value * value for value in values))
        if norm == 0.0:  # features that cancelled out exactly: the empty text's vector
            index, sign = _feature("empty", self._dimensions)
            values[index], norm = sign, 1.0
        return [value / norm for value in values]

    async def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        return [self.vector(text) for text in texts]
