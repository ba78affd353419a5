"""Call records and handoffs over HTTP: thin routes over the store's call and handoff repositories and `HandoffService`.

The Rasa actions queue handoffs here; call records are written through `CallRepository`,
which redacts card numbers on write.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, field_validator

from voicebot.api.access import api_client
from voicebot.api.orders import OptionalCallId, store_of
from voicebot.domain.records import to_json
from voicebot.emotion import EMOTIONS

router = APIRouter(prefix="/api/v1", tags=["calls"], dependencies=[Depends(api_client)])

CallId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$", description="A call's id: a UUID or the carrier's call id")]


class HandoffRequest(BaseModel):
    call_id: OptionalCallId
    reason: str = Field(min_length=1, max_length=200, description="Why the bot hands off, e.g. contact_human_agent")
    intent: str | None = Field(None, max_length=80)
    collected: dict[str, Any] = Field(default_factory=dict, description="The dialogue's slots at the handoff")
    order_number: Annotated[str | None, Field(None, pattern=r"^[0-9]{1,12}$")]
    emotion: str | None = Field(None, description="The caller's emotion in the turn being answered (routing reads it)")

    @field_validator("emotion")
    @classmethod
    def _known_emotion(cls, value: str | None) -> str | None:
        if value is not None and value not in EMOTIONS:
            raise ValueError(f"emotion must be one of {', '.join(EMOTIONS)}")
        return value


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


@router.post("/handoffs", status_code=201)
def record_handoff(body: HandoffRequest, request: Request) -> dict[str, Any]:
    """Routes the call to a queue and files its summary; says where the caller is in the queue."""
    queued = request.app.state.handoffs.hand_off(
        body.call_id, body.reason, intent=body.intent, collected=body.collected, order_number=body.order_number,
        emotion=body.emotion,
    )
    return to_json(queued)


@router.get("/calls/{call_id}/handoff")
def latest_handoff(call_id: CallId, request: Request) -> dict[str, Any]:
    return to_json(store_of(request).handoffs.latest_handoff(call_id))


@router.post("/calls", status_code=201)
def start_call(request: Request, body: CallStartRequest | None = None) -> dict[str, Any]:
    body = body or CallStartRequest()
    return to_json(store_of(request).calls.start_call(call_id=body.call_id, caller=body.caller, channel=body.channel))


@router.post("/calls/{call_id}/turns", status_code=201)
def add_turn(call_id: CallId, body: TurnRequest, request: Request) -> dict[str, Any]:
    return to_json(store_of(request).calls.add_turn(call_id, body.caller_text, body.intent, body.confidence, body.bot_text))


@router.post("/calls/{call_id}/end")
def end_call(call_id: CallId, body: CallEndRequest, request: Request) -> dict[str, Any]:
    return to_json(store_of(request).calls.end_call(call_id, body.outcome))


@router.get("/calls/{call_id}")
def get_call(call_id: CallId, request: Request) -> dict[str, Any]:
    return to_json(store_of(request).calls.get_call(call_id))
