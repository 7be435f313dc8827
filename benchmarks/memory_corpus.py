"""The W5 corpus: the shipped question set's facts hidden among generated filler turns.

Filler is deterministic (seeded) and reuses the questions' vocabulary — other
people's sisters, other appointments, other passwords — so a search must rank,
not just match. Each fact is one user turn; everything else is filler.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from google.adk.events.event import Event
from google.genai import types

__all__ = ["Corpus", "Question", "build_corpus", "load_questions"]

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


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    fact: str


@dataclass(frozen=True, slots=True)
class Corpus:
    #: Events in batches (one add_events_to_memory call each), facts included.
    batches: list[list[Event]]
    questions: list[Question]


def load_questions() -> list[Question]:
    data = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))
    return [Question(question=item["question"], fact=item["fact"]) for item in data["facts"]]


def _filler(rng: random.Random) -> str:
    return rng.choice(_TEMPLATES).format(
        name=rng.choice(_NAMES),
        relation=rng.choice(_RELATIONS),
        place=rng.choice(_PLACES),
        thing=rng.choice(_THINGS),
        day=rng.choice(_DAYS),
        topic=rng.choice(_TOPICS),
    )


def _event(index: int, text: str, author: str, timestamp: float) -> Event:
    return Event(
        id=f"m-{index:06d}",
        invocation_id=f"mem-{index // 2}",
        author=author,
        content=types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]),
        timestamp=timestamp,
    )


def build_corpus(total: int, *, batch_size: int = 500, seed: int = 20_25) -> Corpus:
    """``total`` entries (facts spread evenly among filler), in batches of ``batch_size`` events."""
    questions = load_questions()
    rng = random.Random(seed)
    spacing = max(1, total // (len(questions) + 1))
    fact_at = {spacing * (number + 1): question.fact for number, question in enumerate(questions)}
    start = time.time() - total
    events = [
        _event(
            index,
            fact_at.get(index) or _filler(rng),
            "user" if index in fact_at or index % 2 == 0 else "assistant",
            start + index,
        )
        for index in range(total)
    ]
    batches = [events[offset : offset + batch_size] for offset in range(0, total, batch_size)]
    return Corpus(batches=batches, questions=questions)
