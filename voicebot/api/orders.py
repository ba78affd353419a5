"""The order API the Rasa actions and other clients use: thin routes over `OrderRepository`.

Errors have the shape of voicebot.api.errors. Routes are plain ``def`` so the blocking
database work runs in FastAPI's thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, model_validator

from voicebot.api.access import api_client
from voicebot.domain.records import to_json
from voicebot.store.repositories import Store

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(api_client)])

OrderNumber = Annotated[str, Path(pattern=r"^[0-9]{1,12}$", description="Order number, digits only")]
Digits4 = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
Zip5 = Annotated[str, Field(pattern=r"^[0-9]{5}$")]
OptionalCallId = Annotated[str | None, Field(default=None, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")]


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


def store_of(request: Request) -> Store:
    return request.app.state.store


@router.get("/orders")
def list_orders(request: Request) -> list[dict[str, Any]]:
    return to_json(store_of(request).orders.list_orders())


@router.get("/orders/{number}")
def get_order(
    number: OrderNumber, request: Request, call_id: Annotated[str | None, Query(max_length=36)] = None
) -> dict[str, Any]:
    """`call_id`: the call the look-up is for, so its handoff summary can list the order."""
    return to_json(store_of(request).orders.get_order(number, call_id=call_id))


@router.post("/orders/{number}/cancel")
def cancel_order(number: OrderNumber, request: Request, body: CancelRequest | None = None) -> dict[str, Any]:
    return to_json(store_of(request).orders.cancel_order(number, call_id=body.call_id if body else None))


@router.post("/orders/{number}/verify")
def verify_identity(number: OrderNumber, body: VerifyRequest, request: Request) -> dict[str, Any]:
    verified = store_of(request).orders.verify_identity(
        number, phone_last4=body.phone_last4, postcode=body.postcode, call_id=body.call_id
    )
    return {"order_number": number, "verified": verified}


@router.post("/orders/{number}/address")
def change_address(number: OrderNumber, body: AddressRequest, request: Request) -> dict[str, Any]:
    changed = store_of(request).orders.change_address(
        number,
        body.address,
        postcode=body.postcode,
        phone_last4=body.phone_last4,
        postcode_check=body.postcode_check,
        call_id=body.call_id,
    )
    return to_json(changed)


@router.get("/orders/{number}/refunds")
def refund_status(number: OrderNumber, request: Request) -> dict[str, Any]:
    return {"order_number": number, "refunds": to_json(store_of(request).orders.refund_status(number))}


@router.post("/orders/{number}/refunds", status_code=201)
def request_refund(number: OrderNumber, body: RefundRequest, request: Request) -> dict[str, Any]:
    return to_json(store_of(request).orders.request_refund(number, body.reason, call_id=body.call_id))
