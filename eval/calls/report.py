"""The call suite's figures, per scenario set: task success, containment, handoffs, turns, latency."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from eval.calls.checks import judge_handoff
from eval.calls.runner import ScenarioResult
from eval.latency_stats import summarise


@dataclass(frozen=True)
class SetFigures:
    set_name: str
    calls: int
    task_success: float  # scenarios that passed every check
    containment: float  # calls that passed without a person
    correct_handoff: float | None  # of calls that should reach a person: the right queue and reason
    turns_per_call: float
    reprompts_per_call: float
    latency: dict[str, float] | None
    flows: dict[str, tuple[int, int]]  # flow -> (passed, calls)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "flows": {f: {"passed": p, "calls": n} for f, (p, n) in self.flows.items()}}


def figures(set_name: str, results: list[ScenarioResult]) -> SetFigures:
    n = len(results)
    wanted = [r for r in results if r.scenario.outcome.expects_handoff]
    right = [r for r in wanted if not judge_handoff(r.scenario.outcome.handoff, r.handoff)]
    latencies = [ms for r in results for ms in r.latencies_ms]
    flows: dict[str, tuple[int, int]] = {}
    for r in results:
        passed, calls = flows.get(r.scenario.flow, (0, 0))
        flows[r.scenario.flow] = (passed + r.passed, calls + 1)
    return SetFigures(
        set_name=set_name,
        calls=n,
        task_success=round(sum(r.passed for r in results) / n, 3),
        containment=round(sum(r.passed and r.handoff is None for r in results) / n, 3),
        correct_handoff=round(len(right) / len(wanted), 3) if wanted else None,
        turns_per_call=round(statistics.fmean(r.caller_turns for r in results), 2),
        reprompts_per_call=round(statistics.fmean(r.reprompts for r in results), 2),
        latency=summarise(latencies) if latencies else None,
        flows=dict(sorted(flows.items())),
    )


def scenario_table(results: list[ScenarioResult]) -> list[str]:
    lines = [f"{'scenario':58} {'voice':18} {'line':16} {'turns':>5} {'rep':>3}  result"]
    for r in results:
        line = ", ".join(f"{k} {v:g}" for k, v in r.line.items()) or ("clean" if r.mode == "phone" else "-")
        lines.append(
            f"{r.scenario.set_name + '/' + r.scenario.name:58} {r.voice or '-':18} {line:16} {r.caller_turns:>5} {r.reprompts:>3}  "
            + ("pass" if r.passed else "FAIL: " + "; ".join(r.failures))
        )
    return lines


def figures_lines(f: SetFigures) -> list[str]:
    latency = f"p50 {f.latency['p50_ms']:.0f} ms, p95 {f.latency['p95_ms']:.0f} ms" if f.latency else "-"
    handoff = "-" if f.correct_handoff is None else f"{f.correct_handoff:.3f}"
    flows = ", ".join(f"{flow} {p}/{n}" for flow, (p, n) in f.flows.items())
    return [
        f"{f.set_name}: {f.calls} calls",
        f"  task success {f.task_success:.3f} · containment {f.containment:.3f} · correct handoff {handoff}",
        f"  caller turns per call {f.turns_per_call:.2f} · reprompts per call {f.reprompts_per_call:.2f} · reply latency {latency}",
        f"  by flow: {flows}",
    ]
