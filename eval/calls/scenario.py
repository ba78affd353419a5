"""Whole-call scenario files: what the caller does, and what the call must achieve.

The format follows Pipecat's eval scenarios (`pipecat.evals`): a file holds `scenarios:`,
each a `name:` and `turns:`, a turn is `user:` (text, or a list of text and
`{pause_ms: N}`), `audio:`, or `dtmf:`, optionally with `send_after:` (barge-in) and
`expect:` checks on the bot's reply (`event: response` with `text_contains`,
`text_excludes`). We add what a phone call needs and Pipecat's harness cannot check:
`silence_ms:` and `hangup:` turns, a `voice:` and `line:` for the caller, and an
`outcome:` judged against the order database and the engine's call record.
Pipecat's own runner is not used: it drives bots over RTVI with speech models no
package here carries, and its checks stop at the bot's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FLOWS = ("track", "delivery", "cancel", "address", "refund", "refund_status", "policy", "handoff", "repair")
ORDER_STATUSES = (
    "pending", "paid", "packed", "shipped", "in_transit", "out_for_delivery", "delayed",
    "exception", "delivered", "cancelled", "returned", "refunded",
)
ENDED_BY = ("caller", "not_bot")
EXPECT_KEYS = {"event", "text_contains", "text_excludes", "max_sentences", "within_ms"}
OUTCOME_KEYS = {"orders", "unchanged", "refund_requested", "address_changed", "handoff", "ended_by", "bot_said", "bot_never_said"}
DECIDING_KEYS = {"orders", "unchanged", "refund_requested", "address_changed", "handoff"}
TURN_KINDS = ("user", "audio", "dtmf", "silence_ms", "hangup")


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message says where."""


@dataclass(frozen=True)
class Expectation:
    """A check on the bot's reply to one turn (Pipecat's `expect:` item, `event: response`)."""

    text_contains: str | None = None
    text_excludes: str | None = None
    max_sentences: int | None = None
    within_ms: int | None = None


@dataclass(frozen=True)
class Speech:
    """Words the caller says in one breath, or a pause (seconds) inside the turn."""

    text: str | None = None
    pause_s: float = 0.0


@dataclass(frozen=True)
class CallerTurn:
    kind: str  # one of TURN_KINDS
    speech: tuple[Speech, ...] = ()  # user: the parts of the turn
    audio: Path | None = None  # audio: a recording played instead of synthesised speech
    dtmf: str | None = None
    silence_s: float = 0.0
    barge_in_after_s: float | None = None  # send_after: start talking this long after the bot's reply began
    expect: tuple[Expectation, ...] = ()

    @property
    def text(self) -> str:
        """What the caller says (a recording's `user:` transcript), for text mode and reports."""
        return " ".join(part.text for part in self.speech if part.text)


@dataclass(frozen=True)
class HandoffExpectation:
    queue: str | None = None
    reason: str | None = None
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    orders: dict[str, str] = field(default_factory=dict)
    unchanged: tuple[str, ...] = ()
    refund_requested: tuple[str, ...] = ()
    address_changed: dict[str, str] = field(default_factory=dict)
    handoff: HandoffExpectation | None = None
    no_handoff: bool = False
    ended_by: str | None = None
    bot_said: tuple[str, ...] = ()
    bot_never_said: tuple[str, ...] = ()

    @property
    def expects_handoff(self) -> bool:
        return self.handoff is not None


@dataclass(frozen=True)
class Scenario:
    set_name: str  # the folder: "tuning" or "blind"
    flow: str
    name: str  # <file stem>/<scenario name>, as Pipecat names them
    description: str
    turns: tuple[CallerTurn, ...]
    outcome: Outcome
    voice: str | None = None  # None: the runner picks one from the set's voices
    line: dict[str, float] = field(default_factory=dict)
    caller: str | None = None


def load_suite(folder: Path) -> list[Scenario]:
    """Every scenario in the YAML files of `folder` (one set), in file and then file order."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ScenarioError(f"{folder}: no scenario files (*.yaml)")
    scenarios = [s for path in files for s in load_file(path, set_name=folder.name)]
    return scenarios


def load_file(path: Path, set_name: str) -> list[Scenario]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise ScenarioError(f"{path}: needs a top-level `scenarios:` list")
    flow = data.get("flow")
    if flow not in FLOWS:
        raise ScenarioError(f"{path}: `flow:` must be one of {', '.join(FLOWS)}, not {flow!r}")
    seen: set[str] = set()
    scenarios = []
    for i, raw in enumerate(data["scenarios"]):
        where = f"{path}: scenario {i + 1}"
        if not isinstance(raw, dict) or not raw.get("name"):
            raise ScenarioError(f"{where}: needs a `name:`")
        where = f"{path}: scenario {raw['name']!r}"
        if raw["name"] in seen:
            raise ScenarioError(f"{where}: the name is used twice in the file")
        seen.add(raw["name"])
        turns = raw.get("turns")
        if not isinstance(turns, list) or not turns:
            raise ScenarioError(f"{where}: needs a list of `turns:`")
        scenarios.append(
            Scenario(
                set_name=set_name,
                flow=flow,
                name=f"{path.stem}/{raw['name']}",
                description=str(raw.get("description") or ""),
                turns=tuple(_turn(t, path, f"{where}, turn {n}") for n, t in enumerate(turns, 1)),
                outcome=_outcome(raw.get("outcome"), where),
                voice=raw.get("voice"),
                line=dict(raw.get("line") or {}),
                caller=raw.get("caller"),
            )
        )
    return scenarios


def _turn(raw: Any, path: Path, where: str) -> CallerTurn:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a turn is a mapping such as `user: ...`")
    kinds = [k for k in TURN_KINDS if k in raw]
    if "audio" in kinds:
        if "user" not in raw:
            raise ScenarioError(f"{where}: an `audio:` turn also needs `user:`, what the recording says")
        kinds.remove("user")
    if len(kinds) != 1:
        raise ScenarioError(f"{where}: needs exactly one of {', '.join(TURN_KINDS)}")
    kind = kinds[0]
    expect = tuple(_expectation(e, f"{where}, expect {i}") for i, e in enumerate(raw.get("expect") or [], 1))
    barge_in = None
    if raw.get("send_after") is not None:
        send_after = raw["send_after"]
        if not isinstance(send_after, dict) or send_after.get("event", "bot_started_speaking") != "bot_started_speaking":
            raise ScenarioError(f"{where}: `send_after:` takes `event: bot_started_speaking` and `delay_ms:`")
        barge_in = float(send_after.get("delay_ms", 0)) / 1000.0
    if kind == "dtmf":
        digits = str(raw["dtmf"])
        if not digits or any(c not in "0123456789*#" for c in digits):
            raise ScenarioError(f"{where}: `dtmf:` takes keys 0-9, * and # (quote it), not {digits!r}")
        return CallerTurn(kind, dtmf=digits, expect=expect)
    if kind == "silence_ms":
        return CallerTurn(kind, silence_s=float(raw["silence_ms"]) / 1000.0, expect=expect)
    if kind == "hangup":
        return CallerTurn(kind)
    speech = _speech(raw["user"], where)
    audio = (path.parent / raw["audio"]) if kind == "audio" else None
    if audio is not None and not audio.is_file():
        raise ScenarioError(f"{where}: no recording at {audio}")
    return CallerTurn(kind, speech=speech, audio=audio, barge_in_after_s=barge_in, expect=expect)


def _speech(user: Any, where: str) -> tuple[Speech, ...]:
    parts = user if isinstance(user, list) else [user]
    speech = []
    for part in parts:
        if isinstance(part, str) and part.strip():
            speech.append(Speech(text=part.strip()))
        elif isinstance(part, dict) and set(part) == {"pause_ms"}:
            speech.append(Speech(pause_s=float(part["pause_ms"]) / 1000.0))
        else:
            raise ScenarioError(f"{where}: `user:` is text, or a list of text and `{{pause_ms: N}}`")
    if not any(p.text for p in speech):
        raise ScenarioError(f"{where}: `user:` says nothing")
    return tuple(speech)


def _expectation(raw: Any, where: str) -> Expectation:
    if not isinstance(raw, dict) or raw.get("event") != "response" or not set(raw) <= EXPECT_KEYS:
        raise ScenarioError(f"{where}: an expectation is `event: response` with {', '.join(sorted(EXPECT_KEYS - {'event'}))}")
    return Expectation(
        text_contains=raw.get("text_contains"),
        text_excludes=raw.get("text_excludes"),
        max_sentences=raw.get("max_sentences"),
        within_ms=raw.get("within_ms"),
    )


def _outcome(raw: Any, where: str) -> Outcome:
    if not isinstance(raw, dict) or not set(raw) & DECIDING_KEYS:
        raise ScenarioError(f"{where}: `outcome:` needs at least one of {', '.join(sorted(DECIDING_KEYS))}")
    unknown = set(raw) - OUTCOME_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown outcome keys {sorted(unknown)}; known: {', '.join(sorted(OUTCOME_KEYS))}")
    orders = {str(k): str(v) for k, v in (raw.get("orders") or {}).items()}
    bad = [s for s in orders.values() if s not in ORDER_STATUSES]
    if bad:
        raise ScenarioError(f"{where}: unknown order statuses {bad}; known: {', '.join(ORDER_STATUSES)}")
    handoff, no_handoff = None, False
    if raw.get("handoff") in ("none", None, False):
        no_handoff = "handoff" in raw
    elif isinstance(raw["handoff"], dict):
        h = raw["handoff"]
        handoff = HandoffExpectation(queue=h.get("queue"), reason=h.get("reason"), mentions=tuple(str(m) for m in h.get("mentions") or ()))
    else:
        raise ScenarioError(f"{where}: `handoff:` is `none` or a mapping of queue, reason, mentions")
    ended_by = raw.get("ended_by")
    if ended_by is not None and ended_by not in ENDED_BY:
        raise ScenarioError(f"{where}: `ended_by:` is one of {', '.join(ENDED_BY)}")
    return Outcome(
        orders=orders,
        unchanged=tuple(str(n) for n in raw.get("unchanged") or ()),
        refund_requested=tuple(str(n) for n in raw.get("refund_requested") or ()),
        address_changed={str(k): str(v).lower() for k, v in (raw.get("address_changed") or {}).items()},
        handoff=handoff,
        no_handoff=no_handoff,
        ended_by=ended_by,
        bot_said=tuple(str(s) for s in raw.get("bot_said") or ()),
        bot_never_said=tuple(str(s) for s in raw.get("bot_never_said") or ()),
    )
