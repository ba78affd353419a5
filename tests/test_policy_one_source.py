"""The order policy has one source: the engine decides (voicebot/domain/policy.py), the Rasa actions phrase it.

The engine's repositories run on a seeded SQLite copy with a pinned clock; the real
action code runs on the order JSON they return, in the Rasa environment, as the action
server would: at the same moment, in its own time zone. At the very end of the return
window, and in a zone whose date is not UTC's, the bot offers a refund exactly when the
engine grants one, and it offers to cancel exactly the orders the engine cancels.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from voicebot.domain import policy
from voicebot.domain.errors import NotAllowed
from voicebot.domain.records import to_json
from voicebot.domain.types import OrderStatus
from voicebot.runtime.rasa_runner import rasa_env, rasa_executable
from voicebot.settings import Settings
from voicebot.store import make_engine, session_factory
from voicebot.store.models import Order
from voicebot.store.repositories import Store
from voicebot.store.seed import FIXED_ORDERS

pytestmark = pytest.mark.integration

DELIVERED = "106347"  # delivered, no refund yet
REFUND_TASKS = ("get_refund", "track_refund", "cancel_order")  # each of them may offer a refund

# Runs in the Rasa venv: each (task, order) through the action's task handler; says what it offered.
ACTION_SCRIPT = """
import json, sys, time
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from actions.actions import TASKS

answers = []
for task, order in json.load(sys.stdin):
    dispatcher = CollectingDispatcher()
    tracker = Tracker("policy-test", {}, {}, [], False, None, {}, "action_listen")
    events = TASKS[task](dispatcher, tracker, order)
    offered = [e["value"] for e in events if e.get("name") == "pending_confirmation"]
    answers.append({"offers": offered[-1] if offered else None, "said": " ".join(m["text"] for m in dispatcher.messages if m.get("text"))})
json.dump({"local_date": time.strftime("%Y-%m-%d"), "answers": answers}, sys.stdout)
"""


def posix_zone(hours: int) -> str:
    """A TZ value for UTC+hours that needs no time zone database: '<+14>-14'."""
    return f"<{hours:+03d}>{-hours:+d}"


def zone_off_the_utc_date(now: datetime) -> int:
    """UTC+14 or UTC-12, whichever has another date than UTC's at `now`."""
    return 14 if now.hour >= 12 else -12


def action_answers(tmp_path, cases: list[tuple[str, dict[str, Any]]], zone_hours: int = 0) -> tuple[str, list[dict]]:
    """What the actions say and offer for each (task, order JSON), run at UTC+zone_hours; and their local date."""
    settings = Settings(data_dir=tmp_path)
    result = subprocess.run(
        [str(rasa_executable(settings, "python")), "-c", ACTION_SCRIPT],
        input=json.dumps(cases), cwd=settings.nlu_dir, env={**rasa_env(settings), "TZ": posix_zone(zone_hours)},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reply = json.loads(result.stdout)
    return reply["local_date"], reply["answers"]


def engine_grants(change, *args: Any) -> bool:
    """True when the engine makes the change, False when its policy refuses it."""
    try:
        change(*args)
    except NotAllowed:
        return False
    return True


@pytest.fixture
def now() -> datetime:
    """The moment of the test, to the second: the engine's clock is pinned near it; the actions run on the real clock."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def database(db_url: str):
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.parametrize("minutes_past_deadline", [-1, 1], ids=["last minute of the window", "first minute after it"])
@pytest.mark.parametrize("actions_zone", ["UTC", "local date not UTC's"])
def test_the_bot_offers_a_refund_exactly_when_the_engine_grants_one(tmp_path, database, now, minutes_past_deadline, actions_zone):
    """The window closes `return_window_days` after delivery to the minute, in UTC, for the bot as for the engine."""
    with database.begin() as session:  # the return window of the delivered order ends now
        session.execute(update(Order).where(Order.order_number == DELIVERED).values(delivered_at=now - policy.RETURN_WINDOW))
    store = Store.open(database, clock=lambda: now + timedelta(minutes=minutes_past_deadline))
    order = to_json(store.orders.get_order(DELIVERED))
    zone_hours = zone_off_the_utc_date(now) if actions_zone != "UTC" else 0

    local_date, answers = action_answers(tmp_path, [(task, order) for task in REFUND_TASKS], zone_hours)

    granted = engine_grants(store.orders.request_refund, DELIVERED, "caller asked on the phone")
    assert granted is (minutes_past_deadline < 0)
    assert local_date == (now + timedelta(hours=zone_hours)).date().isoformat()  # the actions ran in that zone
    for task, answer in zip(REFUND_TASKS, answers):
        assert (answer["offers"] == "refund") is granted, f"{task}: {answer['said']}"


@pytest.mark.parametrize("rule", ["as it is", "packed orders no longer cancellable"])
def test_the_bot_offers_to_cancel_exactly_the_orders_the_engine_cancels(tmp_path, database, now, monkeypatch, rule):
    """Every order status, through the cancel and refund flows; a change to the engine's rule alone moves the bot too."""
    if rule != "as it is":
        monkeypatch.setattr(policy, "NOT_SHIPPED", policy.NOT_SHIPPED - {OrderStatus.PACKED})
    assert {demo.status for demo in FIXED_ORDERS} == set(OrderStatus)
    store = Store.open(database, clock=lambda: now)
    orders = [to_json(store.orders.get_order(demo.number)) for demo in FIXED_ORDERS]
    tasks = ("cancel_order", "get_refund")

    _, answers = action_answers(tmp_path, [(task, order) for order in orders for task in tasks])

    cancelled = set()
    for demo, cancel_answer, refund_answer in zip(FIXED_ORDERS, answers[::2], answers[1::2]):
        refunds = engine_grants(store.orders.request_refund, demo.number, "caller asked on the phone")
        cancels = engine_grants(store.orders.cancel_order, demo.number)
        cancelled |= {demo.status} if cancels else set()
        for answer in (cancel_answer, refund_answer):
            said = f"{demo.number} ({demo.status}): {answer['said']}"
            assert (answer["offers"] == "cancel") is cancels, said
            assert (answer["offers"] == "refund") is refunds, said
    assert cancelled == policy.NOT_SHIPPED  # the engine applied the rule under test
