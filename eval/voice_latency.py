"""`voicebot-eval latency`: phone turn latency, end of caller speech → first bot audio.

Per stage too: the engine times every spoken turn (endpointing, transcription, turn
wait, dialogue, TTS, output) and files it in the call record, read back here.

Scripted callers (voiced by the stack's Piper server, sent as μ-law 8 kHz in real time
by `voicebot.telephony.twilio.caller`) phone the engine's Twilio WebSocket. The latency of every
turn is measured by the caller itself. With `--calls-at-once 1,2,4` the same script
runs with that many simultaneous calls, to see how many one machine holds while p95
stays under 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

from eval.latency_stats import summarise
from voicebot.credentials import carrier_key, service_headers
from voicebot.settings import PROJECT_ROOT, Settings
from voicebot.telephony.twilio.caller import fetch_call_record, place_call
from voicebot.voice.latency import STAGES

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "voice_latency.json"
SCRIPT = ["Where is my order?", "It's one zero four two three three.", "Can I pay with PayPal?", "Is there a fee if I cancel?"]
P95_BUDGET_MS = 1500.0


def synthesise_script(settings: Settings, folder: Path) -> list[Path]:
    """The caller's turns as WAV files, voiced by Piper a little slower than the bot."""
    paths = []
    for text in SCRIPT:
        response = httpx.post(f"{settings.tts_url}/synthesize", json={"text": text, "length_scale": 1.1}, timeout=30)
        response.raise_for_status()
        path = folder / (re.sub(r"\W+", "_", text.lower()).strip("_") + ".wav")
        path.write_bytes(response.content)
        paths.append(path)
    return paths


async def run_round(url: str, settings: Settings, turns: list[Path], calls_at_once: int) -> tuple[list[float], list[dict]]:
    """One round of simultaneous calls → the latencies the callers measured, and the
    engine's stage timings of the same turns (from its call records)."""
    results = await asyncio.gather(*(place_call(url, turns, key=carrier_key(settings)) for _ in range(calls_at_once)))
    headers = service_headers(settings)
    records = await asyncio.gather(*(fetch_call_record(settings.engine_url, r.call_id, headers) for r in results))
    measured = [t["latency_ms"] for r in results for t in r.turns if t.get("latency_ms") is not None]
    stages = [t["latency_ms"] for record in records for t in record.get("turns", []) if t.get("latency_ms")]
    return measured, stages


def stage_summary(stage_timings: list[dict]) -> dict:
    """p50/p95 of each stage over the turns the engine timed."""
    if not stage_timings:
        return {}
    return {
        stage: {k: v for k, v in summarise([t[stage] for t in stage_timings]).items() if k in ("p50_ms", "p95_ms")}
        for stage in (*STAGES, "total")
    }


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.runtime.stack import local_engine

    url = f"ws://{settings.host}:{settings.port}/telephony/twilio"
    report: dict = {
        "measured": "caller's last speech frame → first bot media frame, measured by the caller; "
        "stages: the engine's own timing of the same turns (voicebot.voice.latency)",
        "rounds": {},
    }
    with local_engine(settings, "the benchmark"):
        with tempfile.TemporaryDirectory() as folder:
            turns = synthesise_script(settings, Path(folder))
            asyncio.run(run_round(url, settings, turns[:1], 1))  # warm-up
            for calls_at_once in args.calls_at_once:
                latencies: list[float] = []
                stage_timings: list[dict] = []
                rounds = max(1, -(-args.turns // (len(turns) * calls_at_once)))
                echo(f"{calls_at_once} call(s) at once: {rounds} round(s) of {len(turns)} turns ...")
                for n in range(rounds):
                    measured, stages = asyncio.run(run_round(url, settings, turns, calls_at_once))
                    latencies += measured
                    stage_timings += stages
                    echo(f"  round {n + 1}/{rounds}: p50 so far {summarise(latencies)['p50_ms']} ms")
                report["rounds"][str(calls_at_once)] = {**summarise(latencies), "stages": stage_summary(stage_timings)}
    held = [int(n) for n, r in report["rounds"].items() if r["p95_ms"] <= P95_BUDGET_MS]
    report["max_calls_with_p95_under_1500ms"] = max(held) if held else 0
    report["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for n, r in report["rounds"].items():
            print(f"{n} call(s) at once: {r['turns']} turns, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms")
            stages = ", ".join(f"{k} {v['p50_ms']:.0f}/{v['p95_ms']:.0f}" for k, v in r["stages"].items())
            print(f"  engine stages p50/p95 ms: {stages}")
        print(f"calls held with p95 <= {P95_BUDGET_MS:.0f} ms: {report['max_calls_with_p95_under_1500ms']}")
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
