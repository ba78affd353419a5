"""Order and call record HTTP API: thin routes over the repositories in ``app.state.store``.

Errors are JSON ``{"error": code, "message": text}``: 404 for unknown orders and calls,
409 when a rule forbids the change, 422 for malformed input, 503 when the database is down.
Routes are plain ``def`` so the blocking database work runs in FastAPI's thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from voicebot.domain.errors import (
    Forbidden,
    InvalidInput,
    NotAllowed,
    NotFound,
    ServiceError,
)
from voicebot.store.repositories import Store
from voicebot.store.session import DatabaseUnavailable

router = APIRouter(prefix="/api/v1", tags=["orders"])

OrderNumber = Annotated[str, Path(pattern=r"^[0-9]{1,12}$", description="Order number, digits only")]
CallId = Annotated[str, Path(min_length=1, max_length=36)]
Digits4 = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
Zip5 = Annotated[str, Field(pattern=r"^[0-9]{5}$")]
OptionalCallId = Annotated[str | None, Field(default=None, max_length=36)]


class CancelRequest(BaseModel):
    call_id: OptionalCallId


class VerifyRequest(BaseModel):
    phone_last4: Digits4 | None = None
    postcode: Zip5 | None = None
    call_id: OptionalCallId

    @model_validator(mode="after")
    def _one_check(self) -> VerifyRequest:
        if self.phone_last4 is None and self.postcode is None:
            raise ValueError("give phone_last4 or postcode")
        return self


class AddressRequest(BaseModel):
    address: str = Field(
        min_length=5, max_length=200, description="New address as said, e.g. '12 Oak St, Springfield, IL 62704'"
    )
    postcode: Zip5 | None = Field(None, description="New ZIP code")
    phone_last4: Digits4 | None = Field(None, description="Identity check: last four digits of the customer's phone")
    postcode_check: Zip5 | None = Field(None, description="Identity check: ZIP code currently on the order")
    call_id: OptionalCallId


class RefundRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    call_id: OptionalCallId


class HandoffRequest(BaseModel):
    call_id: OptionalCallId
    reason: str = Field(min_length=1, max_length=200, description="Why the bot hands off, e.g. contact_human_agent")
    intent: str | None = Field(None, max_length=80)
    collected: dict[str, Any] = Field(default_factory=dict, description="The dialogue's slots at the handoff")
    order_number: Annotated[str | None, Field(None, pattern=r"^[0-9]{1,12}$")]


class CallStartRequest(BaseModel):
    call_id: OptionalCallId
    caller: str | None = Field(None, max_length=40)
    channel: Literal["text", "phone"] = "text"


class TurnRequest(BaseModel):
    caller_text: str | None = None
    intent: str | None = Field(None, max_length=80)
    confidence: float | None = Field(None, ge=0, le=1)
    bot_text: str | None = None


class CallEndRequest(BaseModel):
    outcome: Literal["resolved", "handed_off", "abandoned", "failed"]


def _store(request: Request) -> Store:
    return request.app.state.store


@router.get("/orders")
def list_orders(request: Request) -> list[dict[str, Any]]:
    return _store(request).orders.list_orders()


@router.get("/orders/{number}")
def get_order(
    number: OrderNumber, request: Request, call_id: Annotated[str | None, Query(max_length=36)] = None
) -> dict[str, Any]:
    """`call_id`: the call the look-up is for, so its handoff summary can list the order."""
    return _store(request).orders.get_order(number, call_id=call_id)


@router.post("/orders/{number}/cancel")
def cancel_order(number: OrderNumber, request: Request, body: CancelRequest | None = None) -> dict[str, Any]:
    return _store(request).orders.cancel_order(number, call_id=body.call_id if body else None)


@router.post("/orders/{number}/verify")
def verify_identity(number: OrderNumber, body: VerifyRequest, request: Request) -> dict[str, Any]:
    verified = _store(request).orders.verify_identity(
        number, phone_last4=body.phone_last4, postcode=body.postcode, call_id=body.call_id
    )
    return {"order_number": number, "verified": verified}


@router.post("/orders/{number}/address")
def change_address(number: OrderNumber, body: AddressRequest, request: Request) -> dict[str, Any]:
    return _store(request).orders.change_address(
        number,
        body.address,
        postcode=body.postcode,
        phone_last4=body.phone_last4,
        postcode_check=body.postcode_check,
        call_id=body.call_id,
    )


@router.get("/orders/{number}/refunds")
def refund_status(number: OrderNumber, request: Request) -> dict[str, Any]:
    return {"order_number": number, "refunds": _store(request).orders.refund_status(number)}


@router.post("/orders/{number}/refunds", status_code=201)
def request_refund(number: OrderNumber, body: RefundRequest, request: Request) -> dict[str, Any]:
    return _store(request).orders.request_refund(number, body.reason, call_id=body.call_id)


@router.post("/handoffs", status_code=201)
def record_handoff(body: HandoffRequest, request: Request) -> dict[str, Any]:
    """Routes the call to a queue and files its summary; says where the caller is in the queue."""
    return request.app.state.handoffs.hand_off(
        body.call_id, body.reason, intent=body.intent, collected=body.collected, order_number=body.order_number
    )


@router.get("/calls/{call_id}/handoff")
def latest_handoff(call_id: CallId, request: Request) -> dict[str, Any]:
    return _store(request).handoffs.latest_handoff(call_id)


@router.post("/calls", status_code=201)
def start_call(request: Request, body: CallStartRequest | None = None) -> dict[str, Any]:
    body = body or CallStartRequest()
    return _store(request).calls.start_call(call_id=body.call_id, caller=body.caller, channel=body.channel)


@router.post("/calls/{call_id}/turns", status_code=201)
def add_turn(call_id: CallId, body: TurnRequest, request: Request) -> dict[str, Any]:
    return _store(request).calls.add_turn(call_id, body.caller_text, body.intent, body.confidence, body.bot_text)


@router.post("/calls/{call_id}/end")
def end_call(call_id: CallId, body: CallEndRequest, request: Request) -> dict[str, Any]:
    return _store(request).calls.end_call(call_id, body.outcome)


@router.get("/calls/{call_id}")
def get_call(call_id: CallId, request: Request) -> dict[str, Any]:
    return _store(request).calls.get_call(call_id)


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


_STATUS = ((NotFound, 404), (Forbidden, 403), (NotAllowed, 409), (InvalidInput, 422))


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 400)
    return _error(status, exc.code, exc.message)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return _error(503, DatabaseUnavailable.code, "The order database is unavailable; please try again shortly.")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Without the rejected input: it may hold a caller's personal data.
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
    return _error(422, "validation_error", message, details=errors)


def install_error_handlers(app: FastAPI) -> None:
    """Map service exceptions and request validation errors to the API's JSON error shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
