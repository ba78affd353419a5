"""What Rasa's NLU made of one utterance, in one shape wherever it comes from.

Rasa returns parses in three places — `POST /model/parse`, the tracker's
`latest_message`, and `Agent.parse_message` in a one-off process — all as the same
loose dict; `NluParse.from_rasa` is the one reader of it. Standard library only: the
one-off parser (voicebot/runtime/rasa_parse.py) imports it inside Rasa's own
Python 3.10 environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

ENTITY_FIELDS = ("entity", "value", "start", "end")
RANKING_LENGTH = 3


@dataclass(frozen=True)
class NluParse:
    text: str
    intent: Optional[str]
    confidence: float
    entities: List[Dict[str, Any]] = field(default_factory=list)  # entity, value, start, end
    intent_ranking: List[Dict[str, Any]] = field(default_factory=list)  # the top intents: name, confidence

    @classmethod
    def from_rasa(cls, parse: Dict[str, Any], text: Optional[str] = None) -> "NluParse":
        intent = parse.get("intent") or {}
        return cls(
            text=text if text is not None else parse.get("text") or "",
            intent=intent.get("name"),
            confidence=round(float(intent.get("confidence") or 0.0), 4),
            entities=[{k: e.get(k) for k in ENTITY_FIELDS} for e in parse.get("entities") or []],
            intent_ranking=[
                {"name": r["name"], "confidence": round(float(r["confidence"]), 4)}
                for r in (parse.get("intent_ranking") or [])[:RANKING_LENGTH]
            ],
        )

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


# Rasa's own bookkeeping actions: not something the bot did for the caller.
INTERNAL_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


@dataclass(frozen=True)
class TrackerTurn:
    """The latest caller turn as Rasa's tracker events record it: the utterance's own parse,
    kept even when a fallback later reverts it, and the actions the bot ran in answer."""

    parse: NluParse
    actions: List[str]

    @classmethod
    def from_events(cls, events: List[Dict[str, Any]]) -> Optional["TrackerTurn"]:
        last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
        if last_user is None:
            return None
        user = events[last_user]
        actions = [
            e["name"]
            for e in events[last_user + 1 :]
            if e.get("event") == "action" and e.get("name") and e["name"] not in INTERNAL_ACTIONS
            and not e["name"].startswith("validate_")
        ]
        return cls(parse=NluParse.from_rasa(user.get("parse_data") or {}, text=user.get("text")), actions=actions)
