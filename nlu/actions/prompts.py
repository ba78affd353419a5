"""The bot's sentences, by name, from nlu/prompts.yml: the one file designers edit, which the engine reads too.

Rasa's own responses (utter_*) stay in domain.yml. A missing name or placeholder
raises here, and tests/test_action_prompts.py checks every call against the file.
"""

from functools import cache
from pathlib import Path

import yaml

PROMPTS_FILE = Path(__file__).resolve().parent.parent / "prompts.yml"


@cache
def sentences() -> dict:
    return yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))


def say(name: str, **values: object) -> str:
    """The sentence called `name`, its {placeholders} filled from `values`."""
    return sentences()[name].format(**values)
