"""`voicebot-eval text-latency`: text-level turn latency (NLU parse + dialogue + actions + response).

Runs scripted conversations through the engine's dialogue API, as a text caller
would, and reports p50/p95 of each turn as measured by the client. The scripts
only read orders (a cancellation is declined), so the database is left as it was.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Callable

import httpx

from eval.latency_stats import summarise
from voicebot.credentials import service_headers
from voicebot.settings import PROJECT_ROOT, Settings

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "text_latency.json"

SCRIPTS = [
    ["where is my order", "it's one oh four two three three", "thanks", "no that's all"],
    ["when will order 108425 arrive", "thank you bye"],
    ["i want to cancel my order", "102396", "no keep it", "bye"],
    ["what's your refund policy", "has my refund for order 112567 gone through", "goodbye"],
    ["um do you do express shipping", "can i change the delivery address on order 103158", "ok bye"],
]


def run_conversations(settings: Settings, conversations: int) -> list[dict]:
    turns = []
    with httpx.Client(base_url=settings.engine_url, headers=service_headers(settings), timeout=30) as client:
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
    from voicebot.runtime.stack import local_engine

    with local_engine(settings, "the benchmark"):
        run_conversations(settings, 2)  # warm-up: first parses load caches
        echo(f"Running {args.conversations} scripted conversations ...")
        turns = run_conversations(settings, args.conversations)
    report = {
        **summarise([t["ms"] for t in turns]),
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
