"""`voicebot-eval flood`: many callers at once against the call limit, and a real caller's latency meanwhile.

A contact centre's line can be flooded (a marketing campaign, an outage, an attack). The
engine takes `VOICEBOT_MAX_CALLS` calls at once and refuses the rest at once (busy) rather
than slowing every call down. This places one scripted real call alone, then the same
call while `--fake-calls` fake callers connect at the same moment and keep a silent line
open; it prints how many were admitted and refused, how fast the refusals came, and the
real caller's turn latency alone and under the flood. Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eval.latency_stats import summarise
from eval.voice_latency import synthesise_script
from voicebot.credentials import carrier_key
from voicebot.settings import PROJECT_ROOT, Settings
from voicebot.telephony.twilio.caller import SILENCE_FRAME, CallResult, place_call

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "flood.json"
TRY_AGAIN_LATER = 1013


@dataclass
class Flood:
    """What the fake callers met: refused at once (1013, with why), or admitted and kept on the line."""

    admitted: int = 0
    refused: int = 0
    other: list[str] = field(default_factory=list)  # anything else: an error, a close without a frame
    refusal_ms: list[float] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)


async def fake_caller(url: str, key: str, hold_s: float, flood: Flood) -> None:
    """Connects as Twilio would, then keeps a silent line open for `hold_s` (or until refused)."""
    import websockets

    stream_sid, call_sid = "MZ" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex
    start = {
        "event": "start", "streamSid": stream_sid,
        "start": {"streamSid": stream_sid, "callSid": call_sid, "customParameters": {"caller": "+15550000000", "key": key}},
    }
    media = json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(SILENCE_FRAME).decode()}})
    began = time.monotonic()
    try:
        async with websockets.connect(url, open_timeout=10) as ws:
            await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await ws.send(json.dumps(start))
            deadline = time.monotonic() + hold_s
            while time.monotonic() < deadline:
                await ws.send(media)
                try:
                    await asyncio.wait_for(ws.recv(), 0.02)  # the bot's greeting, marks...
                except TimeoutError:
                    pass
            await ws.send(json.dumps({"event": "stop", "streamSid": stream_sid}))
        flood.admitted += 1
    except websockets.exceptions.ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == TRY_AGAIN_LATER:
            flood.refused += 1
            flood.refusal_ms.append((time.monotonic() - began) * 1000)
            flood.reasons.add(closed.rcvd.reason.split(":")[0])
        else:
            flood.other.append(f"closed {closed.rcvd.code if closed.rcvd else 'without a close frame'}")
    except (OSError, websockets.exceptions.InvalidStatus) as error:
        flood.other.append(type(error).__name__)


async def flood_with_real_call(url: str, key: str, turns: list[Path], fake_calls: int, hold_s: float) -> tuple[Flood, CallResult]:
    """The real call first (it holds a place), then the fake callers all at once while it talks."""
    flood = Flood()
    real = asyncio.create_task(place_call(url, turns, key=key))
    await asyncio.sleep(1.0)  # the real call is connected and greeted
    await asyncio.gather(*(fake_caller(url, key, hold_s, flood) for _ in range(fake_calls)))
    return flood, await real


def latencies(result: CallResult) -> list[float]:
    return [t["latency_ms"] for t in result.turns if t.get("latency_ms") is not None]


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.runtime.stack import local_engine

    url = f"ws://{settings.host}:{settings.port}/telephony/twilio"
    key = carrier_key(settings)
    with local_engine(settings, "the flood benchmark"), tempfile.TemporaryDirectory() as folder:
        turns = synthesise_script(settings, Path(folder))
        echo("A real call alone ...")
        alone = asyncio.run(place_call(url, turns, key=key))
        echo(f"The same call while {args.fake_calls} fake callers connect at once (limit {settings.max_calls}) ...")
        flood, flooded = asyncio.run(flood_with_real_call(url, key, turns, args.fake_calls, args.hold_s))
    report = {
        "fake_calls": args.fake_calls,
        "max_calls": settings.max_calls,
        "admitted": flood.admitted,
        "refused_busy": flood.refused,
        "other_outcomes": flood.other,
        "refusal_ms": summarise(flood.refusal_ms) if flood.refusal_ms else None,
        "refusal_reasons": sorted(flood.reasons),
        "real_call_alone_ms": summarise(latencies(alone)) if latencies(alone) else None,
        "real_call_under_flood_ms": summarise(latencies(flooded)) if latencies(flooded) else None,
        "real_call_turns_answered": [len(latencies(alone)), len(latencies(flooded))],
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        def p50_p95(figures: dict | None) -> str:
            return f"p50 {figures['p50_ms']} / p95 {figures['p95_ms']} ms" if figures else "no figures"

        print(
            f"{args.fake_calls} fake callers against a limit of {settings.max_calls}: {flood.admitted} admitted, "
            f"{flood.refused} refused busy (refused in {p50_p95(report['refusal_ms'])}), {len(flood.other)} other.\n"
            f"Real call turn latency alone {p50_p95(report['real_call_alone_ms'])}; "
            f"under the flood {p50_p95(report['real_call_under_flood_ms'])}."
        )
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
