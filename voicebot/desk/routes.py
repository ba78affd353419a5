"""Agent desktop routes: the page, its JSON API and the event stream, all behind sign-in.

A browser signs in with POST /api/v1/desk/session and carries an HttpOnly cookie; other
clients (a CRM) send the same token as `Authorization: Bearer ...`. Every API route and
the event stream refuse requests without a live session (401) and supervisor-only ones
to agents (403). Thin: the work is in `AgentDesk` and `AgentService`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from voicebot.desk.agents import AgentService, SignedIn
from voicebot.desk.desk import AgentDesk, queue_event
from voicebot.domain.errors import NotFound

logger = logging.getLogger(__name__)

COOKIE = "voicebot_session"
STATIC = Path(__file__).with_name("static")

api = APIRouter(prefix="/api/v1/desk", tags=["agent desktop"])
pages = APIRouter(tags=["agent desktop"])


class SignInRequest(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)
    bearer: bool = Field(
        False, description="For clients that are not browsers: the session token in the reply, to send as a bearer token, and no cookie."
    )


class WrapUpRequest(BaseModel):
    notes: str = Field(min_length=1, max_length=5000)
    disposition: str = Field(min_length=1, max_length=40)


def session_token(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def _agents(request: Request | WebSocket) -> AgentService:
    return request.app.state.agents


def _desk(request: Request) -> AgentDesk:
    return request.app.state.desk


def signed_in(request: Request) -> SignedIn:
    agent = _agents(request).authenticate(session_token(request))
    if agent is None:
        raise HTTPException(401, detail={"error": "not_signed_in", "message": "Sign in first."})
    return agent


def supervisor(agent: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    if not agent.is_supervisor:
        raise HTTPException(403, detail={"error": "forbidden", "message": "Supervisors only."})
    return agent


Agent = Annotated[SignedIn, Depends(signed_in)]
HandoffId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="A handoff's id (a 32-bit database key)")]


@api.post("/session")
def sign_in(body: SignInRequest, request: Request) -> JSONResponse:
    """Wrong passwords lock the username and the client for a while (429 with Retry-After)."""
    result = _agents(request).sign_in(body.username, body.password, client=request.client.host if request.client else "unknown")
    if result is None:
        return JSONResponse({"error": "bad_credentials", "message": "Wrong username or password."}, 401)
    token, agent = result
    if body.bearer:
        return JSONResponse({"agent": agent.as_dict(), "token": token})
    response = JSONResponse({"agent": agent.as_dict()})
    lifetime = _agents(request).session_lifetime.total_seconds()
    # https as the client saw it: behind a TLS proxy in VOICEBOT_TRUSTED_PROXIES, from X-Forwarded-Proto.
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, token, max_age=int(lifetime), httponly=True, samesite="strict", secure=secure)
    return response


@api.delete("/session")
def sign_out(request: Request, agent: Agent) -> Response:
    token = session_token(request)
    if token:
        _agents(request).sign_out(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE)
    return response


@api.get("/me")
def me(agent: Agent) -> dict[str, Any]:
    return agent.as_dict()


@api.get("/queues")
def waiting_calls(request: Request, agent: Agent) -> dict[str, Any]:
    return {"waiting": _desk(request).waiting(agent)}


@api.post("/handoffs/{handoff_id}/accept")
def accept(handoff_id: HandoffId, request: Request, agent: Agent) -> dict[str, Any]:
    return _desk(request).accept(handoff_id, agent)


@api.get("/handoffs/{handoff_id}/context")
def context(handoff_id: HandoffId, request: Request, agent: Agent) -> dict[str, Any]:
    result = _desk(request).context(handoff_id, agent)
    voice = getattr(request.app.state, "voice", None)
    on_hold = voice is not None and voice.bridges.get(result["handoff"]["call_id"]) is not None
    result["audio_path"] = f"/api/v1/desk/handoffs/{handoff_id}/audio" if on_hold else None  # a phone caller waiting here
    return result


@api.post("/handoffs/{handoff_id}/wrap-up", status_code=201)
def wrap_up(handoff_id: HandoffId, body: WrapUpRequest, request: Request, agent: Agent) -> dict[str, Any]:
    return _desk(request).wrap_up(handoff_id, agent, body.notes, body.disposition)


@api.get("/overview")
def overview(request: Request, _: Annotated[SignedIn, Depends(supervisor)]) -> dict[str, Any]:
    return _desk(request).overview()


@api.websocket("/events")
async def events(websocket: WebSocket) -> None:
    """The event stream (docs/events.md): handoffs in the agent's queues, and those calls' turns."""
    agent = await asyncio.to_thread(_agents(websocket).authenticate, session_token(websocket))
    if agent is None:
        await websocket.close(code=4401, reason="sign in first")
        return
    await websocket.accept()
    bus = websocket.app.state.events
    queue = bus.subscribe()
    visible: set[str] = set()  # calls this agent may follow: handed off into one of their queues
    try:
        await websocket.send_json({"v": 1, "type": "hello", "data": {"agent": agent.as_dict()}})
        while True:
            message = await queue.get()
            data = message["data"]
            if message["type"].startswith("handoff."):
                if not (agent.is_supervisor or agent.serves(data.get("queue", ""))):
                    continue
                if data.get("call_id"):
                    visible.add(data["call_id"])
            elif not (agent.is_supervisor or data.get("call_id") in visible):
                continue
            await websocket.send_json(queue_event(message))
    except (WebSocketDisconnect, RuntimeError):  # the client went away (RuntimeError: sent after close)
        pass
    finally:
        bus.unsubscribe(queue)


@api.websocket("/handoffs/{handoff_id}/audio")
async def call_audio(websocket: WebSocket, handoff_id: HandoffId) -> None:
    """The caller's voice to the agent who took the call, and the agent's microphone back.

    Binary messages both ways: 16 kHz, 16-bit little-endian mono PCM. Closed with 4401
    without a session, 4403 for anyone but the accepting agent, 4404 when the call has
    no phone audio here (a text conversation, or the caller already hung up).
    """
    agent = await asyncio.to_thread(_agents(websocket).authenticate, session_token(websocket))
    if agent is None:
        await websocket.close(code=4401, reason="sign in first")
        return
    try:
        handoff = await asyncio.to_thread(websocket.app.state.store.handoffs.get_handoff, handoff_id)
    except NotFound:
        await websocket.close(code=4404, reason="no such handoff")
        return
    if handoff.accepted_by != agent.agent_id:
        await websocket.close(code=4403, reason="accept the call first")
        return
    bridge = websocket.app.state.voice.bridges.get(handoff.call_id)
    if bridge is None:
        await websocket.close(code=4404, reason="no phone audio for this call")
        return
    await websocket.accept()
    bridge.connect()

    async def to_agent() -> None:
        while True:
            await websocket.send_bytes(await bridge.to_agent.get())

    sending = asyncio.create_task(to_agent())
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes"):
                await bridge.from_agent(message["bytes"])
    finally:
        sending.cancel()
        if bridge.connected:
            await bridge.agent_left()


@pages.get("/desk", include_in_schema=False)
def desk_page(request: Request) -> Response:
    if _agents(request).authenticate(session_token(request)) is None:
        return RedirectResponse("/desk/login", 303)
    return FileResponse(STATIC / "desk.html")


@pages.get("/desk/login", include_in_schema=False)
def login_page() -> FileResponse:
    return FileResponse(STATIC / "login.html")


@pages.get("/desk/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file() or path.suffix not in (".js", ".css"):
        raise HTTPException(404)
    return FileResponse(path)
