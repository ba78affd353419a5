"""Judging one call: what the database and the call record say happened, against the scenario.

The evidence is gathered the same way whatever carried the call (text or phone), so a
scenario passes or fails for the same reasons in both modes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eval.calls.scenario import Expectation, Scenario

# The bot's repair moves: a turn that ran one of these did not get the caller further.
REPAIR_ACTIONS = frozenset({"action_reprompt", "action_core_fallback"})
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True)
class OrderSnapshot:
    status: str
    address: str
    refund_ids: frozenset[int]

    @classmethod
    def from_api(cls, order: dict[str, Any]) -> OrderSnapshot:
        a = order["shipping_address"]
        address = " ".join(str(a.get(k) or "") for k in ("line", "city", "state", "postcode")).lower()
        return cls(status=order["status"], address=address, refund_ids=frozenset(r["id"] for r in order["refunds"]))


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one caller turn (several bot turns when the caller paused mid-turn)."""

    text: str
    latency_ms: float | None = None


@dataclass
class CallEvidence:
    call_id: str
    replies: list[Reply | None]  # one per scenario turn that was played; None: the bot said nothing
    bot_text: str  # everything the bot said, greeting included
    orders_before: dict[str, OrderSnapshot]
    orders_after: dict[str, OrderSnapshot]
    handoff: dict[str, Any] | None  # the call's latest handoff, as the API returns it
    bot_ended_after: int | None  # the bot hung up after this many of the scenario's turns (None: it did not)
    record_turns: list[dict[str, Any]] = field(default_factory=list)  # the engine's stored turns

    @property
    def reprompts(self) -> int:
        return sum(1 for t in self.record_turns if REPAIR_ACTIONS & set(t.get("actions") or ()))

    @property
    def caller_turns(self) -> int:
        return sum(1 for t in self.record_turns if t.get("caller_text"))


def sentences(text: str) -> int:
    return len([s for s in SENTENCE_END.split(text.strip()) if s.strip()])


def check_reply(expectation: Expectation, reply: Reply | None, where: str) -> list[str]:
    if reply is None:
        return [f"{where}: the bot said nothing"]
    text, failures = reply.text.lower(), []
    if expectation.text_contains and expectation.text_contains.lower() not in text:
        failures.append(f"{where}: reply lacks {expectation.text_contains!r}: {reply.text!r}")
    if expectation.text_excludes and expectation.text_excludes.lower() in text:
        failures.append(f"{where}: reply has {expectation.text_excludes!r}: {reply.text!r}")
    if expectation.max_sentences is not None and sentences(reply.text) > expectation.max_sentences:
        failures.append(f"{where}: reply is {sentences(reply.text)} sentences, more than {expectation.max_sentences}: {reply.text!r}")
    if expectation.within_ms is not None and reply.latency_ms is not None and reply.latency_ms > expectation.within_ms:
        failures.append(f"{where}: reply came after {reply.latency_ms:.0f} ms, more than {expectation.within_ms}")
    return failures


def judge(scenario: Scenario, evidence: CallEvidence) -> list[str]:
    """Every way the call fell short of the scenario; empty when it passed."""
    failures: list[str] = []
    spoken = [(i, t) for i, t in enumerate(scenario.turns) if t.kind in ("user", "audio", "dtmf")]
    played = len(evidence.replies)
    for i, turn in enumerate(scenario.turns[:played]):
        for expectation in turn.expect:
            failures += check_reply(expectation, evidence.replies[i], f"turn {i + 1}")
    for i, _ in spoken:
        if i < played and evidence.replies[i] is None:
            failures.append(f"turn {i + 1}: the bot said nothing (a call must never hang in silence)")
    last_spoken = spoken[-1][0] + 1 if spoken else 0
    if evidence.bot_ended_after is not None and evidence.bot_ended_after < last_spoken:
        failures.append(f"the bot hung up after turn {evidence.bot_ended_after}, before the caller was done")
    failures += _judge_outcome(scenario, evidence)
    return failures


def _judge_outcome(scenario: Scenario, e: CallEvidence) -> list[str]:
    o, failures = scenario.outcome, []
    for number, status in o.orders.items():
        got = e.orders_after[number].status
        if got != status:
            failures.append(f"order {number} is {got}, expected {status}")
    for number in o.unchanged:
        if e.orders_after[number] != e.orders_before[number]:
            failures.append(f"order {number} changed: {e.orders_before[number]} -> {e.orders_after[number]}")
    for number in o.refund_requested:
        if not e.orders_after[number].refund_ids - e.orders_before[number].refund_ids:
            failures.append(f"no refund request was opened for order {number}")
    for number, words in o.address_changed.items():
        if words not in e.orders_after[number].address:
            failures.append(f"order {number} goes to {e.orders_after[number].address!r}, expected it to contain {words!r}")
    if o.no_handoff and e.handoff is not None:
        failures.append(f"handed off ({e.handoff.get('reason')}, {e.handoff.get('queue')}), expected no handoff")
    if o.handoff is not None:
        failures += judge_handoff(o.handoff, e.handoff)
    if o.ended_by == "not_bot" and e.bot_ended_after is not None:
        failures.append("the bot ended the call")
    said = e.bot_text.lower()
    failures += [f"the bot never said {s!r}" for s in o.bot_said if s.lower() not in said]
    failures += [f"the bot said {s!r}" for s in o.bot_never_said if s.lower() in said]
    return failures


def judge_handoff(expected, handoff: dict[str, Any] | None) -> list[str]:
    if handoff is None:
        return ["not handed off to a person"]
    failures = []
    if expected.queue and handoff.get("queue") != expected.queue:
        failures.append(f"handed off to {handoff.get('queue')}, expected {expected.queue}")
    if expected.reason and handoff.get("reason") != expected.reason:
        failures.append(f"handoff reason {handoff.get('reason')}, expected {expected.reason}")
    summary = (handoff.get("summary") or "").lower()
    failures += [f"the handoff summary does not mention {m!r}" for m in expected.mentions if m.lower() not in summary]
    return failures
