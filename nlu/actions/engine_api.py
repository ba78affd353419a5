"""Client for the engine's order and knowledge APIs, the only way actions reach data.

The engine owns the database; actions stay a plain rasa-sdk package that a
designer can run against any service offering the same small HTTP API.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import requests

ENGINE_API_URL = os.environ.get("VOICEBOT_ENGINE_API_URL", "http://127.0.0.1:8080/api/v1")
TIMEOUT_S = float(os.environ.get("VOICEBOT_ENGINE_API_TIMEOUT_S", "5"))
# The engine's service token (`voicebot serve` passes it in the environment): the API refuses requests without it.
HEADERS = {"Authorization": f"Bearer {os.environ.get('VOICEBOT_ENGINE_TOKEN', '')}"}


class EngineUnavailable(Exception):
    """The order system cannot be reached or its database is down."""


class OrderNotFound(Exception):
    """No order has that number."""


class TooManyAttempts(Exception):
    """The order's or the call's identity checks are locked after too many failures."""


class NotAllowed(Exception):
    """The order's state forbids the request (already shipped, outside the return window...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _request(method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = requests.request(method, f"{ENGINE_API_URL}{path}", headers=HEADERS, timeout=TIMEOUT_S, **kwargs)
    except requests.RequestException as error:
        raise EngineUnavailable(str(error)) from error
    if response.status_code >= 500:
        raise EngineUnavailable(f"{response.status_code}: {response.text[:200]}")
    body = response.json() if response.content else {}
    if response.status_code == 404 and body.get("error") == "order_not_found":
        raise OrderNotFound(body.get("message", "order not found"))
    if response.status_code == 429:
        raise TooManyAttempts(body.get("message", "too many attempts"))
    if response.status_code == 409:
        raise NotAllowed(body.get("error", "not_allowed"), body.get("message", ""))
    if response.status_code >= 400:
        raise EngineUnavailable(f"{response.status_code}: {body}")
    return body


def get_order(number: str, call_id: Optional[str] = None) -> Dict[str, Any]:
    return _request("GET", f"/orders/{number}", params={"call_id": call_id} if call_id else None)


def cancel_order(number: str, call_id: str) -> Dict[str, Any]:
    return _request("POST", f"/orders/{number}/cancel", json={"call_id": call_id})


def verify_identity(number: str, answer: str, call_id: Optional[str] = None) -> bool:
    proof: Dict[str, Any] = {"postcode": answer} if len(answer) == 5 else {"phone_last4": answer[-4:]}
    proof["call_id"] = call_id
    return bool(_request("POST", f"/orders/{number}/verify", json=proof).get("verified"))


def change_address(number: str, address: str, postcode: Optional[str], identity: str, call_id: str) -> Dict[str, Any]:
    payload = {"address": address, "postcode": postcode, "call_id": call_id}
    payload.update({"postcode_check": identity} if len(identity) == 5 else {"phone_last4": identity[-4:]})
    return _request("POST", f"/orders/{number}/address", json=payload)


def refunds(number: str) -> List[Dict[str, Any]]:
    body = _request("GET", f"/orders/{number}/refunds")
    return body["refunds"] if isinstance(body, dict) else body


def request_refund(number: str, reason: str, call_id: str) -> Dict[str, Any]:
    return _request("POST", f"/orders/{number}/refunds", json={"reason": reason, "call_id": call_id})


def record_handoff(
    call_id: str, reason: str, intent: Optional[str], collected: Dict[str, Any], order_number: Optional[str],
    emotion: Optional[str] = None,
) -> Dict[str, Any]:
    """Queues the caller for a person; the engine picks the queue (by the caller's `emotion` too).

    Returns queue, position, expected_wait_s and `announcement`, the caller's place in the queue as the bot says it.
    """
    payload = {
        "call_id": call_id, "reason": reason, "intent": intent, "collected": collected, "order_number": order_number,
        "emotion": emotion,
    }
    return _request("POST", "/handoffs", json=payload)


def knowledge_answer(question: str, intent: Optional[str]) -> Dict[str, Any]:
    """The knowledge base's spoken answer to a policy question; `answered` is False when it is unsure."""
    return _request("POST", "/knowledge/answer", json={"question": question[:2000], "intent": intent})
