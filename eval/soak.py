"""`voicebot-eval soak`: many phone calls in a row, and the engine's memory after each.

A voice engine that leaks a little per call (a pipeline, a resampler, a task left
behind) dies after a day in production. This places `--calls` short calls one after
another (greeting, one question, the answer, hang up) and reads the engine's resident
memory and open-call count from /health after each. Memory after the warm-up calls
should stay flat; the growth per call is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

from eval.voice_latency import synthesise_script
from voicebot.credentials import carrier_key
from voicebot.settings import PROJECT_ROOT, Settings
from voicebot.telephony.twilio.caller import place_call

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "soak.json"
WARM_UP_CALLS = 5  # the first calls allocate caches that then stay


def engine_memory(settings: Settings) -> tuple[float | None, int | None]:
    engine = httpx.get(f"{settings.engine_url}/health", timeout=10).json().get("engine") or {}
    return engine.get("rss_mb"), engine.get("active_calls")


def trend_kb_per_call(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of memory over call number: the steady growth, not one call's noise."""
    if len(points) < 2:
        return None
    xs, ys = [float(x) for x, _ in points], [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return round(1024 * slope, 1)


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.runtime.stack import local_engine

    url = f"ws://{settings.host}:{settings.port}/telephony/twilio"
    samples: list[dict] = []
    with local_engine(settings, "the soak test"), tempfile.TemporaryDirectory() as folder:
        question = synthesise_script(settings, Path(folder))[:1]
        rss, _ = engine_memory(settings)
        samples.append({"call": 0, "rss_mb": rss, "active_calls": 0})
        echo(f"Placing {args.calls} calls in a row (engine at {rss} MB) ...")
        for n in range(1, args.calls + 1):
            result = asyncio.run(place_call(url, question, key=carrier_key(settings)))
            time.sleep(0.5)  # the engine closes the call's pipeline just after the caller's `stop`
            rss, active = engine_memory(settings)
            samples.append({"call": n, "rss_mb": rss, "active_calls": active, "turns": len(result.turns)})
            if n % 10 == 0 or n == args.calls:
                echo(f"  call {n}/{args.calls}: engine {rss} MB, {active} call(s) open")
    after_warm_up = [(s["call"], s["rss_mb"]) for s in samples if s["call"] >= WARM_UP_CALLS and s["rss_mb"] is not None]
    report = {
        "calls": args.calls,
        "rss_mb_start": samples[0]["rss_mb"],
        "rss_mb_after_warm_up": after_warm_up[0][1] if after_warm_up else None,
        "rss_mb_end": samples[-1]["rss_mb"],
        "rss_mb_max_after_warm_up": max(m for _, m in after_warm_up) if after_warm_up else None,
        "growth_per_call_kb": trend_kb_per_call(after_warm_up),
        "open_calls_at_end": samples[-1]["active_calls"],
        "samples": samples,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
    else:
        print(
            f"{args.calls} calls: engine memory {report['rss_mb_start']} MB at start, {report['rss_mb_after_warm_up']} MB "
            f"after {WARM_UP_CALLS} calls, at most {report['rss_mb_max_after_warm_up']} MB after that, "
            f"{report['rss_mb_end']} MB at the end (trend {report['growth_per_call_kb']} KB per call); "
            f"{report['open_calls_at_end']} call(s) left open"
        )
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
