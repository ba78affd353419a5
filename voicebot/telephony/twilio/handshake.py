"""The Twilio Media Streams handshake: `connected`, then `start`, checked before any audio machinery exists.

Twilio sends `connected`, then `start` (stream and call ids, media format, custom
parameters), then `media`, `dtmf`, `mark` and finally `stop`. A wrong client gets a
clear log line and a close code instead of a half-started pipeline.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import WebSocket

from voicebot.voice.carrier import CallInfo

logger = logging.getLogger(__name__)

UNSUPPORTED_DATA = 1003  # RFC 6455: not JSON text, or audio we cannot decode
POLICY_VIOLATION = 1008  # RFC 6455: protocol order broken, or not the carrier
TRY_AGAIN_LATER = 1013  # RFC 6455 (IANA registry): the engine is at its call limit
START_TIMEOUT_S = 10.0  # Twilio sends `start` right after connecting
MAX_MESSAGE_CHARS = 64 * 1024  # a 20 ms media message is ~300 characters; 64 KiB would be 8 s of audio
TWILIO_MEDIA_FORMAT = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
KNOWN_EVENTS = {"connected", "start", "media", "dtmf", "mark", "stop"}
TRANSFER_PATH = "/telephony/twilio/transfer/{call_id}"  # the TwiML that takes a handed-off call to people (routes.py)
# Twilio's ids are "CA"/"MZ" and 32 hex digits; these bounds keep any id safe in a URL path, a log line and a column.
SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_PARAMETERS, MAX_PARAMETER_CHARS, MAX_CALLER_CHARS = 20, 256, 40


class OversizedMessage(ValueError):
    """A message over MAX_MESSAGE_CHARS: no Twilio event is that big."""


class HandshakeError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def parse_event(raw: str | bytes | None) -> dict[str, Any]:
    """One websocket message → a Twilio event object, or ValueError saying what is wrong."""
    if raw is None or isinstance(raw, bytes):
        raise ValueError("binary message; Twilio Media Streams sends JSON text")
    if len(raw) > MAX_MESSAGE_CHARS:
        raise OversizedMessage(f"message of {len(raw)} characters (limit {MAX_MESSAGE_CHARS})")
    try:
        event = json.loads(raw)
    except ValueError:
        raise ValueError(f"message is not JSON: {raw[:80]!r}") from None
    if not isinstance(event, dict):
        raise ValueError("message is not a JSON object")
    return event


def check_media_format(start: dict[str, Any]) -> None:
    """Twilio streams 8 kHz mono μ-law; anything else would be decoded into noise."""
    media_format = start.get("mediaFormat")
    if media_format is None:
        return
    wrong = {k: media_format.get(k) for k, v in TWILIO_MEDIA_FORMAT.items() if media_format.get(k) != v}
    if wrong:
        raise HandshakeError(UNSUPPORTED_DATA, f"unsupported mediaFormat {wrong}; expected {TWILIO_MEDIA_FORMAT}")


async def read_start(websocket: WebSocket) -> dict[str, Any] | None:
    """Reads until Twilio's `start` message; None when the client left first."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        try:
            event = parse_event(message.get("text", message.get("bytes")))
        except ValueError as error:
            raise HandshakeError(UNSUPPORTED_DATA, str(error)) from None
        kind = event.get("event")
        if kind == "start":
            start = event.get("start")
            if not isinstance(start, dict) or not (start.get("streamSid") or event.get("streamSid")):
                raise HandshakeError(POLICY_VIOLATION, "`start` without a streamSid")
            stream_sid = start.get("streamSid") or event.get("streamSid")
            if not isinstance(stream_sid, str) or not SID.match(stream_sid):
                raise HandshakeError(POLICY_VIOLATION, "streamSid must be 1-64 letters, digits, '-' or '_'")
            check_media_format(start)
            return event
        if kind == "media":
            raise HandshakeError(POLICY_VIOLATION, "`media` before `start`")
        if kind != "connected":
            logger.warning("Twilio stream: ignoring %r before `start`", kind)


def call_from_start(start_message: dict[str, Any]) -> CallInfo:
    """Twilio `start` → the call's identity; custom parameters are the <Stream>'s <Parameter>s.

    Raises `HandshakeError` for ids and parameters no Twilio stream sends (a `callSid` that
    is not a short token would end up in Rasa's URLs and the call record). A handed-off call
    is moved by the operator's call-control app, which updates the live call to the transfer
    TwiML: the `call.transfer` event names its `twiml_path`.
    """
    start = start_message.get("start") or {}
    raw_parameters = start.get("customParameters") or {}
    if not isinstance(raw_parameters, dict) or len(raw_parameters) > MAX_PARAMETERS:
        raise HandshakeError(POLICY_VIOLATION, f"customParameters must be an object of at most {MAX_PARAMETERS} entries")
    parameters = {str(k): str(v) for k, v in raw_parameters.items()}
    if any(len(k) > MAX_PARAMETER_CHARS or len(v) > MAX_PARAMETER_CHARS for k, v in parameters.items()):
        raise HandshakeError(POLICY_VIOLATION, f"a custom parameter is over {MAX_PARAMETER_CHARS} characters")
    call_id = start.get("callSid") or CallInfo.new_id()
    if not isinstance(call_id, str) or not SID.match(call_id):
        raise HandshakeError(POLICY_VIOLATION, "callSid must be 1-64 letters, digits, '-' or '_'")
    caller = parameters.get("caller") or parameters.get("from") or parameters.get("From")
    return CallInfo(
        call_id=call_id,
        caller=caller[:MAX_CALLER_CHARS] if caller else None,
        parameters=parameters,
        transfer={"twiml_path": TRANSFER_PATH.format(call_id=call_id)},
    )


def stream_sid_from_start(start_message: dict[str, Any]) -> str:
    """The Media Stream's id, which every message the bot sends on the stream carries."""
    start = start_message.get("start") or {}
    return start.get("streamSid") or start_message.get("streamSid") or ""
