"""Turns order data into short sentences that sound natural when spoken."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List, Optional

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
    day = datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    return f"{day:%A}, {day:%B} {day.day}"


def item_summary(items: List[Dict[str, Any]]) -> str:
    names = [f"{i['quantity']} {i['name']}" if i.get("quantity", 1) > 1 else i["name"] for i in items]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]} and {len(names) - 1} other items"


def order_status(order: Dict[str, Any]) -> str:
    number, status = order["order_number"], order["status"]
    parts = [f"Order {number}, {item_summary(order['items'])}, {STATUS_PHRASES.get(status, 'is ' + status)}."]
    if order.get("carrier") and status not in ("cancelled", "pending", "paid", "packed"):
        parts.append(f"It's with {order['carrier']}.")
    event = order.get("last_event")
    if event and status not in ("cancelled", "refunded", "returned"):
        where = f" in {event['location']}" if event.get("location") else ""
        parts.append(f"The latest update, on {spoken_date(event['at'])}{where}: {event['description'].rstrip('.')}.")
    parts.append(delivery_sentence(order))
    return " ".join(p for p in parts if p)


def delivery_sentence(order: Dict[str, Any]) -> str:
    status = order["status"]
    if status == "delivered" or (order.get("delivered_at") and status in ("returned", "refunded")):
        return f"It was delivered on {spoken_date(order['delivered_at'])}."
    if status in ("cancelled", "returned", "refunded"):
        return ""
    if order.get("expected_delivery"):
        verb = "is now expected" if status in ("delayed", "exception") else "should arrive"
        return f"It {verb} on {spoken_date(order['expected_delivery'])}."
    return "I don't have a delivery date for it yet."


def refund_status(number: str, refunds: List[Dict[str, Any]]) -> str:
    refund = refunds[-1]
    sentence = f"Your refund of {refund['amount']:.2f} dollars for order {number} {REFUND_PHRASES.get(refund['status'], 'is ' + refund['status'])}."
    if refund["status"] == "completed" and refund.get("completed_at"):
        sentence += f" It was paid back on {spoken_date(refund['completed_at'])}."
    elif refund.get("expected_by") and refund["status"] != "rejected":
        sentence += f" You should see the money by {spoken_date(refund['expected_by'])}."
    return sentence


def hold_message(position: Optional[int], expected_wait_s: Optional[float]) -> str:
    """What happens next while the caller waits for a person: place in the queue and the wait."""
    if not position or expected_wait_s is None:
        return "Please hold, a colleague will be with you shortly."
    minutes = max(1, round(expected_wait_s / 60))
    wait = "about a minute" if minutes == 1 else f"about {minutes} minutes"
    place = "You're next in the queue" if position == 1 else f"You're number {position} in the queue"
    return f"{place}, and the wait is {wait}. Please hold."
