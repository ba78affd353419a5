"""`voicebot-eval calls`: the whole-call scenario suite, its figures and its exit status."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from eval.calls.report import figures, figures_lines, scenario_table
from eval.calls.runner import PhoneCarrier, TextCarrier, run_scenario, suite_engine
from eval.calls.scenario import Scenario, ScenarioError, load_suite
from voicebot.settings import Settings

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "data" / "calls"
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
SETS = ("tuning", "blind")


def select(args: argparse.Namespace) -> list[Scenario]:
    folder = Path(args.scenarios) if args.scenarios else SCENARIOS_DIR
    sets = SETS if args.set == "all" else (args.set,)
    scenarios = [s for name in sets for s in load_suite(folder / name)]
    if args.only:
        scenarios = [s for s in scenarios if any(word in f"{s.set_name}/{s.name}" for word in args.only)]
    return scenarios


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    try:
        scenarios = select(args)
    except ScenarioError as error:
        echo(f"error: {error}")
        return 2
    if not scenarios:
        echo("error: no scenario matches")
        return 2
    echo(f"{len(scenarios)} scenarios, {args.mode} mode; starting a bot of the suite's own ...")
    # A stopped run (kill, Ctrl-C) still stops the bot it started: Rasa, actions and Piper.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    with suite_engine(echo) as engine:
        carrier = PhoneCarrier(engine) if args.mode == "phone" else TextCarrier(engine)
        for i, scenario in enumerate(scenarios):
            index = sum(1 for s in scenarios[:i] if s.set_name == scenario.set_name)
            result = run_scenario(scenario, index, carrier, engine)
            results.append(result)
            verdict = "pass" if result.passed else "FAIL: " + "; ".join(result.failures)
            echo(f"[{i + 1}/{len(scenarios)}] {scenario.set_name}/{scenario.name} ({result.duration_s:.0f} s): {verdict}")
    by_set = {name: figures(name, [r for r in results if r.scenario.set_name == name]) for name in SETS if any(r.scenario.set_name == name for r in results)}
    report = {
        "mode": args.mode,
        "sets": {name: f.to_json() for name, f in by_set.items()},
        "scenarios": [
            {
                "set": r.scenario.set_name, "name": r.scenario.name, "flow": r.scenario.flow, "voice": r.voice, "line": r.line,
                "passed": r.passed, "failures": list(r.failures), "caller_turns": r.caller_turns, "reprompts": r.reprompts,
                "handoff": None if r.handoff is None else {k: r.handoff.get(k) for k in ("queue", "reason")},
                "transcript": list(r.transcript),
            }
            for r in results
        ],
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"calls_{args.mode}.json"
    out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for line in scenario_table(results):
            print(line)
        for f in by_set.values():
            for line in figures_lines(f):
                print(line)
        print(f"results: {out}")
    below = [f"{f.set_name} {f.task_success:.3f}" for f in by_set.values() if f.task_success < args.min_success]
    if below:
        echo(f"task success below {args.min_success}: {', '.join(below)}")
        return 1
    return 0
