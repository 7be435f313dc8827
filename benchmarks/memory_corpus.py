"""The W5 (and W7) memory corpus: the shipped question sets' facts hidden among generated filler turns.

Filler is deterministic (seeded) and harsh in two ways:

- It reuses the questions' vocabulary (other people's sisters, other
  appointments, other passwords), so a search must rank, not just match.
- Every filler turn carries "chatter": words drawn from a Zipf-distributed
  vocabulary (exponent :data:`ZIPF_EXPONENT`) whose head is a few very frequent
  everyday words (:data:`ZIPF_HEAD`: "time", "day", "home", "eat" ...), each in a
  large share of all entries, and whose tail is :data:`ZIPF_TAIL` generated
  words that occur in no question or fact. A question mixing one frequent word
  with a rare one ("What time is my physiotherapy?") then matches thousands of
  entries through the frequent word: a ranking that ignores how rare a word is
  (PostgreSQL's ``ts_rank``) lets them tie with the fact, and a search that
  scores every match pays for all of them.

Each fact is one user turn; everything else is filler. Three question sets
(:data:`KINDS`): ``keyword`` (the original set, sharing keywords with its
facts), ``frequent`` (keyword questions holding one very frequent word) and
``paraphrase`` (sharing no content word and no stem with the fact; checked by
:func:`check_questions`).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from google.adk.events.event import Event
from google.genai import types

from benchmarks.stems import shared_stems
from sqlspec_adk.tokens import tokenize

__all__ = [
    "KINDS",
    "ZIPF_EXPONENT",
    "ZIPF_HEAD",
    "ZIPF_TAIL",
    "Corpus",
    "FillerSource",
    "Question",
    "build_corpus",
    "check_questions",
    "load_questions",
    "memory_event",
]

QUESTIONS_FILE = Path(__file__).with_name("memory_questions.json")

_NAMES = (
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Rosa",
    "Sven",
    "Tara",
    "Yusuf",
)
_RELATIONS = (
    "sister",
    "brother",
    "cousin",
    "colleague",
    "neighbour",
    "friend",
    "manager",
    "aunt",
    "uncle",
    "son",
    "daughter",
    "father",
    "mother",
)
_PLACES = (
    "Bergen",
    "Porto",
    "Leeds",
    "Kyoto",
    "Madrid",
    "Vienna",
    "Galway",
    "Dublin",
    "Lyon",
    "Oslo",
    "Munich",
    "the office",
    "the station",
    "the library",
    "the market",
    "the school",
    "the clinic",
    "the gym",
)
_THINGS = (
    "appointment",
    "password",
    "flight",
    "insurance",
    "contract",
    "membership",
    "recipe",
    "invoice",
    "meeting",
    "ticket",
    "booking",
    "parcel",
    "key",
    "lesson",
    "birthday",
    "car",
    "boiler",
    "passport",
    "coffee",
    "rent",
)
_DAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "next week",
    "in March",
    "in June",
    "in September",
    "tomorrow",
)
_TOPICS = (
    "electric cars",
    "marathon training",
    "sourdough bread",
    "jazz history",
    "mountain cycling",
    "Italian cooking",
    "garden plants",
    "school holidays",
    "energy prices",
    "language apps",
    "cat food",
    "house prices",
    "train travel",
    "blood pressure",
    "swimming technique",
)
_TEMPLATES = (
    "Can you remind me to call {name} about the {thing} {day}?",
    "My {relation} {name} said the {thing} in {place} was a mess.",
    "I read an article about {topic} while waiting at {place}.",
    "The {thing} for {name} needs sorting out before {day}.",
    "We talked about {topic} with {name} at {place} {day}.",
    "What time does {place} open on {day}?",
    "Sure, I have noted that {name} will handle the {thing} {day}.",
    "Please add {topic} to my reading list, {name} recommended it.",
    "Our {relation} moved to {place} and loves {topic}.",
    "Is the {thing} still valid or do I need a new one {day}?",
    "{name} asked whether the {thing} from {place} arrived.",
    "Here is a summary of {topic}: it is popular in {place} these days.",
)


Kind = Literal["keyword", "frequent", "paraphrase"]
#: The question sets, in the order they are asked; the JSON file's key of each.
KINDS: dict[Kind, str] = {"keyword": "facts", "frequent": "frequent", "paraphrase": "paraphrases"}

#: The Zipf head, most frequent first: everyday words and function words. The
#: first four are in roughly 60%, 35%, 20% and 13% of the filler entries.
ZIPF_HEAD = (
    "time",
    "day",
    "the",
    "home",
    "i",
    "eat",
    "to",
    "and",
    "my",
    "a",
    "it",
    "is",
    "get",
    "you",
    "work",
    "of",
    "good",
    "we",
    "go",
    "week",
    "in",
    "people",
    "that",
    "back",
    "for",
    "make",
    "night",
    "know",
    "see",
    "want",
    "need",
    "think",
    "really",
    "come",
    "new",
    "on",
    "just",
    "like",
    "today",
    "with",
    "little",
    "maybe",
    "again",
    "soon",
    "thing",
    "nice",
    "long",
    "much",
    "still",
    "way",
)
#: Generated words after the head (none is a token of any question or fact).
ZIPF_TAIL = 20_000
ZIPF_EXPONENT = 1.0
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kl", "st", "tr", "sh")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ei")
_CODAS = ("", "n", "r", "l", "s", "k", "m", "nd", "rt", "x")


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    fact: str
    kind: Kind = "keyword"


@dataclass(frozen=True, slots=True)
class Corpus:
    #: Events in batches (one add_events_to_memory call each), facts included.
    batches: list[list[Event]]
    questions: list[Question]


def load_questions(kinds: tuple[Kind, ...] = tuple(KINDS)) -> list[Question]:
    """The question sets of ``kinds`` from :data:`QUESTIONS_FILE`, in file order."""
    data = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))
    return [
        Question(question=item["question"], fact=item["fact"], kind=kind)
        for kind in kinds
        for item in data.get(KINDS[kind], [])
    ]


def check_questions(questions: list[Question]) -> list[str]:
    """Problems with the question sets (empty when sound): a paraphrase sharing a word or stem with its fact,
    a fact stored twice, a question without a fact."""
    problems = []
    facts = [question.fact for question in questions]
    for fact in sorted({fact for fact in facts if facts.count(fact) > 1}):
        problems.append(f"fact stored twice: {fact!r}")
    for question in questions:
        if not tokenize(question.question) or not tokenize(question.fact):
            problems.append(f"empty question or fact: {question!r}")
        if question.kind == "paraphrase":
            shared = shared_stems(question.question, question.fact)
            if shared:
                pairs = ", ".join(f"{q}/{f}" for q, f in shared)
                problems.append(f"paraphrase {question.question!r} shares {pairs} with its fact {question.fact!r}")
    return problems


@functools.lru_cache(maxsize=4)
def _vocabulary(reserved: frozenset[str]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The Zipf vocabulary (head, then :data:`ZIPF_TAIL` generated words, none in ``reserved``) and its
    cumulative weights."""
    syllables = [onset + vowel + coda for onset in _ONSETS for vowel in _VOWELS for coda in _CODAS]
    rng = random.Random(7)
    seen = set(reserved) | set(ZIPF_HEAD)
    tail: list[str] = []
    while len(tail) < ZIPF_TAIL:
        word = rng.choice(syllables) + rng.choice(syllables)
        if word not in seen:
            seen.add(word)
            tail.append(word)
    vocabulary = (*ZIPF_HEAD, *tail)
    weights = itertools.accumulate(1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, len(vocabulary) + 1))
    return vocabulary, tuple(weights)


class FillerSource:
    """Seeded filler turns: a template sentence (half of them) and Zipf chatter (all of them)."""

    def __init__(self, seed: int, questions: list[Question] | None = None) -> None:
        reserved = frozenset(
            token
            for question in questions or load_questions()
            for token in tokenize(f"{question.question} {question.fact}")
        )
        self.vocabulary, self.cumulative = _vocabulary(reserved)
        self.rng = random.Random(seed)

    def chatter(self, count: int) -> list[str]:
        total = self.cumulative[-1]
        rng = self.rng
        return [self.vocabulary[bisect.bisect(self.cumulative, rng.random() * total)] for _ in range(count)]

    def text(self) -> str:
        rng = self.rng
        words = self.chatter(rng.randint(4, 14))
        chatter = " ".join(words).capitalize() + "."
        return f"{_filler(rng)} {chatter}" if rng.random() < 0.5 else chatter


def _filler(rng: random.Random) -> str:
    return rng.choice(_TEMPLATES).format(
        name=rng.choice(_NAMES),
        relation=rng.choice(_RELATIONS),
        place=rng.choice(_PLACES),
        thing=rng.choice(_THINGS),
        day=rng.choice(_DAYS),
        topic=rng.choice(_TOPICS),
    )


def memory_event(index: int, text: str, author: str, timestamp: float) -> Event:
    """One memory turn as ADK stores it in a session."""
    return Event(
        id=f"m-{index:06d}",
        invocation_id=f"mem-{index // 2}",
        author=author,
        content=types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]),
        timestamp=timestamp,
    )


def build_corpus(
    total: int, *, batch_size: int = 500, seed: int = 20_25, kinds: tuple[Kind, ...] = tuple(KINDS)
) -> Corpus:
    """``total`` entries (the facts of ``kinds`` spread evenly among filler), in batches of ``batch_size`` events."""
    questions = load_questions(kinds)
    source = FillerSource(seed, questions)
    spacing = max(1, total // (len(questions) + 1))
    fact_at = {spacing * (number + 1): question.fact for number, question in enumerate(questions)}
    start = time.time() - total
    events = [
        memory_event(
            index,
            fact_at.get(index) or source.text(),
            "user" if index in fact_at or index % 2 == 0 else "assistant",
            start + index,
        )
        for index in range(total)
    ]
    batches = [events[offset : offset + batch_size] for offset in range(0, total, batch_size)]
    return Corpus(batches=batches, questions=questions)
