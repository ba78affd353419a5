"""Removes card numbers and security codes from text before it is stored or logged."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by spaces or dashes, as ASR or a caller writes a card number.
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_SECURITY_CODE = re.compile(r"\b(cvv|cvc|security code|card code)\b(\D{0,20})(\d{3,4})\b", re.IGNORECASE)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact(text: str | None) -> str | None:
    """'my card is 4111 1111 1111 1111' -> 'my card is [card number]'."""
    if not text:
        return text

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "[card number]" if _luhn_valid(digits) else match.group(0)

    text = _CARD.sub(card, text)
    return _SECURITY_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}[security code]", text)
