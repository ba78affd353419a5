"""`CheckedTwilioSerializer`: pipecat's Twilio serializer, hardened for a live line, and the voice layer's frames on Twilio's wire."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections import Counter
from typing import Any

from pipecat.audio.utils import create_stream_resampler, ulaw_to_pcm
from pipecat.frames.frames import CancelWorkerFrame, Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.twilio import TwilioFrameSerializer

from voicebot.telephony.twilio.handshake import (
    KNOWN_EVENTS,
    OversizedMessage,
    parse_event,
)
from voicebot.voice.carrier import CallInfo
from voicebot.voice.frames import BotTurnSpokenFrame

logger = logging.getLogger(__name__)


class CheckedTwilioSerializer(TwilioFrameSerializer):
    """pipecat's Twilio serializer, but a malformed message is logged and dropped.

    pipecat's input transport stops reading the socket on the first exception a
    message raises (bad base64 did that), which left the call deaf. `stop` ends the
    call at once: the caller hung up. A BotTurnSpokenFrame becomes a `mark`, which
    Twilio echoes once the audio sent before it has played.
    """

    WARN_EVERY = 100  # after the first warning of a kind, one line per this many more

    def __init__(self, call: CallInfo, stream_sid: str) -> None:
        params = TwilioFrameSerializer.InputParams(auto_hang_up=False)  # no Twilio credentials offline
        super().__init__(stream_sid=stream_sid, call_sid=call.call_id, params=params)
        self.call = call
        self.stream_sid = stream_sid
        self.problems: Counter[str] = Counter()
        # The caller's audio is decoded here, one base64 decode a message (see `_audio`).
        self._line_rate = params.twilio_sample_rate
        self._pipeline_rate = 0  # known at setup
        self._caller_resampler = create_stream_resampler(clear_after_secs=params.resampler_clear_after_secs)

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        self._pipeline_rate = setup.audio_in_sample_rate

    def _dropped(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        count = self.problems[kind]
        if count == 1 or count % self.WARN_EVERY == 0:
            logger.warning("Call %s: dropped %s (%d so far): %s", self.call.call_id, kind, count, detail)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, BotTurnSpokenFrame):
            return json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": frame.message}})
        return await super().serialize(frame)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        """One message → a frame, or None; each message is parsed and decoded once (the audio path)."""
        try:
            event = parse_event(data)
        except OversizedMessage as error:
            self._dropped("oversized message", str(error))
            return None
        except ValueError as error:
            self._dropped("malformed message", str(error))
            return None
        kind = event.get("event")
        if kind == "media":
            return await self._audio(event)
        if kind == "stop":
            logger.info("Call %s: Twilio sent `stop` (caller hung up)", self.call.call_id)
            return CancelWorkerFrame(reason="caller hung up")
        if kind not in KNOWN_EVENTS:
            self._dropped("unknown event", repr(kind)[:60])
            return None
        try:
            return await super().deserialize(data)  # dtmf; connected, start and mark give None
        except Exception as error:  # noqa: BLE001 - one message must never end the call
            self._dropped(f"undecodable {kind}", str(error))
            return None

    async def _audio(self, event: dict[str, Any]) -> Frame | None:
        """`media` → 16-bit PCM at the pipeline's rate (pipecat's conversion, one base64 decode)."""
        payload = (event.get("media") or {}).get("payload")
        try:
            ulaw = base64.b64decode(payload or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            self._dropped("media with a payload that is not base64 μ-law", repr(payload)[:60])
            return None
        if not ulaw:
            return None
        pcm = await ulaw_to_pcm(ulaw, self._line_rate, self._pipeline_rate, self._caller_resampler)
        if not pcm:
            return None  # the resampler holds the first few milliseconds back
        return InputAudioRawFrame(audio=pcm, num_channels=1, sample_rate=self._pipeline_rate)
