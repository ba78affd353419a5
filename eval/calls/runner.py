"""Runs whole-call scenarios against a bot of its own and gathers the evidence to judge them.

The suite starts its own engine (Rasa, actions, Piper, Whisper) on free loopback ports with
a private SQLite database, so it never touches a running bot's data, and puts the
database back to the demo seed before every call: each scenario meets the orders the
scenario writers were told about.

Two ways to carry a call:
- `phone`: the caller's turns are synthesised in the scenario's voice, degraded by its
  line condition, and played in real time over the Twilio Media Streams WebSocket (VAD,
  Whisper, barge-in, DTMF, silence and hang-up as on a real line);
- `text`: the same turns typed to the dialogue API, for fast iteration on the dialogue.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from eval.calls.checks import CallEvidence, OrderSnapshot, Reply, judge
from eval.calls.line import LineCondition, background, degrade
from eval.calls.scenario import CallerTurn, Scenario
from voicebot.credentials import carrier_key, service_headers
from voicebot.settings import Settings

DEFAULT_CALLER = "+15125550100"  # a number no demo customer has: callers identify themselves
# Voices and line conditions given to scenarios that name none, in turn. The blind set
# mixes in the kokoro family, which no tuning run ever hears.
SET_VOICES = {
    "tuning": ("joe", "joe-slow", "joe-fast", "joe-low"),
    "blind": ("kokoro-jf_alpha", "joe", "kokoro-jm_kumo", "joe-fast", "kokoro-jf_nezumi"),
}
LINE_CONDITIONS: tuple[dict[str, float], ...] = ({}, {"snr_db": 25}, {"snr_db": 15, "loss": 0.02}, {}, {"loss": 0.05})
TAIL_SILENCE_S = 0.3
ANSWERED_WITHIN_MS = 5000.0  # bot audio this soon after the caller stopped is its answer ("Are you still there?" comes after 8 s)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    mode: str
    voice: str | None
    line: dict[str, float]
    failures: tuple[str, ...]
    handoff: dict[str, Any] | None
    reprompts: int
    caller_turns: int
    latencies_ms: tuple[float, ...]
    duration_s: float
    transcript: tuple[dict[str, Any], ...]  # the engine's turns: caller text, intent, emotion, actions, bot text

    @property
    def passed(self) -> bool:
        return not self.failures


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The suite's many callers share a few demo orders, and some fail their identity checks on
# purpose: a real order's lock-out after five failures (issue 13) would spill into other calls.
SHARED_ORDER_CHECKS = 1000


@contextmanager
def suite_engine(echo: Callable[[str], None]) -> Iterator[Settings]:
    """A whole bot of the suite's own, on free ports, with its own database under a temp folder."""
    from voicebot.runtime.stack import EngineStack
    from voicebot.store import init_database

    with tempfile.TemporaryDirectory(prefix="voicebot-calls-") as folder:
        template = Path(folder) / "template"
        init_database(Settings(data_dir=template, DATABASE_URL=None)).dispose()
        settings = Settings(
            data_dir=Path(folder) / "engine", DATABASE_URL=None,
            port=free_port(), rasa_port=free_port(), action_port=free_port(), tts_port=free_port(),
            verify_attempts_per_order=SHARED_ORDER_CHECKS,
        )
        settings.data_dir.mkdir()
        _copy_database(template / "voicebot.db", settings.data_dir / "voicebot.db")
        stack = EngineStack(settings)
        try:
            stack.start()
            yield settings
        finally:
            stack.stop()


def _copy_database(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def reset_database(settings: Settings) -> None:
    """Puts every table back to the demo seed, in place (the engine keeps its connections)."""
    target = settings.data_dir / "voicebot.db"
    template = settings.data_dir.parent / "template" / "voicebot.db"
    db = sqlite3.connect(target, timeout=30)
    try:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("ATTACH DATABASE ? AS seed", (str(template),))
        tables = [r[0] for r in db.execute("SELECT name FROM seed.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        with db:
            for table in tables:
                db.execute(f'DELETE FROM main."{table}"')
                db.execute(f'INSERT INTO main."{table}" SELECT * FROM seed."{table}"')
        db.execute("DETACH DATABASE seed")
    finally:
        db.close()


def scenario_orders(scenario: Scenario) -> set[str]:
    o = scenario.outcome
    return set(o.orders) | set(o.unchanged) | set(o.refund_requested) | set(o.address_changed)


def snapshot(client: httpx.Client, numbers: set[str]) -> dict[str, OrderSnapshot]:
    snaps = {}
    for number in sorted(numbers):
        response = client.get(f"/api/v1/orders/{number}")
        response.raise_for_status()
        snaps[number] = OrderSnapshot.from_api(response.json())
    return snaps


def latest_handoff(client: httpx.Client, call_id: str) -> dict[str, Any] | None:
    response = client.get(f"/api/v1/calls/{call_id}/handoff")
    return response.json() if response.status_code == 200 else None


class TextCarrier:
    """Types the caller's turns to the dialogue API: the same dialogue, without the audio."""

    mode = "text"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def place(self, scenario: Scenario, voice: str | None, line: dict[str, float], client: httpx.Client) -> tuple[str, list[Reply | None], int | None]:
        greeting = client.post("/api/v1/conversations", json={"channel": "text", "caller": scenario.caller or DEFAULT_CALLER})
        greeting.raise_for_status()
        call_id = greeting.json()["call_id"]
        replies: list[Reply | None] = []
        ended_after = None
        for n, turn in enumerate(scenario.turns, 1):
            if turn.kind == "hangup":
                break
            if turn.kind == "silence_ms":
                replies.append(None)
                continue
            text = turn.dtmf.rstrip("#") if turn.kind == "dtmf" else turn.text
            started = time.perf_counter()
            response = client.post(f"/api/v1/conversations/{call_id}/messages", json={"text": text})
            response.raise_for_status()
            bot = response.json()
            replies.append(Reply(bot["bot_text"], round(1000 * (time.perf_counter() - started), 1)))
            if bot.get("end_call"):
                ended_after = n
                break
        if ended_after is None:
            outcome = "handed_off" if latest_handoff(client, call_id) else "resolved"
            client.post(f"/api/v1/conversations/{call_id}/end", json={"outcome": outcome})
        return call_id, replies, ended_after


class PhoneCarrier:
    """Phones the bot over the Twilio Media Streams WebSocket, in the scenario's voice."""

    mode = "phone"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.engine_url.replace("http", "ws", 1) + "/telephony/twilio"

    def place(self, scenario: Scenario, voice: str | None, line: dict[str, float], client: httpx.Client) -> tuple[str, list[Reply | None], int | None]:
        from voicebot.telephony.twilio.caller import fetch_call_record, play_call

        clean = [self._audio(turn, voice) for turn in scenario.turns]
        conditions = [LineCondition(snr_db=line.get("snr_db"), loss=line.get("loss", 0.0), seed=n) for n in range(len(scenario.turns))]
        steps = [self._step(turn, pcm, condition) for turn, pcm, condition in zip(scenario.turns, clean, conditions)]
        spoken = next((n for n, pcm in enumerate(clean) if pcm is not None), None)
        noise = None if spoken is None else background(clean[spoken], conditions[spoken])
        result = asyncio.run(play_call(
            self.url, steps, caller=scenario.caller or DEFAULT_CALLER, reply_timeout_s=20.0, background=noise, key=carrier_key(self.settings)
        ))
        record = asyncio.run(fetch_call_record(self.settings.engine_url, result.call_id, service_headers(self.settings)))
        bot_turns = [(datetime.fromisoformat(t["at"]).timestamp(), t) for t in record.get("turns", [])[1:]]
        starts = [t["started_at"] for t in result.turns] + [float("inf")]
        replies: list[Reply | None] = []
        for n, played in enumerate(result.turns):
            said = [t["bot_text"] for at, t in bot_turns if starts[n] <= at < starts[n + 1] and t.get("bot_text")]
            latency = played.get("latency_ms")
            # Words the dialogue did not say are not on the record ("Sorry, could you repeat
            # that?" to speech Whisper could not make out): the caller heard an answer all the same.
            answered = said or (latency is not None and latency <= ANSWERED_WITHIN_MS)
            replies.append(Reply(" ".join(said), latency) if answered else None)
        bot_ended = result.closed_by == "server" or record.get("outcome") == "resolved"
        return result.call_id, replies, len(result.turns) if bot_ended else None

    def _audio(self, turn: CallerTurn, voice: str | None) -> np.ndarray | None:
        """The turn's caller audio at 8 kHz before the line (None: not speech)."""
        from voicebot.telephony.twilio.caller import load_wav_8k

        if turn.kind not in ("user", "audio"):
            return None
        return load_wav_8k(turn.audio) if turn.audio else self._speak(turn, voice)

    def _step(self, turn: CallerTurn, pcm: np.ndarray | None, condition: LineCondition):
        from voicebot.telephony.twilio.caller import HangUp, Keys, Say, Wait

        if turn.kind == "hangup":
            return HangUp()
        if turn.kind == "dtmf":
            return Keys(turn.dtmf)
        if turn.kind == "silence_ms":
            return Wait(turn.silence_s)
        return Say(degrade(pcm, condition), turn.text, turn.barge_in_after_s)

    def _speak(self, turn: CallerTurn, voice: str | None) -> np.ndarray:
        """The turn in `voice`, at 8 kHz, with its pauses as silence."""
        import soxr

        from eval.calls.voices import synthesise

        pieces = []
        for part in turn.speech:
            if part.text:
                audio, rate = synthesise(voice or "joe", part.text, self.settings.tts_url)
                pieces.append(soxr.resample(audio.astype(np.float32), rate, 8000) if rate != 8000 else audio)
            else:
                pieces.append(np.zeros(int(part.pause_s * 8000), dtype=np.float32))
        pieces.append(np.zeros(int(TAIL_SILENCE_S * 8000), dtype=np.float32))
        return (np.clip(np.concatenate(pieces), -1.0, 1.0) * 32767).round().astype(np.int16)


def run_scenario(scenario: Scenario, index: int, carrier: TextCarrier | PhoneCarrier, settings: Settings) -> ScenarioResult:
    voices = SET_VOICES.get(scenario.set_name, SET_VOICES["tuning"])
    voice = scenario.voice or voices[index % len(voices)]
    line = scenario.line or LINE_CONDITIONS[index % len(LINE_CONDITIONS)]
    reset_database(settings)
    started = time.monotonic()
    with httpx.Client(base_url=settings.engine_url, headers=service_headers(settings), timeout=30) as client:
        numbers = scenario_orders(scenario)
        before = snapshot(client, numbers)
        call_id, replies, ended_after = carrier.place(scenario, voice, line, client)
        record = client.get(f"/api/v1/calls/{call_id}").json()
        handoff = latest_handoff(client, call_id)
        evidence = CallEvidence(
            call_id=call_id,
            replies=replies,
            bot_text=" ".join(t.get("bot_text") or "" for t in record.get("turns", [])),
            orders_before=before,
            orders_after=snapshot(client, numbers),
            handoff=handoff,
            bot_ended_after=ended_after,
            record_turns=record.get("turns", []),
        )
    return ScenarioResult(
        scenario=scenario,
        mode=carrier.mode,
        voice=voice if carrier.mode == "phone" else None,
        line=line if carrier.mode == "phone" else {},
        failures=tuple(judge(scenario, evidence)),
        handoff=handoff,
        reprompts=evidence.reprompts,
        caller_turns=evidence.caller_turns,
        latencies_ms=tuple(r.latency_ms for r in replies if r is not None and r.latency_ms is not None),
        duration_s=round(time.monotonic() - started, 1),
        transcript=tuple(
            {k: t.get(k) for k in ("caller_text", "intent", "confidence", "emotion", "actions", "bot_text")} for t in record.get("turns", [])
        ),
    )
