"""Emotion from a caller's words: nearest examples in sentence-embedding space.

Each label has example sentences (examples.yml). A turn gets the label whose three
closest examples are, on average, closest to it; a turn not clearly closer to an
emotional label than to the neutral examples stays neutral. Lexicon sentiment (VADER)
was tried first and missed the contact-centre register ("I've called three times and
nobody helps me" scored as positive).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml

from knowledge.encoder import SentenceEncoder

EXAMPLES_FILE = Path(__file__).with_name("examples.yml")
EMOTIONS = ("neutral", "happy", "sad", "anxious", "frustrated", "angry")
NEAREST = 3
# How much closer than the neutral examples an emotional label must be.
MIN_LEAD = 0.05
# One short sentence is read less surely than a whole turn ("It's on my card two times."
# lies a little nearer the frustrated examples): it must be clearly emotional to count.
MIN_SENTENCE_LEAD = 0.1
UPSET = frozenset({"angry", "frustrated"})
SENTENCE = re.compile(r"(?<=[.!?])\s+")


class TextEmotion:
    def __init__(self, encoder: SentenceEncoder, examples_file: Path = EXAMPLES_FILE) -> None:
        examples = yaml.safe_load(examples_file.read_text(encoding="utf-8"))
        unknown = set(examples) - set(EMOTIONS)
        if unknown or "neutral" not in examples:
            raise ValueError(f"{examples_file}: labels must be {', '.join(EMOTIONS)} (neutral required); got {sorted(examples)}")
        self.encoder = encoder
        self.vectors = {label: encoder.encode([str(s) for s in sentences]) for label, sentences in examples.items()}

    def scores(self, text: str) -> dict[str, float]:
        return self._scores(self.encoder.encode([text])[0])

    def _scores(self, vector: np.ndarray) -> dict[str, float]:
        return {
            label: float(np.sort(vectors @ vector)[-NEAREST:].mean()) for label, vectors in self.vectors.items()
        }

    def label(self, text: str) -> str:
        """The clearest emotion of the turn as a whole or of any one of its sentences: in
        "This is ridiculous. My package is late again, order 108425..." the order details
        would otherwise drown the anger. A caller who says they have asked before and were
        not helped is frustrated even in calm words (the examples alone read "This is the
        third time I'm calling about the same order and nobody has helped me" as neutral)."""
        if not text or not text.strip():
            return "neutral"
        parts = [p.strip() for p in SENTENCE.split(text) if p.strip()]
        pieces = [text] + (parts if len(parts) > 1 else [])
        best, lead = "neutral", 0.0
        for n, vector in enumerate(self.encoder.encode(pieces)):
            scores = self._scores(vector)
            label = max(scores, key=scores.get)
            margin = scores[label] - scores["neutral"]
            if label != "neutral" and margin >= (MIN_LEAD if n == 0 else MIN_SENTENCE_LEAD) and margin > lead:
                best, lead = label, margin
        return "frustrated" if best == "neutral" and repeat_contact(text) else best


# Words of a caller who has been through this before: "the third time I'm calling",
# "I've been calling all week", "nobody does anything". Upset and repeating, they go to a
# person at once rather than through the bot's questions again.
REPEAT_CONTACT = re.compile(
    r"\b(?:second|third|fourth|fifth|sixth|umpteenth|\w+th|\d+(?:st|nd|rd|th)) time\b"
    r"|\bcall(?:ed|ing)\b[^.!?]{0,30}?\b(?:all week|again|twice|three times|(?:so )?many times|every day|for (?:days|weeks))\b"
    r"|\b(?:keep|kept) (?:calling|ringing|phoning)\b"
    r"|\b(?:nobody|no one|no-one)\s+(?:has\s+|ever\s+)?(?:helped|helps|does anything|did anything|fixed|called back|gets back)\b",
    re.IGNORECASE,
)


def repeat_contact(text: str) -> bool:
    """The caller says they have asked before and were not helped."""
    return bool(REPEAT_CONTACT.search(text or ""))


def sustained_anger(emotions: list[str | None]) -> bool:
    """The caller has been upset for a while: the last two turns angry, or three of the last four upset."""
    recent = [e for e in emotions if e][-4:]
    return recent[-2:] == ["angry", "angry"] or sum(e in UPSET for e in recent) >= 3
