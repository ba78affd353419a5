"""Twilio Media Streams endpoint: `<Connect><Stream url="wss://…/telephony/twilio">`.

Twilio sends `connected`, then `start` (stream and call ids), then `media`. The
handshake is checked here, before any audio machinery exists, so a wrong client gets
a clear log line and a close code instead of a half-started pipeline.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket

from voicebot.voice.pipeline import run_call

logger = logging.getLogger(__name__)

router = APIRouter(tags=["telephony"])

UNSUPPORTED_DATA = 1003  # RFC 6455: not JSON text
POLICY_VIOLATION = 1008  # RFC 6455: protocol order broken
START_TIMEOUT_S = 10.0  # Twilio sends `start` right after connecting


class HandshakeError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def read_start(websocket: WebSocket) -> dict[str, Any] | None:
    """Reads until Twilio's `start` message; None when the client left first."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        raw = message.get("text")
        if raw is None:
            raise HandshakeError(UNSUPPORTED_DATA, "binary message; Twilio Media Streams sends JSON text")
        try:
            event = json.loads(raw)
        except ValueError:
            raise HandshakeError(UNSUPPORTED_DATA, f"message is not JSON: {raw[:80]!r}") from None
        if not isinstance(event, dict):
            raise HandshakeError(UNSUPPORTED_DATA, "message is not a JSON object")
        kind = event.get("event")
        if kind == "start":
            start = event.get("start")
            if not isinstance(start, dict) or not (start.get("streamSid") or event.get("streamSid")):
                raise HandshakeError(POLICY_VIOLATION, "`start` without a streamSid")
            return event
        if kind == "media":
            raise HandshakeError(POLICY_VIOLATION, "`media` before `start`")
        if kind != "connected":
            logger.warning("Twilio stream: ignoring %r before `start`", kind)


@router.websocket("/telephony/twilio")
async def twilio_media_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            start = await read_start(websocket)
    except HandshakeError as error:
        logger.warning("Twilio stream rejected (%s): %s", error.code, error.reason)
        await websocket.close(code=error.code, reason=error.reason)
        return
    except TimeoutError:
        logger.warning("Twilio stream rejected: no `start` within %.0f s", START_TIMEOUT_S)
        await websocket.close(code=POLICY_VIOLATION, reason="no start message")
        return
    if start is None:
        return
    await run_call(websocket, start, websocket.app.state.voice)  # the transport closes the socket
