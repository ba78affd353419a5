"""Removes card numbers and security codes from text before it is stored, logged or sent back.

A card number reaches the engine as the recogniser wrote it, not as a form would: grouped
oddly ("4 111 111 111 111 111"), run together with a repetition loop
("4111111111111111111111111"), split by commas, or as words ("four one one one ...",
"oh" for zero). Any run of 13 or more digits — numerals or digit words, spaces, commas,
dots or dashes between them — that holds a Luhn-valid 13-19 digit number is redacted.
"""

from __future__ import annotations

import re

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_TOKEN = r"(?:\d+|" + "|".join(sorted(DIGIT_WORDS, key=len, reverse=True)) + r")"
_DIGIT_RUN = re.compile(rf"(?<![\w]){_TOKEN}(?:[ ,.\-]{{1,3}}{_TOKEN})*(?![\w])", re.IGNORECASE)
_CODE = rf"(?:\d{{3,4}}|{_TOKEN}(?:[ ,\-]{{1,2}}{_TOKEN}){{2,3}})"
_SECURITY_CODE = re.compile(rf"\b(cvv|cvc|security code|card code)\b(\D{{0,20}}?)({_CODE})(?![\w])", re.IGNORECASE)
CARD_DIGITS = range(13, 20)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(run: str) -> str:
    return "".join(DIGIT_WORDS.get(token.lower(), token) for token in re.findall(_TOKEN, run, re.IGNORECASE))


def holds_card_number(digits: str) -> bool:
    """Whether a digit string is, or contains, a Luhn-valid number of a card's length (13-19 digits)."""
    if len(digits) in CARD_DIGITS:
        return _luhn_valid(digits)
    return len(digits) > max(CARD_DIGITS) and any(
        _luhn_valid(digits[start : start + size]) for size in CARD_DIGITS for start in range(len(digits) - size + 1)
    )


def redact(text: str | None) -> str | None:
    """'my card is 4111 1111 1111 1111' -> 'my card is [card number]'."""
    if not text:
        return text

    def card(match: re.Match[str]) -> str:
        return "[card number]" if holds_card_number(_digits(match.group(0))) else match.group(0)

    text = _DIGIT_RUN.sub(card, text)
    return _SECURITY_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}[security code]", text)
