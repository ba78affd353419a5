"""`voicebot eval text-latency`: text-level turn latency (NLU parse + dialogue + actions + response).

Runs scripted conversations through the engine's dialogue API, as a text caller
would, and reports p50/p95 of each turn as measured by the client. The scripts
only read orders (a cancellation is declined), so the database is left as it was.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable

import httpx

from voicebot.settings import PROJECT_ROOT, Settings

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "text_latency.json"

SCRIPTS = [
    ["where is my order", "it's one oh four two three three", "thanks", "no that's all"],
    ["when will order 108425 arrive", "thank you bye"],
    ["i want to cancel my order", "102396", "no keep it", "bye"],
    ["what's your refund policy", "has my refund for order 112567 gone through", "goodbye"],
    ["um do you do express shipping", "can i change the delivery address on order 103158", "ok bye"],
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_conversations(base_url: str, conversations: int) -> list[dict]:
    turns = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n in range(conversations):
            script = SCRIPTS[n % len(SCRIPTS)]
            call_id = client.post("/api/v1/conversations", json={"channel": "text"}).json()["call_id"]
            for text in script:
                started = time.perf_counter()
                turn = client.post(f"/api/v1/conversations/{call_id}/messages", json={"text": text}).json()
                turns.append({"text": text, "intent": turn["intent"], "ms": (time.perf_counter() - started) * 1000})
                if turn.get("end_call") or turn.get("handoff"):
                    break
            client.post(f"/api/v1/conversations/{call_id}/end", json={"outcome": "resolved"})
    return turns


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.cli import EngineStack, engine_is_up

    stack = None
    if not engine_is_up(settings):
        echo("No engine running; starting one for the benchmark ...")
        stack = EngineStack(settings)
        stack.start()
    try:
        run_conversations(settings.engine_url, 2)  # warm-up: first parses load caches
        echo(f"Running {args.conversations} scripted conversations ...")
        turns = run_conversations(settings.engine_url, args.conversations)
    finally:
        if stack:
            stack.stop()
    ms = [t["ms"] for t in turns]
    report = {
        "turns": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "measured": "client-side round trip of POST /api/v1/conversations/{id}/messages (Rasa parse + policies + actions + DB + response)",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({**report, "samples": turns}, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"text turn latency over {report['turns']} turns: p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, max {report['max_ms']} ms")
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
