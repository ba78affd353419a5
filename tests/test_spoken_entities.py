"""Spoken identifiers and dates: every way a caller says them must give ONE canonical value."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nlu"))

from components.spoken_entities import extract_entities, parse_date, spoken_digits  # noqa: E402

TODAY = dt.date(2026, 3, 4)  # a Wednesday


def values(text: str, entity: str) -> list[str]:
    return [e["value"] for e in extract_entities(text, TODAY) if e["entity"] == entity]


# (what the caller said / what ASR wrote, canonical order number)
ORDER_NUMBER_PHRASINGS = [
    # digit by digit
    ("one two three four five six", "123456"),
    ("one oh four two three three", "104233"),
    ("one zero four two three three", "104233"),
    ("one o four two three three", "104233"),
    ("oh four two three three one", "042331"),
    ("The order number is ONE OH FOUR TWO THREE THREE", "104233"),
    ("one-oh-four-two-three-three", "104233"),
    # double / triple
    ("double seven four one two three", "774123"),
    ("one triple two four five", "122245"),
    ("double oh seven one two three", "007123"),
    ("It's one double-oh five one two.", "100512"),
    # a caller thinking aloud between the digits
    ("Uh, one zero eight... four, two... hang on... five.", "108425"),
    ("one oh four, let me see, two three three", "104233"),
    # pairs and cardinals
    ("one twenty three four fifty six", "123456"),
    ("twelve thirty four fifty six", "123456"),
    ("ten forty two thirty three", "104233"),
    ("one oh four two thirty three", "104233"),
    ("one oh four, two thirty three", "104233"),
    ("a hundred and four thousand two hundred thirty three", "104233"),
    ("one hundred four thousand two hundred and thirty three", "104233"),
    ("it's a hundred and four thousand, two hundred and thirty-three", "104233"),
    ("one hundred four two three three", "104233"),
    ("It's one hundred, five twelve.", "100512"),  # a round hundred, a pause, then a pair
    # ASR digit formats and punctuation
    ("104233", "104233"),
    ("it's 104233.", "104233"),
    ("number #104233", "104233"),
    ("Order number: 104233", "104233"),
    ("order #104-233, please", "104233"),
    ("104,233", "104233"),
    ("so it's 104,233 right?", "104233"),
    ("104 233", "104233"),
    ("123-456", "123456"),
    ("1 0 4 2 3 3", "104233"),
    ("1, 0, 4, 2, 3, 3.", "104233"),
    ("1-0-4-2-3-3", "104233"),
    ("10 42 33", "104233"),
    ("One, two, three. Four, five, six.", "123456"),
    # a whole number, then a new sentence that starts with a number word
    ("It's one zero one eight seven four. Two charges, same amount.", "101874"),
    # ASR mixing digits and words
    ("one 0 4 two three three", "104233"),
    ("1 oh 4 2 3 3", "104233"),
    ("my order is 104 two three three", "104233"),
    ("one two three for five six", "123456"),
    # fillers between the digits
    ("one oh four, um, two three three", "104233"),
    ("uh one oh four uh two three three", "104233"),
    ("it's like one oh four, sorry, two three three", "104233"),
    ("one oh four I mean two three three", "104233"),
    ("one oh four, you know, two three three", "104233"),
    ("uh yeah it's one zero four two three three", "104233"),
    # in a sentence, with other entities around
    ("it's for order 104233", "104233"),
    ("104233 is my order number", "104233"),
    ("my order one oh four two three three arrived damaged", "104233"),
    ("I'm calling about order 104233 and my zip is 62704", "104233"),
    ("I ordered two items on December 3rd, order number 104233", "104233"),
]


@pytest.mark.parametrize("text, expected", ORDER_NUMBER_PHRASINGS)
def test_order_number_phrasings(text: str, expected: str) -> None:
    assert values(text, "order_number") == [expected]


def test_order_number_table_is_large() -> None:
    assert len(ORDER_NUMBER_PHRASINGS) >= 40


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my phone number is 555-123-4567", "5551234567"),
        ("(555) 123-4567", "5551234567"),
        ("+1 555 123 4567", "5551234567"),
        ("1-800-555-1234", "8005551234"),
        ("call me on 5551234567", "5551234567"),
        ("five five five one two three four five six seven", "5551234567"),
        ("my cell is five five five, one two three, forty five sixty seven", "5551234567"),
        ("phone one five five five one two three four five six seven", "5551234567"),
        ("my mobile is double five five, one two three, four five six seven", "5551234567"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert values(text, "phone_number") == [expected]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my zip code is 62704", "62704"),
        ("zip six two seven oh four", "62704"),
        ("postal code is sixty two seven oh four", "62704"),
        ("post code 02134", "02134"),
        ("the postcode is oh two one three four", "02134"),
        ("62704-1234", "62704-1234"),
        ("zip code is 62704 1234", "62704-1234"),
        ("62704", "62704"),
    ],
)
def test_postcodes(text: str, expected: str) -> None:
    assert values(text, "postcode") == [expected]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the last four are 4 5 6 7", "4567"),
        ("last four digits 4567", "4567"),
        ("it ends in four five six seven", "4567"),
        ("number ending in 4567", "4567"),
        ("the last four of my phone are 4567", "4567"),
        ("1234", "1234"),
        ("one two three four", "1234"),
        ("double seven", "77"),
        ("oh four", "04"),
        ("seven", "7"),
        ("um, it's seven", "7"),
        ("twenty three", "23"),
        ("two hundred, thirty three", "233"),  # a pause after the hundred, then its tens
    ],
)
def test_digits(text: str, expected: str) -> None:
    assert values(text, "digits") == [expected]
    assert values(text, "order_number") == values(text, "phone_number") == values(text, "postcode") == []


@pytest.mark.parametrize(
    "text",
    [
        "I have two items",
        "the blue one",
        "one of them",
        "how do I improve my golf swing",
        "I ordered one last week",
        "I want to return two of the three shirts",
        "I'd like two please",
        "it arrived at 3:30 pm",
        "I was charged 4.99",
        "Oh I see",
        "oh oh",
        "I've been waiting for two weeks",
        "buy one for two",
        "it should come in three days",
        "",
    ],
)
def test_quantities_and_chatter_are_not_identifiers(text: str) -> None:
    found = extract_entities(text, TODAY)
    assert not [e for e in found if e["entity"] in ("order_number", "digits", "phone_number", "postcode")]


def test_the_pronoun_one_is_no_digit() -> None:
    # "the old one" is a zip code, not the 1 of a sixth digit before the next zip code
    text = "Zip is nine eight one oh three, no wait, that's the old one. Nine eight one oh seven."
    assert values(text, "postcode") == ["98107"]  # and the first, taken back, gives way
    assert values(text, "order_number") == []
    assert values("no one has helped me", "digits") == []
    assert values("it's the one oh four two three three", "order_number") == ["104233"]


def test_a_number_taken_back_gives_way_to_the_one_said_after_it() -> None:
    said = "one oh two three eight six, no wait, one oh two three nine six"
    assert values(said, "order_number") == ["102396"]
    # part of it said again, then all of it after a pause: the whole one is the order
    said = "Sure, one oh two, three, uh... eight six. No wait, no, three nine six. One oh two three nine six."
    assert values(said, "order_number") == ["102396"]
    assert values("Peachtree Place, three oh three one nine... no wait, three oh three one eight.", "postcode") == ["30318"]
    # said twice in a row, it is one number twice, not a ten-digit one
    assert values("Oh, it's four three two one five. Four three two one five.", "postcode") == ["43215", "43215"]
    # a filler after a whole order number does not join the quantity that follows
    assert values("so I got order one oh six three four seven like five days ago", "order_number") == ["106347"]
    assert values("my number is five five five one two three, um, four five six seven", "phone_number") == ["5551234567"]
    # without a word that takes it back, both numbers stand
    assert values("order 104233 and also 105620", "order_number") == ["104233", "105620"]
    assert values("one oh four... two three three", "order_number") == ["104233"]  # a pause inside one number


def test_context_words_decide_before_length() -> None:
    # a 5-digit "order number" is a misheard order number, not a postcode: ask again
    assert values("my order number is 10423", "postcode") == []
    assert values("my order number is 10423", "order_number") == []
    assert values("my order number is 10423", "digits") == ["10423"]
    assert values("my zip is 104233", "order_number") == []
    assert values("order 5551234567", "phone_number") == []


def test_each_number_takes_the_context_of_its_own_clause() -> None:
    text = "62704 is my zip and 5551234567 is my phone"
    assert values(text, "postcode") == ["62704"]
    assert values(text, "phone_number") == ["5551234567"]

    text = "order 104233, zip 62704, phone 555-123-4567"
    assert values(text, "order_number") == ["104233"]
    assert values(text, "postcode") == ["62704"]
    assert values(text, "phone_number") == ["5551234567"]


def test_entities_are_rasa_style_with_offsets_into_the_original_text() -> None:
    text = "My order is one oh four, um, two three three and I need it by Dec 3rd."
    found = extract_entities(text, TODAY)
    assert [(e["entity"], e["value"], e["text"]) for e in found] == [
        ("order_number", "104233", "one oh four, um, two three three"),
        ("date", "2026-12-03", "Dec 3rd"),
    ]
    for entity in found:
        assert set(entity) == {"entity", "value", "start", "end", "text"}
        assert text[entity["start"] : entity["end"]] == entity["text"]


def test_a_typed_number_is_not_also_reported_as_digits() -> None:
    found = extract_entities("phone +1 555 123 4567", TODAY)
    assert [(e["entity"], e["value"]) for e in found] == [("phone_number", "5551234567")]


def test_dates_are_not_read_as_digits() -> None:
    assert values("deliver it on 12/03", "digits") == []
    assert values("Dec 3 2026 order 104233", "date") == ["2026-12-03"]
    assert values("Dec 3 2026 order 104233", "order_number") == ["104233"]
    assert values("2026-12-03", "digits") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my order is one oh four, um, two three three", "my order is 104233"),
        ("twelve thirty four fifty six please", "123456 please"),
        ("call 555-123-4567 tomorrow", "call 5551234567 tomorrow"),
        ("a hundred and four thousand two hundred thirty three", "104233"),
        ("I have two items", "I have two items"),
        ("the last four are 4 5 6 7", "the last four are 4567"),
        ("deliver it on 12/03", "deliver it on 12/03"),
        ("how do I improve my golf swing", "how do I improve my golf swing"),
    ],
)
def test_spoken_digits(text: str, expected: str) -> None:
    assert spoken_digits(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", "2026-03-04"),
        ("tomorrow", "2026-03-05"),
        ("yesterday", "2026-03-03"),
        ("the day after tomorrow", "2026-03-06"),
        ("next Monday", "2026-03-09"),
        ("next Friday", "2026-03-13"),  # the Friday of next week
        ("this Friday", "2026-03-06"),
        ("this Wednesday", "2026-03-04"),
        ("on Monday", "2026-03-09"),
        ("on Wednesday", "2026-03-11"),  # the coming one, not today
        ("can you deliver it Friday please", "2026-03-06"),
        ("in 3 days", "2026-03-07"),
        ("in three days", "2026-03-07"),
        ("in two weeks", "2026-03-18"),
        ("next week", "2026-03-09"),
        ("December 3rd", "2026-12-03"),
        ("3rd of December", "2026-12-03"),
        ("the third of December", "2026-12-03"),
        ("Dec 3", "2026-12-03"),
        ("Dec. 3rd, 2027", "2027-12-03"),
        ("December twenty-first", "2026-12-21"),
        ("March 1st", "2027-03-01"),  # already past this year
        ("February 29th", "2028-02-29"),
        ("12/03", "2026-12-03"),
        ("3/1", "2027-03-01"),
        ("03/04", "2026-03-04"),
        ("12/03/2027", "2027-12-03"),
        ("2026-12-03", "2026-12-03"),
        ("it was due on 2026-02-28 and never came", "2026-02-28"),
        ("hello", None),
        ("may I ask something", None),
        ("February 30th", None),
        ("order 123-456", None),
    ],
)
def test_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text, TODAY) == expected
