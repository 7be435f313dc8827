"""A deliberately eager stemmer, used only to prove that a paraphrase question shares nothing with its fact.

The paraphrase questions of W5 must share no content word and no stem with the
fact they ask about. Both texts go through the library's own tokenizer
(:func:`sqlspec_adk.tokens.tokenize`, the one memory search uses), function
words are set aside (:data:`FUNCTION_WORDS`), and two remaining tokens count as
sharing a stem when any of these holds:

- their stems (:func:`stem`: plural, tense, comparison and common derivational
  suffixes stripped) are equal;
- they begin with the same :data:`PREFIX` characters ("allergic"/"allergy");
- one stem of at least four letters is contained in the other token
  ("children"/"grandchildren").

The rule errs towards flagging: a false alarm costs a rewrite of the question,
a miss would let lexical search find a "paraphrase" by its words.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlspec_adk.tokens import tokenize

__all__ = ["FUNCTION_WORDS", "PREFIX", "content_tokens", "shared_stems", "stem"]

#: Leading characters two tokens may not share.
PREFIX = 5

#: Words that carry no content: a question may share these with its fact. The
#: pieces of contractions ("I'm" -> "i", "m") are here too.
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "if",
        "then",
        "than",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "theirs",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "doing",
        "done",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "after",
        "before",
        "up",
        "down",
        "out",
        "off",
        "as",
        "not",
        "no",
        "any",
        "some",
        "all",
        "each",
        "every",
        "much",
        "many",
        "more",
        "most",
        "very",
        "too",
        "also",
        "just",
        "only",
        "still",
        "s",
        "t",
        "m",
        "re",
        "ll",
        "ve",
        "d",
    ]
)

_SUFFIXES = (
    "ational",
    "ization",
    "fulness",
    "iveness",
    "ements",
    "ations",
    "ically",
    "ement",
    "ation",
    "ingly",
    "ments",
    "ness",
    "ment",
    "able",
    "ible",
    "ical",
    "ings",
    "ions",
    "ists",
    "ally",
    "edly",
    "ing",
    "ion",
    "ist",
    "ers",
    "est",
    "ies",
    "ied",
    "ful",
    "ous",
    "ive",
    "ed",
    "er",
    "es",
    "ly",
    "al",
    "ic",
    "y",
    "s",
    "e",
)


def stem(token: str) -> str:
    """``token`` with the longest known suffix removed, keeping at least three letters (repeated twice)."""
    word = token
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    # "stopped" -> "stopp" -> "stop"
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def content_tokens(text: str) -> list[str]:
    """The library's tokens of ``text`` that are not function words, in order, without duplicates."""
    return list(dict.fromkeys(token for token in tokenize(text) if token not in FUNCTION_WORDS))


def _related(a: str, b: str) -> bool:
    if a == b:
        return True
    stem_a, stem_b = stem(a), stem(b)
    if stem_a == stem_b:
        return True
    if len(a) >= PREFIX and len(b) >= PREFIX and a[:PREFIX] == b[:PREFIX]:
        return True
    return (len(stem_a) >= 4 and stem_a in b) or (len(stem_b) >= 4 and stem_b in a)


def shared_stems(question: str, fact: str) -> list[tuple[str, str]]:
    """Every (question token, fact token) pair that shares a word or a stem; empty means a true paraphrase."""
    fact_tokens: Iterable[str] = content_tokens(fact)
    return [(q, f) for q in content_tokens(question) for f in fact_tokens if _related(q, f)]
