"""Call-back times as callers say them, kept inside the service hours."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from voicebot.handoff.callback import parse_callback_time, spoken_time

MONDAY_10_15 = datetime(2026, 11, 23, 10, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("said", "expected", "spoken"),
    [
        ("tomorrow at ten", "2026-11-24T10:00", "tomorrow at 10 am"),
        ("tomorrow at 10 am", "2026-11-24T10:00", "tomorrow at 10 am"),
        ("on wednesday at two thirty pm", "2026-11-25T14:30", "on Wednesday at 2:30 pm"),
        ("um in an hour please", "2026-11-23T11:15", "today at 11:15 am"),
        ("call me back in two hours", "2026-11-23T12:15", "today at 12:15 pm"),
        ("this afternoon", "2026-11-23T14:00", "today at 2 pm"),
        ("tomorrow morning", "2026-11-24T09:00", "tomorrow at 9 am"),
        ("at three", "2026-11-23T15:00", "today at 3 pm"),  # no am/pm: three in the afternoon
        ("at nine", "2026-11-24T09:00", "tomorrow at 9 am"),  # nine has passed today
        ("at noon tomorrow", "2026-11-24T12:00", "tomorrow at 12 pm"),
        ("friday at 2:30 pm", "2026-11-27T14:30", "on Friday at 2:30 pm"),
        ("saturday at eleven", "2026-11-28T11:00", "on Saturday at 11 am"),
    ],
)
def test_times_callers_say(said, expected, spoken) -> None:
    when = parse_callback_time(said, MONDAY_10_15)
    assert when is not None and when.isoformat(timespec="minutes").startswith(expected)
    assert spoken_time(when, MONDAY_10_15) == spoken


@pytest.mark.parametrize(
    "said",
    ["whenever", "sunday at ten", "tomorrow at midnight", "tomorrow at 9 pm", "at seven in the morning", "in twenty hours"],
)
def test_no_clear_time_or_outside_service_hours_is_refused(said) -> None:
    assert parse_callback_time(said, MONDAY_10_15) is None
