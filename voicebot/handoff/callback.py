"""Call-back times as callers say them: "tomorrow at ten", "Monday at 2:30 pm", "in an hour".

A caller who would rather not hold chooses when an agent calls them back. The time must
fall in the service hours (8 am to 8 pm, Monday to Saturday: the contacting-us article)
within the next week; otherwise the caller is asked again.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

OPEN_HOUR, CLOSE_HOUR = 8, 20
OPEN_DAYS = range(0, 6)  # Monday..Saturday
MAX_DAYS_AHEAD = 7
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "noon": 12, "midday": 12, "a": 1, "an": 1,
}
MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "half": 30, "forty five": 45, "quarter": 15}


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return NUMBERS.get(token)


def parse_callback_time(text: str, now: datetime) -> datetime | None:
    """The moment the caller asked for (in `now`'s time zone), or None when there is no clear time."""
    words = re.sub(r"[^a-z0-9: ]", " ", text.lower().replace("a.m.", "am").replace("p.m.", "pm")).split()
    said = " ".join(words)
    relative = re.search(r"\bin (an?|one|two|three|four|five|\d+) (hour|hours|minutes)\b", said)
    if relative:
        amount = _number(relative.group(1)) or 1
        delta = timedelta(hours=amount) if relative.group(2).startswith("hour") else timedelta(minutes=amount)
        return _within_service(now + delta, now)

    day = now.date()
    if "tomorrow" in words:
        day = day + timedelta(days=1)
    else:
        for index, name in enumerate(WEEKDAYS):
            if name in words:
                ahead = (index - now.weekday()) % 7 or 7
                day = day + timedelta(days=ahead)
                break

    clock = re.search(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b", said)
    hour = minute = None
    meridiem = None
    if clock and (clock.group(2) or clock.group(3) or " at " in f" {said} "):
        hour, minute, meridiem = int(clock.group(1)), int(clock.group(2) or 0), clock.group(3)
    else:
        spoken = re.search(r"\b(?:at|around|about)\s+(\w+)(?:\s+(thirty|fifteen|forty five))?(?:\s+(am|pm))?", said)
        if spoken and _number(spoken.group(1)) and spoken.group(1) not in ("a", "an"):
            hour, minute, meridiem = _number(spoken.group(1)), MINUTE_WORDS.get(spoken.group(2) or "", 0), spoken.group(3)
        elif "noon" in words or "midday" in words:
            hour, minute = 12, 0
    if hour is None:
        if "morning" in words:
            hour, minute = 9, 0
        elif "afternoon" in words:
            hour, minute = 14, 0
        elif "evening" in words:
            hour, minute = 18, 0
        else:
            return None
    if meridiem is None and hour == 12:
        meridiem = "pm"  # twelve o'clock on a phone line is noon
    if meridiem is None and "morning" in words:
        meridiem = "am"
    if meridiem is None:
        meridiem = "pm" if ("afternoon" in words or "evening" in words or hour < OPEN_HOUR) and hour < 12 else "am"
    if meridiem == "pm" and hour < 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)
    if when <= now and day == now.date() and not any(w in words for w in ("today", "tomorrow", *WEEKDAYS)):
        when += timedelta(days=1)  # "at nine" said after nine means tomorrow
    return _within_service(when, now)


def _within_service(when: datetime, now: datetime) -> datetime | None:
    if when <= now or when - now > timedelta(days=MAX_DAYS_AHEAD):
        return None
    if when.weekday() not in OPEN_DAYS or not (OPEN_HOUR <= when.hour < CLOSE_HOUR):
        return None
    return when


def spoken_time(when: datetime, now: datetime) -> str:
    """ "today at 3 pm", "tomorrow at 10:30 am", "on Monday at 9 am"."""
    clock = when.strftime("%I:%M %p").lstrip("0").replace(":00", "").lower()
    if when.date() == now.date():
        return f"today at {clock}"
    if when.date() == now.date() + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"on {when.strftime('%A')} at {clock}"
