"""Twilio Media Streams endpoint: `<Connect><Stream url="wss://…/telephony/twilio">`,
and the TwiML that transfers a handed-off call to people (`/telephony/twilio/transfer/{call_id}`).

Twilio sends `connected`, then `start` (stream and call ids, media format, custom
parameters), then `media`, `dtmf`, `mark` and finally `stop`. The handshake is
checked here, before any audio machinery exists, so a wrong client gets a clear log
line and a close code instead of a half-started pipeline. After `start`,
`CheckedTwilioSerializer` keeps one bad message from ending a call: it is logged and
dropped, and the stream goes on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from fastapi import APIRouter, Path, Request, Response, WebSocket
from pipecat.audio.utils import ulaw_to_pcm
from pipecat.frames.frames import CancelWorkerFrame, Frame, InputAudioRawFrame
from pipecat.serializers.twilio import TwilioFrameSerializer

from voicebot.orders import NotFound
from voicebot.voice.dialogue import CallInfo
from voicebot.voice.pipeline import run_call

logger = logging.getLogger(__name__)

router = APIRouter(tags=["telephony"])

UNSUPPORTED_DATA = 1003  # RFC 6455: not JSON text, or audio we cannot decode
POLICY_VIOLATION = 1008  # RFC 6455: protocol order broken
START_TIMEOUT_S = 10.0  # Twilio sends `start` right after connecting
MAX_MESSAGE_CHARS = 64 * 1024  # a 20 ms media message is ~300 characters; 64 KiB would be 8 s of audio
TWILIO_MEDIA_FORMAT = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
KNOWN_EVENTS = {"connected", "start", "media", "dtmf", "mark", "stop"}


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
            check_media_format(start)
            return event
        if kind == "media":
            raise HandshakeError(POLICY_VIOLATION, "`media` before `start`")
        if kind != "connected":
            logger.warning("Twilio stream: ignoring %r before `start`", kind)


def call_from_start(start_message: dict[str, Any]) -> CallInfo:
    """Twilio `start` → the call's identity; custom parameters are the <Stream>'s <Parameter>s."""
    start = start_message.get("start") or {}
    parameters = {str(k): str(v) for k, v in (start.get("customParameters") or {}).items()}
    return CallInfo(
        call_id=start.get("callSid") or CallInfo.new_id(),
        stream_id=start.get("streamSid") or start_message.get("streamSid") or "",
        caller=parameters.get("caller") or parameters.get("from") or parameters.get("From"),
        parameters=parameters,
    )


class CheckedTwilioSerializer(TwilioFrameSerializer):
    """pipecat's Twilio serializer, but a malformed message is logged and dropped.

    pipecat's input transport stops reading the socket on the first exception a
    message raises (bad base64 did that), which left the call deaf. `stop` ends the
    call at once: the caller hung up.
    """

    WARN_EVERY = 100  # after the first warning of a kind, one line per this many more

    def __init__(self, call: CallInfo) -> None:
        super().__init__(
            stream_sid=call.stream_id,
            call_sid=call.call_id,
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False),  # no Twilio credentials offline
        )
        self.call = call
        self.problems: Counter[str] = Counter()

    def _problem(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        count = self.problems[kind]
        if count == 1 or count % self.WARN_EVERY == 0:
            logger.warning("Call %s: dropped %s (%d so far): %s", self.call.call_id, kind, count, detail)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        """One message → a frame, or None; each message is parsed and decoded once (the audio path)."""
        try:
            event = parse_event(data)
        except OversizedMessage as error:
            self._problem("oversized message", str(error))
            return None
        except ValueError as error:
            self._problem("malformed message", str(error))
            return None
        kind = event.get("event")
        if kind == "media":
            return await self._audio(event)
        if kind == "stop":
            logger.info("Call %s: Twilio sent `stop` (caller hung up)", self.call.call_id)
            return CancelWorkerFrame(reason="caller hung up")
        if kind not in KNOWN_EVENTS:
            self._problem("unknown event", repr(kind)[:60])
            return None
        try:
            return await super().deserialize(data)  # dtmf; connected, start and mark give None
        except Exception as error:  # noqa: BLE001 - one message must never end the call
            self._problem(f"undecodable {kind}", str(error))
            return None

    async def _audio(self, event: dict[str, Any]) -> Frame | None:
        """`media` → 16-bit PCM at the pipeline's rate (pipecat's conversion, one base64 decode)."""
        payload = (event.get("media") or {}).get("payload")
        try:
            ulaw = base64.b64decode(payload or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            self._problem("media with a payload that is not base64 μ-law", repr(payload)[:60])
            return None
        if not ulaw:
            return None
        pcm = await ulaw_to_pcm(ulaw, self._twilio_sample_rate, self._sample_rate, self._input_resampler)
        if not pcm:
            return None  # the resampler holds the first few milliseconds back
        return InputAudioRawFrame(audio=pcm, num_channels=1, sample_rate=self._sample_rate)


@router.websocket("/telephony/twilio")
async def twilio_media_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            start = await read_start(websocket)
    except HandshakeError as error:
        logger.warning("Twilio stream rejected (%s): %s", error.code, error.reason)
        await websocket.close(code=error.code, reason=error.reason[:120])
        return
    except TimeoutError:
        logger.warning("Twilio stream rejected: no `start` within %.0f s", START_TIMEOUT_S)
        await websocket.close(code=POLICY_VIOLATION, reason="no start message")
        return
    if start is None:
        return
    call = call_from_start(start)
    # The transport closes the socket when the call ends.
    await run_call(websocket, call, CheckedTwilioSerializer(call), websocket.app.state.voice)


@router.api_route("/telephony/twilio/transfer/{call_id}", methods=["GET", "POST"])
def transfer_twiml(call_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")], request: Request) -> Response:
    """TwiML that takes a handed-off call to a person, keyed by call id so the summary follows.

    When the bot hands off, the `call.transfer` event names this path; the operator's
    call-control app updates the live call to it (Twilio's "update call" with this URL).
    With VOICEBOT_TRANSFER_SIP_URI the call is dialled to the contact centre's SIP queue,
    carrying X-Voicebot-Call-Id and X-Voicebot-Handoff-Id headers (the agent's screen pop
    looks the summary up by them); otherwise it waits in a Twilio <Enqueue> named after
    the queue. The handoff is marked transferred, so the agent desktop stops offering it.
    """
    try:
        handoff = request.app.state.handoffs.transfer(call_id)
    except NotFound:
        sorry = "<Say>Sorry, we could not find your call. Please call us again.</Say><Hangup/>"
        return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{sorry}</Response>', 404, media_type="application/xml")
    sip_uri = request.app.state.settings.transfer_sip_uri
    if sip_uri:
        uri = sip_uri.format(queue=handoff["queue"])
        headers = urlencode({"X-Voicebot-Call-Id": call_id, "X-Voicebot-Handoff-Id": handoff["handoff_id"]})
        action = f"<Dial><Sip>{escape(uri + ('&' if '?' in uri else '?') + headers)}</Sip></Dial>"
    else:
        action = f"<Enqueue>{escape(handoff['queue'])}</Enqueue>"
    logger.info("Call %s transferred to %s", call_id, handoff["queue"])
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{action}</Response>', media_type="application/xml")
