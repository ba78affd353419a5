"""`voicebot eval latency`: phone turn latency, end of caller speech → first bot audio.

Scripted callers (voiced by the stack's Piper server, sent as μ-law 8 kHz in real time
by `voicebot.call_client`) phone the engine's Twilio WebSocket. The latency of every
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
from voicebot.call_client import place_call
from voicebot.settings import PROJECT_ROOT, Settings

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


async def run_round(url: str, turns: list[Path], calls_at_once: int) -> list[float]:
    results = await asyncio.gather(*(place_call(url, turns) for _ in range(calls_at_once)))
    return [t["latency_ms"] for r in results for t in r.turns if t.get("latency_ms") is not None]


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.cli import local_engine

    url = f"ws://{settings.host}:{settings.port}/telephony/twilio"
    report: dict = {"measured": "caller's last speech frame → first bot media frame, measured by the caller", "rounds": {}}
    with local_engine(settings, "the benchmark"):
        with tempfile.TemporaryDirectory() as folder:
            turns = synthesise_script(settings, Path(folder))
            asyncio.run(run_round(url, turns[:1], 1))  # warm-up
            for calls_at_once in args.calls_at_once:
                latencies: list[float] = []
                rounds = max(1, -(-args.turns // (len(turns) * calls_at_once)))
                echo(f"{calls_at_once} call(s) at once: {rounds} round(s) of {len(turns)} turns ...")
                for _ in range(rounds):
                    latencies += asyncio.run(run_round(url, turns, calls_at_once))
                report["rounds"][str(calls_at_once)] = summarise(latencies)
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
        print(f"calls held with p95 <= {P95_BUDGET_MS:.0f} ms: {report['max_calls_with_p95_under_1500ms']}")
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
