"""The engine's HTTP app: health, the text dialogue API, and every router of the engine.

Routes are thin; the work is done by the store's repositories (orders, calls, handoffs,
customers), `HandoffService`, `KnowledgeBase` (retrieval), `DialogueService` (turns through
Rasa), the agent desk and the voice resources, all created once at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Literal

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from knowledge.service import KnowledgeBase
from voicebot import __version__
from voicebot.api import calls, orders
from voicebot.api.access import api_client
from voicebot.api.calls import CallId
from voicebot.api.errors import install_error_handlers
from voicebot.api.guard import RequestGuard
from voicebot.api.knowledge import router as knowledge_router
from voicebot.desk import routes as desktop
from voicebot.credentials import RASA_TOKEN, SERVICE_TOKEN, deployment_secret
from voicebot.desk.agents import AgentService
from voicebot.desk.desk import AgentDesk
from voicebot.dialogue.project import domain_intents
from voicebot.dialogue.service import DialogueService
from voicebot.domain.types import utc_now
from voicebot.emotion import TextEmotion
from voicebot.events.bus import EventBus
from voicebot.handoff.routing import load_rules
from voicebot.handoff.service import HandoffService
from voicebot.settings import Settings
from voicebot.store.orders import IdentityCheckLimits
from voicebot.store.repositories import Store
from voicebot.store.session import init_database, session_factory
from voicebot.telephony.twilio.access import CarrierAccess
from voicebot.telephony.twilio.routes import router as twilio_router
from voicebot.voice.pipeline import VoiceResources

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)


class StartConversation(BaseModel):
    caller: str | None = Field(None, max_length=40, description="Caller's number, if known")
    channel: Literal["text", "phone"] = "text"


class CallerMessage(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class EndConversation(BaseModel):
    outcome: Literal["resolved", "handed_off", "abandoned", "failed"]


async def component_health(app: FastAPI) -> dict[str, dict[str, Any]]:
    """Each component's readiness: the database, the knowledge base, Rasa with its model, the action server, TTS."""
    settings: Settings = app.state.settings
    status: dict[str, dict[str, Any]] = {"knowledge": app.state.knowledge.status()}
    try:
        with app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "url": app.state.engine.url.render_as_string(hide_password=True)}
    except Exception as error:  # any driver error means "not ready"
        status["database"] = {"ok": False, "error": str(error).splitlines()[0]}
    async with httpx.AsyncClient(timeout=2.0) as client:
        rasa_token = {"token": app.state.rasa_token}  # asked for, never shown: /health is public
        for name, url, params, ready in (
            ("rasa", f"{settings.rasa_url}/status", rasa_token, lambda body: bool(body.get("model_file"))),
            ("action_server", f"{settings.action_url}/health", {}, lambda body: body.get("status") == "ok"),
            ("tts", f"{settings.tts_url}/info", {}, lambda body: bool(body)),
        ):
            try:
                response = await client.get(url, params=params)
                body = response.json()
                status[name] = {"ok": response.status_code == 200 and ready(body), "url": url}
                if name == "rasa":
                    status[name]["model"] = body.get("model_file")
            except (httpx.HTTPError, ValueError) as error:
                status[name] = {"ok": False, "url": url, "error": type(error).__name__}
    return status


def process_rss_mb() -> float | None:
    """This process's resident memory now (Linux /proc; None elsewhere): the soak test watches it."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


async def expire_idle_conversations(dialogue: DialogueService, idle_minutes: float, every_s: float = 60.0) -> None:
    """Text conversations have no line that hangs up: one silent for `idle_minutes` is abandoned."""
    while True:
        await asyncio.sleep(every_s)
        idle_since = utc_now() - timedelta(minutes=idle_minutes)
        expired = await dialogue.close_calls("abandoned", channel="text", idle_since=idle_since)
        if expired:
            logger.info("%d idle text conversations expired", len(expired))


def identity_limits(settings: Settings) -> IdentityCheckLimits:
    defaults = IdentityCheckLimits()
    return IdentityCheckLimits(
        per_order=replace(defaults.per_order, limit=settings.verify_attempts_per_order),
        per_call=replace(defaults.per_call, limit=settings.verify_attempts_per_call),
    )


def create_app(settings: Settings, whisper: WhisperModel) -> FastAPI:
    """The engine's app over the loaded Whisper model (`voicebot.runtime.models.load_whisper`), shared by every call."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = init_database(settings)
        app.state.engine = engine
        sessions = session_factory(engine)
        app.state.events = EventBus()
        app.state.store = Store.open(sessions, identity_limits=identity_limits(settings))
        app.state.handoffs = HandoffService(
            app.state.store, load_rules(settings.routing_file), settings.handoff_average_handle_s, app.state.events.publish
        )
        app.state.agents = AgentService(sessions, settings.agent_session_hours, sign_in_attempts=settings.sign_in_attempts)
        app.state.desk = AgentDesk(sessions, app.state.store, app.state.events.publish)
        app.state.knowledge = await asyncio.to_thread(
            KnowledgeBase.from_settings, settings, domain_intents(settings.nlu_dir)
        )
        emotion = await asyncio.to_thread(TextEmotion, app.state.knowledge.encoder)  # one MiniLM for both
        app.state.dialogue = DialogueService(
            settings.rasa_url, app.state.store.calls, app.state.handoffs, settings.rasa_timeout_s, emotion,
            app.state.events.publish, rasa_token=app.state.rasa_token,
        )
        interrupted = await app.state.dialogue.close_calls("failed")
        if interrupted:
            logger.warning("Closed %d calls left open by the engine's last stop as failed", len(interrupted))
        app.state.voice = await VoiceResources.open(settings, app.state.dialogue, whisper)
        app.state.twilio_access = CarrierAccess(settings)
        expiring = asyncio.create_task(expire_idle_conversations(app.state.dialogue, settings.text_idle_minutes))
        yield
        expiring.cancel()
        await app.state.voice.close()
        await app.state.dialogue.close()
        engine.dispose()

    # No /docs pages (they load their scripts from a CDN, and this engine runs offline);
    # the OpenAPI schema is served below, to the API's own clients only.
    app = FastAPI(title="voicebot engine", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.service_token = deployment_secret(settings, SERVICE_TOKEN)
    app.state.rasa_token = deployment_secret(settings, RASA_TOKEN)
    app.add_middleware(RequestGuard, allowed_hosts=settings.allowed_hosts, internal_port=settings.internal_port)
    install_error_handlers(app)
    trusted = [Depends(api_client)]
    app.include_router(orders.router)
    app.include_router(calls.router)
    app.include_router(knowledge_router)
    app.include_router(desktop.api)
    app.include_router(desktop.pages)
    app.include_router(twilio_router)

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> JSONResponse:
        components = await component_health(request.app)
        ready = all(c["ok"] for c in components.values())
        engine = {"rss_mb": process_rss_mb(), "active_calls": request.app.state.voice.active_calls}
        return JSONResponse(
            {"status": "ok" if ready else "starting", "components": components, "engine": engine}, 200 if ready else 503
        )

    @app.get("/api/v1/openapi.json", include_in_schema=False, dependencies=trusted)
    async def openapi_schema() -> dict[str, Any]:
        return app.openapi()

    @app.post("/api/v1/conversations", tags=["dialogue"], dependencies=trusted)
    async def start_conversation(body: StartConversation, request: Request) -> dict[str, Any]:
        turn = await request.app.state.dialogue.start_call(caller=body.caller, channel=body.channel)
        return turn.to_dict()

    @app.post("/api/v1/conversations/{call_id}/messages", tags=["dialogue"], dependencies=trusted)
    async def send_message(call_id: CallId, body: CallerMessage, request: Request) -> dict[str, Any]:
        turn = await request.app.state.dialogue.say(call_id, body.text)
        return turn.to_dict()

    @app.post("/api/v1/conversations/{call_id}/end", tags=["dialogue"], dependencies=trusted)
    async def end_conversation(call_id: CallId, body: EndConversation, request: Request) -> dict[str, str]:
        await request.app.state.dialogue.end_call(call_id, body.outcome)
        return {"call_id": call_id, "outcome": body.outcome}

    return app
