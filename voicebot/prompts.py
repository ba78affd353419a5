"""The bot's wording, as the engine says it: the named sentences of nlu/prompts.yml (a leaf: any layer may use it).

The Rasa actions read the same file (nlu/actions/prompts.py), so a designer edits each
sentence in one place. A missing name or placeholder fails loudly at start-up or in
the tests, never as silence on a call.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from voicebot.settings import PROJECT_ROOT

PROMPTS_FILE = PROJECT_ROOT / "nlu" / "prompts.yml"


@cache
def load_prompts(path: Path = PROMPTS_FILE) -> dict[str, str]:
    prompts = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
        raise ValueError(f"{path}: expected a mapping of prompt names to sentences")
    return prompts


def say(name: str, **values: object) -> str:
    """The sentence called `name`, its {placeholders} filled from `values`."""
    return load_prompts()[name].format(**values)


def queue_status(position: int, expected_wait_s: float) -> str:
    """'You're number 2 in the queue, and the wait is about 6 minutes.'"""
    minutes = max(1, round(expected_wait_s / 60))
    wait = say("wait_a_minute") if minutes == 1 else say("wait_minutes", minutes=minutes)
    place = say("queue_next") if position <= 1 else say("queue_number", position=position)
    return say("queue_status", place=place, wait=wait)
