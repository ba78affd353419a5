"""Twilio routes: the Media Streams WebSocket (`<Connect><Stream url="wss://…/telephony/twilio">`)
and the TwiML that transfers a handed-off call to people (`/telephony/twilio/transfer/{call_id}`).

The handshake is checked (handshake.py) before the call's pipeline starts; after `start`,
`CheckedTwilioSerializer` keeps one bad message from ending a call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

from fastapi import APIRouter, Path, Request, Response, WebSocket

from voicebot.domain.errors import NotFound
from voicebot.prompts import say
from voicebot.telephony.twilio.access import KEY_PARAMETER, CarrierAccess
from voicebot.telephony.twilio.handshake import (
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    START_TIMEOUT_S,
    TRANSFER_PATH,
    HandshakeError,
    call_from_start,
    read_start,
    stream_sid_from_start,
)
from voicebot.telephony.twilio.serializer import CheckedTwilioSerializer
from voicebot.voice.pipeline import run_call

logger = logging.getLogger(__name__)

router = APIRouter(tags=["telephony"])


@router.websocket("/telephony/twilio")
async def twilio_media_stream(websocket: WebSocket) -> None:
    """One call's media stream. Refused before any pipeline exists when it is not Twilio's (no valid
    signature, or no carrier key in `start`) or when the engine is at its call limit (1013, busy)."""
    access: CarrierAccess = websocket.app.state.twilio_access
    if not access.stream_allowed(websocket.url, websocket.headers.get("x-twilio-signature")):
        logger.warning("Twilio stream refused: no valid X-Twilio-Signature")
        await websocket.close(code=POLICY_VIOLATION)  # before accepting: the upgrade gets 403
        return
    voice = websocket.app.state.voice
    busy = voice.admission.claim()
    await websocket.accept()
    if busy:
        logger.warning("Twilio stream refused: %s", busy)
        await websocket.close(code=TRY_AGAIN_LATER, reason=busy[:120])
        return
    try:
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                start = await read_start(websocket)
            if start is None:
                return
            call, stream_sid = call_from_start(start), stream_sid_from_start(start)
            if not access.stream_key_ok(call.parameters):
                raise HandshakeError(POLICY_VIOLATION, "no valid carrier key in the start message's customParameters")
        except HandshakeError as error:
            logger.warning("Twilio stream rejected (%s): %s", error.code, error.reason)
            await websocket.close(code=error.code, reason=error.reason[:120])
            return
        except TimeoutError:
            logger.warning("Twilio stream rejected: no `start` within %.0f s", START_TIMEOUT_S)
            await websocket.close(code=POLICY_VIOLATION, reason="no start message")
            return
        call.parameters.pop(KEY_PARAMETER, None)  # a secret: not for Rasa's metadata or the call record
        logger.info("Twilio stream %s carries call %s", stream_sid, call.call_id)
        # The transport closes the socket when the call ends.
        await run_call(websocket, call, CheckedTwilioSerializer(call, stream_sid), voice)
    finally:
        voice.admission.release()


@router.api_route(TRANSFER_PATH, methods=["GET", "POST"])
async def transfer_twiml(call_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")], request: Request) -> Response:
    """TwiML that takes a handed-off call to a person, keyed by call id so the summary follows.

    When the bot hands off, the `call.transfer` event names this path; the operator's
    call-control app updates the live call to it (Twilio's "update call" with this URL).
    With VOICEBOT_TRANSFER_SIP_URI the call is dialled to the contact centre's SIP queue,
    carrying X-Voicebot-Call-Id and X-Voicebot-Handoff-Id headers (the agent's screen pop
    looks the summary up by them); otherwise it waits in a Twilio <Enqueue> named after
    the queue. The handoff is marked transferred, so the agent desktop stops offering it.
    Only for Twilio: signed, or with `?key=` the carrier key (403 otherwise).
    """
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"))) if request.method == "POST" else {}
    if not request.app.state.twilio_access.twiml_allowed(request.url, request.headers.get("x-twilio-signature"), form):
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>', 403, media_type="application/xml")
    try:
        handoff = await asyncio.to_thread(request.app.state.handoffs.transfer, call_id)
    except NotFound:
        sorry = f"<Say>{escape(say('call_not_found'))}</Say><Hangup/>"
        return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{sorry}</Response>', 404, media_type="application/xml")
    sip_uri = request.app.state.settings.transfer_sip_uri
    if sip_uri:
        uri = sip_uri.format(queue=handoff.queue)
        headers = urlencode({"X-Voicebot-Call-Id": call_id, "X-Voicebot-Handoff-Id": handoff.handoff_id})
        action = f"<Dial><Sip>{escape(uri + ('&' if '?' in uri else '?') + headers)}</Sip></Dial>"
    else:
        action = f"<Enqueue>{escape(handoff.queue)}</Enqueue>"
    logger.info("Call %s transferred to %s", call_id, handoff.queue)
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{action}</Response>', media_type="application/xml")
