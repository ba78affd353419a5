"""Phone numbers as callers and records write them: one way to compare them everywhere."""

from __future__ import annotations

import re

MIN_DIGITS = 7  # shorter strings are extensions or typos, never a caller's number
KEY_DIGITS = 10  # a US number without its country code


def digits(value: str | None) -> str:
    """Only the digits: '+1 (555) 010-4233' -> '15550104233'."""
    return re.sub(r"[^0-9]", "", value or "")


def phone_key(phone: str | None) -> str | None:
    """The last 10 digits, so +1 (555) 010-4233 and 5550104233 are the same caller; None if too short."""
    number = digits(phone)
    return number[-KEY_DIGITS:] if len(number) >= MIN_DIGITS else None


def same_phone(a: str | None, b: str | None) -> bool:
    key = phone_key(a)
    return key is not None and key == phone_key(b)


def last_four_match(given: str | None, phone: str | None) -> bool:
    """The identity check: the caller's last four digits (or a longer number ending in them)."""
    said = digits(given)
    return len(said) >= 4 and said[-4:] == digits(phone)[-4:]


def masked(phone: str | None) -> str | None:
    """'+15125550147' -> '•••0147': enough to tell callers apart in a queue, not to call them."""
    if phone is None:
        return None
    number = digits(phone)
    return f"•••{number[-4:]}" if len(number) >= 4 else "•••"
