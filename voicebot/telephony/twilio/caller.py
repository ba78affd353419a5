"""A scriptable phone caller: plays recorded turns to the bot over Twilio Media Streams.

Tests and benchmarks need a caller that behaves like Twilio does on a real call, so the
voice loop can be checked end to end without a phone line: `connected`, `start`, then
an unbroken stream of 20 ms mu-law `media` frames in real time (silence between turns,
because the server's voice detector needs it to notice the end of speech), `dtmf`
digits, mark echoes once the bot's audio has "played", and `stop`.

The Twilio protocol carries audio only; what was understood and answered is fetched from
the engine's call record afterwards (`fetch_call_record`) and joined by `merge`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
import uuid
import wave
from collections import deque
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Sequence

import numpy as np

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160 mu-law bytes per 20 ms frame
ULAW_SILENCE = 0xFF  # mu-law code of a zero sample
SILENCE_FRAME = bytes([ULAW_SILENCE]) * FRAME_BYTES
SPEECH_RMS = 200.0  # ~ -44 dBFS: frames quieter than this count as silence, not speech
DTMF_GAP_S = 0.1
SEND_STALL_S = 5.0  # a send blocked this long means the server stopped reading: give up

# --- mu-law (G.711) in NumPy: audioop is gone in Python 3.13 -------------------------

_BIAS = 0x84


def lin2ulaw(pcm: np.ndarray) -> bytes:
    """16-bit linear PCM -> G.711 mu-law bytes, bit-exact with audioop.lin2ulaw (which
    works on 14-bit magnitudes, as the standard's reference code does)."""
    v = np.asarray(pcm, dtype=np.int32) >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    v = np.minimum(np.abs(v), 8159) + (_BIAS >> 2)  # 33 .. 8192
    segment = np.floor(np.log2(v)).astype(np.int32) - 5  # 0 .. 8
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | ((v >> (segment + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8).tobytes()


def ulaw2lin(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes -> 16-bit linear PCM (int16 array)."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = ((((u & 0x0F) << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


# --- caller audio ---------------------------------------------------------------------


def load_wav_8k(path: Path | str) -> np.ndarray:
    """Any WAV (mono/stereo, any rate, 8-32 bit) -> mono 8 kHz int16, as a phone line carries it."""
    import soundfile as sf
    import soxr

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE)
    return (np.clip(mono, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def frames_of(pcm: np.ndarray) -> list[bytes]:
    """8 kHz PCM -> 20 ms mu-law frames of 160 bytes; the last one padded with silence."""
    ulaw = lin2ulaw(pcm)
    frames = [ulaw[i : i + FRAME_BYTES] for i in range(0, len(ulaw), FRAME_BYTES)]
    if frames:
        frames[-1] = frames[-1].ljust(FRAME_BYTES, bytes([ULAW_SILENCE]))
    return frames


def speech_frames(pcm: np.ndarray) -> tuple[int, int]:
    """Indexes of the first and last 20 ms frames loud enough to be speech (latency counts
    from the last, not from the WAV's trailing silence); the whole file if it is quiet."""
    n = max(1, -(-len(pcm) // FRAME_BYTES))
    padded = np.zeros(n * FRAME_BYTES, dtype=np.float64)
    padded[: len(pcm)] = pcm
    rms = np.sqrt((padded.reshape(n, FRAME_BYTES) ** 2).mean(axis=1))
    loud = np.nonzero(rms >= SPEECH_RMS)[0]
    return (int(loud[0]), int(loud[-1])) if len(loud) else (0, n - 1)


# --- what the bot sent -----------------------------------------------------------------


class BotTrack:
    """The bot's audio as it arrives, and when it would finish playing on the phone.

    The server may send audio faster than real time; Twilio buffers it and plays it at
    8 kHz, so "the bot is still talking" is judged from the audio's duration, not from
    when the messages stopped arriving. `clear` empties that buffer, as Twilio does.
    """

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.arrivals: list[tuple[float, float, bool]] = []  # (time received, seconds of audio, audible)
        self.play_end = 0.0  # when the buffered audio finishes playing
        self.last_rx: float | None = None

    def add(self, ulaw: bytes, now: float) -> None:
        seconds = len(ulaw) / SAMPLE_RATE
        pcm = ulaw2lin(ulaw)
        self.chunks.append(pcm)
        audible = bool(len(pcm)) and float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) >= SPEECH_RMS
        self.arrivals.append((now, seconds, audible))
        self.play_end = max(self.play_end, now) + seconds
        self.last_rx = now

    def clear(self, now: float) -> None:
        self.play_end = min(self.play_end, now)

    def first_after(self, t: float, audible: bool = False) -> float | None:
        """When the first bot audio (or the first audible bot audio) after `t` arrived."""
        return next((rx for rx, _, loud in self.arrivals if rx >= t and (loud or not audible)), None)

    def seconds_between(self, t0: float, t1: float) -> float:
        return sum(s for rx, s, _ in self.arrivals if t0 <= rx < t1)

    def quiet_since(self, t: float) -> float | None:
        """When the bot went quiet after a reply that started at or after `t` (None: still
        talking, or no reply yet)."""
        if self.first_after(t) is None:
            return None
        return max(self.play_end, self.last_rx or 0.0)

    def pcm(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.int16)


def latency_ms(speech_end: float, track: BotTrack) -> float | None:
    """Time from the caller's last speech frame to the bot's first audible audio after it
    (a frame of silence the bot sends first is not an answer the caller can hear)."""
    first = track.first_after(speech_end, audible=True) or track.first_after(speech_end)
    return None if first is None else round(1000.0 * (first - speech_end), 1)


@dataclass
class CallResult:
    call_id: str  # the callSid; the engine files its call record under it
    stream_sid: str
    turns: list[dict] = field(default_factory=list)  # kind, wav/digits, latency_ms, bot_audio_s
    greeting: dict = field(default_factory=dict)  # latency_ms after `start`, bot_audio_s
    clears: int = 0
    marks: list[str] = field(default_factory=list)  # names of the marks the server sent
    events: dict[str, int] = field(default_factory=dict)  # count of every server event
    bot_audio: str | None = None  # path of the 8 kHz WAV of everything the bot said
    bot_audio_s: float = 0.0
    hung_up_early: bool = False  # --hangup-after cut the call short
    closed_by: str = "caller"  # "server" if the bot hung up first, "stalled" if it stopped reading
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


# --- the call ------------------------------------------------------------------------


class _Line:
    """One call's WebSocket: a real-time frame pump, the receiver, and the bot track."""

    def __init__(self, ws, stream_sid: str, call_sid: str, background: np.ndarray | None = None) -> None:
        self.ws = ws
        self.stream_sid = stream_sid
        self.call_sid = call_sid
        self.seq = 0
        self.chunk = 0
        self.t0 = time.monotonic()
        self.outgoing: deque[tuple[bytes, list[asyncio.Future]]] = deque()  # frame, futures it completes
        self.idle = frames_of(background) if background is not None and background.size else [SILENCE_FRAME]  # looped between turns
        self.pending_marks: list[tuple[float, str]] = []  # (when its audio has played, name)
        self.track = BotTrack()
        self.events: dict[str, int] = {}
        self.marks: list[str] = []
        self.clears: list[float] = []  # when each `clear` arrived
        self.closed = asyncio.Event()
        self.closed_by_server = False
        self.stalled = False
        self.hanging_up = False

    async def send(self, message: dict) -> None:
        if self.closed.is_set():
            return
        self.seq += 1
        import websockets

        try:
            await asyncio.wait_for(self.ws.send(json.dumps({**message, "sequenceNumber": str(self.seq)})), SEND_STALL_S)
        except (websockets.ConnectionClosed, asyncio.TimeoutError) as error:
            # A server that stops reading (a dead pipeline) would block the caller forever.
            self.stalled = isinstance(error, asyncio.TimeoutError)
            self.closed_by_server = True
            self.closed.set()

    async def pump(self) -> None:
        """One frame every 20 ms on an absolute schedule: queued caller audio, else the line's background."""
        start = time.monotonic()
        i = 0
        while not self.closed.is_set() and not self.hanging_up:
            frame, done = self.outgoing.popleft() if self.outgoing else (self.idle[self.chunk % len(self.idle)], [])
            self.chunk += 1
            await self.send(
                {
                    "event": "media",
                    "streamSid": self.stream_sid,
                    "media": {
                        "track": "inbound",
                        "chunk": str(self.chunk),
                        "timestamp": str(int(1000 * (time.monotonic() - self.t0))),
                        "payload": base64.b64encode(frame).decode(),
                    },
                }
            )
            for future in done:
                if not future.done():
                    future.set_result(time.monotonic())
            await self._echo_marks()
            i += 1
            delay = start + i * FRAME_MS / 1000 - time.monotonic()
            if delay < -0.2:  # fell far behind (loaded machine): restart the schedule, no burst
                start, i, delay = time.monotonic(), 0, 0.0
            await asyncio.sleep(max(0.0, delay))

    async def _echo_marks(self) -> None:
        """Twilio returns a mark when the audio sent before it has played (or was cleared)."""
        now = time.monotonic()
        due = [m for m in self.pending_marks if m[0] <= now]
        if due:
            self.pending_marks = [m for m in self.pending_marks if m[0] > now]
            for _, name in due:
                await self.send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def receive(self) -> None:
        import websockets

        try:
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                event = message.get("event", "?")
                self.events[event] = self.events.get(event, 0) + 1
                if event == "media":
                    self.track.add(base64.b64decode(message["media"]["payload"]), now)
                elif event == "mark":
                    name = (message.get("mark") or {}).get("name", "")
                    self.marks.append(name)
                    self.pending_marks.append((max(self.track.play_end, now), name))
                elif event == "clear":
                    self.clears.append(now)
                    self.track.clear(now)
                    self.pending_marks = [(now, name) for _, name in self.pending_marks]
        except websockets.ConnectionClosed:
            pass
        if not self.closed.is_set():
            self.closed_by_server = True
            self.closed.set()

    async def play(self, frames: list[bytes], speech: tuple[int, int]) -> tuple[float, float]:
        """Queues the caller's frames; returns when the first and last speech frames went out."""
        frames = frames or [SILENCE_FRAME]
        first, last = (min(i, len(frames) - 1) for i in speech)
        loop = asyncio.get_running_loop()
        speech_started, speech_sent, all_sent = loop.create_future(), loop.create_future(), loop.create_future()
        for i, frame in enumerate(frames):
            tags = [f for f, at in ((speech_started, first), (speech_sent, last), (all_sent, len(frames) - 1)) if i == at]
            self.outgoing.append((frame, tags))
        await self._until(speech_sent)
        if not speech_sent.done():  # closed mid-turn
            now = time.monotonic()
            return (speech_started.result() if speech_started.done() else now), now
        await self._until(all_sent)
        return speech_started.result(), speech_sent.result()

    async def _until(self, future: asyncio.Future) -> None:
        """Waits for `future` or for the line to close, whichever comes first."""
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait([future, closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()

    async def wait_reply_started(self, since: float, timeout_s: float) -> float | None:
        """When the bot's first audio after `since` arrived (None: none within `timeout_s`)."""
        while not self.closed.is_set() and time.monotonic() < since + timeout_s:
            first = self.track.first_after(since)
            if first is not None:
                return first
            await asyncio.sleep(0.02)
        return None

    async def wait_bot_done(self, since: float, first_timeout_s: float, quiet_s: float, limit_s: float = 120.0) -> None:
        """Streams silence until the bot's reply (after `since`) has played out and `quiet_s`
        passed with nothing new; gives up if no reply starts within `first_timeout_s`."""
        deadline = since + limit_s
        while not self.closed.is_set() and time.monotonic() < deadline:
            now = time.monotonic()
            quiet_from = self.track.quiet_since(since)
            if quiet_from is None and now >= since + first_timeout_s:
                return
            if quiet_from is not None and now >= quiet_from + quiet_s:
                return
            await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Say:
    """The caller speaks `pcm` (8 kHz int16); with `barge_in_after_s` they start that long
    after the bot's reply began, talking over it, instead of waiting for it to finish."""

    pcm: np.ndarray
    label: str = ""
    barge_in_after_s: float | None = None


@dataclass(frozen=True)
class Keys:
    """The caller presses keypad digits (RFC 2833 events in Twilio's `dtmf` messages)."""

    digits: str


@dataclass(frozen=True)
class Wait:
    """The caller stays silent this long (the line carries silence, as a phone does)."""

    seconds: float


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up here, whatever the bot is doing."""


CallStep = Say | Keys | Wait | HangUp


async def place_call(
    url: str,
    audio_turns: list[Path],
    dtmf: str | None = None,
    out_wav: Path | None = None,
    caller: str = "+15125550147",
    silence_between_s: float = 0.6,
    hangup_after_s: float | None = None,
    stay_on_line_s: float = 0.0,
    reply_timeout_s: float = 15.0,
    greeting_timeout_s: float = 5.0,
    barge_in_after_s: float | None = None,
    raw_after_start: Sequence[str] = (),
    key: str | None = None,
) -> CallResult:
    """Plays one call: greeting, each WAV as a caller turn, then DTMF digits, then `stop`.

    With `barge_in_after_s` every turn talks over the bot's reply (see `Say`); the rest
    is `play_call`'s.
    """
    steps: list[CallStep] = [Say(load_wav_8k(p), str(p), barge_in_after_s) for p in audio_turns]  # fail before dialling
    if dtmf:
        steps.append(Keys(dtmf))
    return await play_call(
        url, steps, out_wav, caller=caller, silence_between_s=silence_between_s, hangup_after_s=hangup_after_s,
        stay_on_line_s=stay_on_line_s, reply_timeout_s=reply_timeout_s, greeting_timeout_s=greeting_timeout_s,
        raw_after_start=raw_after_start, key=key,
    )


async def play_call(
    url: str,
    steps: Sequence[CallStep],
    out_wav: Path | None = None,
    caller: str = "+15125550147",
    silence_between_s: float = 0.6,
    hangup_after_s: float | None = None,
    stay_on_line_s: float = 0.0,
    reply_timeout_s: float = 15.0,
    greeting_timeout_s: float = 5.0,
    raw_after_start: Sequence[str] = (),
    background: np.ndarray | None = None,
    key: str | None = None,
) -> CallResult:
    """Plays one call of `steps` after the greeting, then sends `stop`.

    Before each step the caller waits until the bot has finished speaking (its audio's
    duration has played out) plus `silence_between_s` of silence, unless the step barges
    in. `stay_on_line_s` keeps the line open that long after the last step (on hold for a
    person), unless the bot ends the call first. `hangup_after_s` hangs up that many
    seconds after `start`, whatever is going on (an abandoned call). `raw_after_start` are
    sent as they are right after `start` (tests of how the bot copes with malformed
    messages). `background` (8 kHz int16, looped) is what the line carries while the caller
    is quiet, a noisy line's noise; digital silence without it. `key` is the engine's carrier
    key (`voicebot.credentials.carrier_key`), sent as Twilio would send a <Parameter>. Each played step adds one
    entry to `turns`, with `started_at`: the wall clock when the caller began it, to pair
    it with the engine's record.
    """
    import websockets

    stream_sid = "MZ" + uuid.uuid4().hex
    call_sid = "CA" + uuid.uuid4().hex
    result = CallResult(call_id=call_sid, stream_sid=stream_sid)
    async with websockets.connect(url, max_size=None, open_timeout=10) as ws:
        line = _Line(ws, stream_sid, call_sid, background)
        receiver = asyncio.create_task(line.receive())
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await line.send(
            {
                "event": "start",
                "streamSid": stream_sid,
                "start": {
                    "accountSid": "AC" + "0" * 32,
                    "streamSid": stream_sid,
                    "callSid": call_sid,
                    "tracks": ["inbound"],
                    "customParameters": {"caller": caller, **({"key": key} if key else {})},
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": SAMPLE_RATE, "channels": 1},
                },
            }
        )
        for raw in raw_after_start:
            await ws.send(raw)
        t_start = time.monotonic()
        pump = asyncio.create_task(line.pump())

        async def settle(since: float, next_step: CallStep | None, timeout_s: float) -> None:
            """Waits for the bot's reply to end, or, before a barge-in, for it to begin."""
            if isinstance(next_step, Say) and next_step.barge_in_after_s is not None:
                started = await line.wait_reply_started(since, timeout_s)
                if started is not None:
                    await asyncio.sleep(max(0.0, started + next_step.barge_in_after_s - time.monotonic()))
                return
            await line.wait_bot_done(since, timeout_s, silence_between_s)

        async def script() -> None:
            await settle(t_start, steps[0] if steps else None, greeting_timeout_s)
            now = time.monotonic()
            result.greeting = {"latency_ms": latency_ms(t_start, line.track), "bot_audio_s": round(line.track.seconds_between(t_start, now), 3)}
            for n, step in enumerate(steps):
                if line.closed.is_set() or isinstance(step, HangUp):
                    return
                started_at, timeout_s = time.time(), reply_timeout_s
                if isinstance(step, Say):
                    speech_start, since = await line.play(frames_of(step.pcm), speech_frames(step.pcm))
                    kind, what = "audio", step.label
                elif isinstance(step, Keys):
                    for i, digit in enumerate(step.digits):
                        if i:
                            await asyncio.sleep(DTMF_GAP_S)
                        await line.send({"event": "dtmf", "streamSid": stream_sid, "dtmf": {"track": "inbound_track", "digit": digit}})
                    speech_start, since, kind, what = None, time.monotonic(), "dtmf", step.digits
                else:
                    speech_start, since, kind, what = None, time.monotonic(), "silence", f"{step.seconds:g} s"
                    await asyncio.sleep(step.seconds)
                    timeout_s = 0.0  # whatever the bot said meanwhile, let it finish; no reply is owed
                await settle(since, steps[n + 1] if n + 1 < len(steps) else None, timeout_s)
                result.turns.append({**_turn(kind, what, since, line, speech_start), "started_at": started_at})
            stay_until = time.monotonic() + stay_on_line_s
            while time.monotonic() < stay_until and not line.closed_by_server:
                await asyncio.sleep(0.1)

        task = asyncio.create_task(script())
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=hangup_after_s)
        except asyncio.TimeoutError:
            task.cancel()
            result.hung_up_early = True
        finally:
            if not task.done():
                task.cancel()
        line.hanging_up = True  # the pump finishes its frame and stops: no media after `stop`
        await asyncio.gather(pump, return_exceptions=True)
        await line.send({"event": "stop", "streamSid": stream_sid, "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid}})
        result.closed_by = "stalled" if line.stalled else "server" if line.closed_by_server else "caller"
        line.closed.set()
        await ws.close()
        await asyncio.gather(receiver, return_exceptions=True)

    result.duration_s = round(time.monotonic() - t_start, 3)
    result.clears, result.marks, result.events = len(line.clears), line.marks, line.events
    pcm = line.track.pcm()
    result.bot_audio_s = round(len(pcm) / SAMPLE_RATE, 3)
    if out_wav is not None:
        write_wav(Path(out_wav), pcm)
        result.bot_audio = str(out_wav)
    return result


def _turn(kind: str, what: str, speech_end: float, line: _Line, speech_start: float | None = None) -> dict:
    """One caller turn as measured on the caller's side. `clear_ms`: from the caller's first
    speech frame to a `clear` the bot sent while they spoke (barge-in), else None."""
    clear = next((t for t in line.clears if speech_start is not None and speech_start <= t), None)
    return {
        "kind": kind,
        "input": what,
        "latency_ms": latency_ms(speech_end, line.track),
        "clear_ms": None if clear is None else round(1000.0 * (clear - speech_start), 1),
        "bot_audio_after_clear_s": None if clear is None else round(line.track.seconds_between(clear, speech_end), 3),
        "bot_audio_s": round(line.track.seconds_between(speech_end, time.monotonic()), 3),
    }


def write_wav(path: Path, pcm: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())


# --- the engine's side of the call ---------------------------------------------------


async def fetch_call_record(engine_url: str, call_id: str, headers: dict[str, str], timeout_s: float = 10.0) -> dict:
    """GETs the engine's record of the call, polling until its `outcome` is set (the engine
    finishes the record a moment after `stop`); returns what it had, or {} if none.
    `headers`: the API's credentials (`voicebot.credentials.service_headers`)."""
    import httpx

    record: dict = {}
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=engine_url.rstrip("/"), headers=headers, timeout=5) as client:
        while True:
            try:
                response = await client.get(f"/api/v1/calls/{call_id}")
                if response.status_code == 200:
                    record = response.json()
                    if record.get("outcome"):
                        return record
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() >= deadline:
                return record
            await asyncio.sleep(0.25)


def merge(result: CallResult, record: dict) -> dict:
    """The JSON `voicebot call` prints: the engine's text of each turn beside the latency the
    caller measured. Record turns without caller input (the greeting) are skipped; the rest
    pair with the caller's turns in order (audio turns, then the DTMF turn)."""
    spoken = [t for t in record.get("turns", []) if t.get("caller_text") or t.get("dtmf")]
    turns = []
    for mine, theirs in zip_longest(result.turns, spoken):
        mine, theirs = mine or {}, theirs or {}
        bot_text = theirs.get("bot_text")
        if bot_text is None and theirs.get("bot_texts") is not None:
            bot_text = " ".join(theirs["bot_texts"])
        turn = {
            "caller_text": theirs.get("caller_text") or theirs.get("dtmf"),
            "intent": theirs.get("intent"),
            "bot_text": bot_text,
            "latency_ms": mine.get("latency_ms"),
        }
        if mine.get("clear_ms") is not None:  # the caller talked over the bot and it stopped
            turn["clear_ms"] = mine["clear_ms"]
        turns.append(turn)
    return {"call_id": result.call_id, "outcome": record.get("outcome"), "turns": turns, "bot_audio": result.bot_audio}


# --- command line ----------------------------------------------------------------------

DESCRIPTION = """\
Places a scripted phone call to the bot over the Twilio Media Streams WebSocket, in real
time, like Twilio would: waits for the greeting, says each --audio WAV as one caller
turn (waiting for the bot to finish speaking before the next), presses the --dtmf
digits, then hangs up. Prints each turn's caller text, intent, bot text (from the
engine's call record) and latency: last caller speech frame -> first bot audio frame.

Examples:
  voicebot call --audio where_is_my_order.wav --audio 104233.wav --out bot.wav
  voicebot call --audio cancel.wav --dtmf 100512# --json
  voicebot call --audio hello.wav --hangup-after 3      # an abandoned call

Any WAV works (mono or stereo, 8-48 kHz); it is resampled to 8 kHz mu-law.
"""


def add_arguments(p: argparse.ArgumentParser, settings) -> None:
    """The `call` options, on any parser (so `voicebot call` can be a subcommand of cli.py)."""
    ws_default = settings.engine_url.replace("http", "ws", 1) + "/telephony/twilio"
    p.add_argument("--url", default=ws_default, help=f"the bot's Twilio Media Streams WebSocket (default {ws_default})")
    p.add_argument("--audio", action="append", type=Path, default=[], metavar="WAV", help="a caller turn; repeat for several turns, said in order")
    p.add_argument("--dtmf", metavar="DIGITS", help="keypad digits to press after the audio turns, e.g. 123456# (100 ms apart)")
    p.add_argument("--out", type=Path, metavar="WAV", help="write everything the bot said to this 8 kHz WAV")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--engine-url", default=settings.engine_url, help=f"engine HTTP URL for the call record (default {settings.engine_url})")
    p.add_argument("--hangup-after", type=float, metavar="SECONDS", help="hang up this many seconds after the call starts (abandoned call)")
    p.add_argument("--stay", type=float, default=0.0, metavar="SECONDS", help="after the last turn, stay on the line this long (e.g. on hold for an agent) unless the bot hangs up")
    p.add_argument("--caller", default="+15125550147", help="caller ID sent in the start event's customParameters")
    p.add_argument("--pause", type=float, default=0.6, metavar="SECONDS", help="silence the caller leaves after the bot stops talking (default 0.6)")
    p.add_argument("--barge-in-after", type=float, metavar="SECONDS", help="start each turn this long after the bot's reply began, talking over it (barge-in)")
    p.add_argument("--no-record", action="store_true", help="don't fetch the engine's call record (audio-only servers)")


def build_parser(settings=None) -> argparse.ArgumentParser:
    if settings is None:
        from voicebot.settings import get_settings

        settings = get_settings()
    p = argparse.ArgumentParser(prog="voicebot call", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, settings)
    return p


async def _run(args: argparse.Namespace) -> dict:
    from voicebot.credentials import carrier_key, service_headers
    from voicebot.settings import get_settings

    settings = get_settings()  # this machine's engine: its carrier key and service token
    result = await place_call(
        args.url, args.audio, args.dtmf, args.out, caller=args.caller, silence_between_s=args.pause,
        hangup_after_s=args.hangup_after, stay_on_line_s=args.stay, barge_in_after_s=args.barge_in_after,
        key=carrier_key(settings),
    )
    record = {} if args.no_record else await fetch_call_record(args.engine_url, result.call_id, service_headers(settings))
    if not record and not args.no_record:
        print(f"warning: no call record for {result.call_id} at {args.engine_url}", file=sys.stderr)
    merged = merge(result, record)
    merged["greeting_latency_ms"] = result.greeting.get("latency_ms")
    merged["clears"] = result.clears
    merged["hung_up_early"] = result.hung_up_early
    return merged


def cmd_call(args: argparse.Namespace, settings=None) -> int:
    """`voicebot call`: places the call, prints the merged result; 1 if the bot can't be reached."""
    for path in args.audio:
        if not path.is_file():
            print(f"error: no such WAV file: {path}", file=sys.stderr)
            return 2
    import websockets

    try:
        merged = asyncio.run(_run(args))
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as error:
        print(f"error: could not call {args.url}: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(merged, indent=2))
        return 0
    print(f"call {merged['call_id']}: outcome {merged['outcome'] or 'unknown'}")
    for i, turn in enumerate(merged["turns"], 1):
        latency = "-" if turn["latency_ms"] is None else f"{turn['latency_ms']:.0f} ms"
        print(f"  {i}. caller> {turn['caller_text'] or '?'}  [{turn['intent'] or '?'}, {latency}]")
        print(f"     bot>    {turn['bot_text'] or '?'}")
    if merged["bot_audio"]:
        print(f"bot audio: {merged['bot_audio']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cmd_call(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
