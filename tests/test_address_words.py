"""A new address as callers say it becomes the address the bot reads back and stores.

Runs in the Rasa venv, where the actions live (nlu/actions/actions.py).
"""

from __future__ import annotations

import json

import pytest

from tests.rasa_venv import ROOT, requires_rasa_venv, run_in_rasa

pytestmark = requires_rasa_venv

SCRIPT = """
import json, sys
from actions.actions import clean_address
print("RESULT " + json.dumps([clean_address(text) for text in json.loads(sys.argv[1])]))
"""

SAID = {
    "Okay so the new one is eighty-eight West Third Avenue, Columbus, Ohio, four three two, oh one.":
        "88 West Third Avenue, Columbus, Ohio, 43201",
    "So it's fifty-four oh two Twenty-Second Avenue Northwest, Seattle, and the zip is nine eight one oh three.":
        "5402 Twenty-Second Avenue Northwest, Seattle 98103",
    "She lives at three seventeen Maple Drive, in Dublin, Ohio. That's four three oh one seven.":
        "317 Maple Drive, in Dublin, Ohio 43017",
    "um send it to forty two elm street": "42 elm street",
    "Oh, it's forty two Elm Street, Austin, seven eight seven oh one.": "42 Elm Street, Austin, 78701",
    "three hundred, no, sorry, three twenty Peachtree Street": "320 Peachtree Street",
    "the new place is, uh, forty-two eighteen Stone Way North, Seattle, nine eight one one five, so if you could send it there that'd be awesome.":
        "4218 Stone Way North, Seattle, 98115",
    "Hmm, no, sorry, I said that wrong. It's eighteen thirty Pine Street, not Elm. Pine.": "1830 Pine Street",
    "12345 Main Street": "12345 Main Street",  # a five-digit house number is no zip code
    "seventeen Route 9, Albany, one two two oh three please": "17 Route 9, Albany, 12203",
}


@pytest.fixture(scope="module")
def cleaned() -> list[str]:
    return run_in_rasa(SCRIPT, json.dumps(list(SAID)), env={"PYTHONPATH": str(ROOT)})


def test_words_around_the_address_are_dropped_and_numbers_read_as_digits(cleaned: list[str]) -> None:
    assert cleaned == list(SAID.values())
