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


def _redactions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of each part of `text` to hide, in order."""
    found = [(m.start(), m.end(), "[card number]") for m in _DIGIT_RUN.finditer(text) if holds_card_number(_digits(m.group(0)))]
    for m in _SECURITY_CODE.finditer(text):
        if not any(start < m.end(3) and m.start(3) < end for start, end, _ in found):
            found.append((m.start(3), m.end(3), "[security code]"))
    return sorted(found)


def redact(text: str | None) -> str | None:
    """'my card is 4111 1111 1111 1111' -> 'my card is [card number]'."""
    if not text:
        return text
    for start, end, replacement in reversed(_redactions(text)):
        text = text[:start] + replacement + text[end:]
    return text


def hides(text: str | None, start: int, end: int) -> bool:
    """Whether `redact` hides any of text[start:end]: an entity read from there (a card's digits,
    a security code) must not be kept either."""
    return bool(text) and any(s < end and start < e for s, e, _ in _redactions(text))


def redact_entity(text: str | None, entity: dict) -> dict:
    """An NLU entity of `text` as it may be kept: hidden whole when read from redacted words."""
    start, end = entity.get("start"), entity.get("end")
    if isinstance(start, int) and isinstance(end, int) and hides(text, start, end):
        return {**entity, **{k: "[redacted]" for k in ("value", "text") if k in entity}}
    return {k: redact(v) if k in ("value", "text") and isinstance(v, str) else v for k, v in entity.items()}
