"""Turns order data into short sentences that sound natural when spoken.

The sentences are named in nlu/prompts.yml; the phrases that fill them (an order's
status, a refund's state, a date, a list of items) are made here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from actions.prompts import say

STATUS_PHRASES = {
    "pending": "has been placed and is waiting for payment",
    "paid": "is paid and being prepared",
    "packed": "is packed and waiting for the carrier",
    "shipped": "has shipped",
    "in_transit": "is on its way",
    "out_for_delivery": "is out for delivery today",
    "delivered": "has been delivered",
    "delayed": "is delayed",
    "exception": "has a delivery problem",
    "cancelled": "was cancelled",
    "returned": "was returned",
    "refunded": "was returned and refunded",
}

REFUND_PHRASES = {
    "requested": "has been requested and is waiting for approval",
    "approved": "has been approved",
    "processing": "is being processed",
    "completed": "has been paid back",
    "rejected": "was declined",
}


def spoken_date(value: Optional[str]) -> str:
    """'2026-11-26' -> 'Thursday, November 26'."""
    if not value:
        return "an unknown date"
    day = parse_day(value)
    return f"{day:%A}, {day:%B} {day.day}"


def parse_day(value: str) -> date:
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


def item_summary(items: List[Dict[str, Any]]) -> str:
    names = [f"{i['quantity']} {i['name']}" if i.get("quantity", 1) > 1 else i["name"] for i in items]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]} and {len(names) - 1} other items"


def order_status(order: Dict[str, Any]) -> str:
    """Two short sentences: the order and where it is (with the carrier's reason when it is
    late), then when it arrives. The latest scan is offered apart (`latest_update`)."""
    number, status = order["order_number"], order["status"]
    items, phrase = item_summary(order["items"]), STATUS_PHRASES.get(status, "is " + status)
    if order.get("carrier") and status not in ("cancelled", "pending", "paid", "packed"):
        first = say("track_status_carrier", number=number, items=items, status=phrase, carrier=order["carrier"])
    else:
        first = say("track_status", number=number, items=items, status=phrase)
    event = order.get("last_event")
    if event and status in ("delayed", "exception"):
        first = first.rstrip(".") + ": " + event["description"].rstrip(".").split(": ", 1)[-1].lower() + "."
    return " ".join(p for p in (first, delivery_sentence(order)) if p)


def latest_update(order: Dict[str, Any]) -> Optional[str]:
    """The carrier's latest scan, spoken, for an order on its way (None when there is nothing to add)."""
    event = order.get("last_event")
    if not event or order["status"] not in ("shipped", "in_transit", "out_for_delivery"):
        return None
    when, description = spoken_date(event["at"]), event["description"].rstrip(".")
    if event.get("location"):
        return say("track_update_at", date=when, location=event["location"], description=description)
    return say("track_update", date=when, description=description)


def first_sentence(text: str) -> str:
    """The first sentence of a longer spoken answer."""
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return match.group(1) if match else text.strip()


def delivery_sentence(order: Dict[str, Any]) -> str:
    status = order["status"]
    if status == "delivered" or (order.get("delivered_at") and status in ("returned", "refunded")):
        return say("delivered_on", date=spoken_date(order["delivered_at"]))
    if status in ("cancelled", "returned", "refunded"):
        return ""
    if order.get("expected_delivery"):
        late = status in ("delayed", "exception")
        days_away = (parse_day(order["expected_delivery"]) - date.today()).days
        if days_away == 0 and not late:
            # "Out for delivery today" already says it: the caller needs no second date.
            return "" if status == "out_for_delivery" else say("delivery_expected_today")
        if days_away == 1:
            return say("delivery_expected_tomorrow", date=spoken_date(order["expected_delivery"]))
        return say("delivery_now_expected" if late else "delivery_expected", date=spoken_date(order["expected_delivery"]))
    return say("delivery_date_unknown")


def refund_status(number: str, refunds: List[Dict[str, Any]]) -> str:
    refund = refunds[-1]
    phrase = REFUND_PHRASES.get(refund["status"], "is " + refund["status"])
    parts = [say("refund_status", amount=refund["amount"], number=number, refund_status=phrase)]
    if refund["status"] == "completed" and refund.get("completed_at"):
        parts.append(say("refund_paid_back", date=spoken_date(refund["completed_at"])))
    elif refund.get("expected_by") and refund["status"] != "rejected":
        parts.append(say("refund_money_by", date=spoken_date(refund["expected_by"])))
    return " ".join(parts)
