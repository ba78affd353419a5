"""Where Rasa keeps conversations: in memory, as Rasa's default does, but with card numbers redacted.

Rasa's tracker holds every caller message as said: "my card number is 4111 1111 1111 1111"
would sit there, and in the tracker API's answers, for as long as Rasa runs. This store
redacts each saved conversation with the engine's own redactor (voicebot/domain/redact.py:
card numbers also as the recogniser writes them, security codes) — the words of messages
and bot utterances, parsed texts, entity and slot values. NLU and the actions of the turn
being answered still see what was said; only what is kept is redacted.
"""

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from voicebot.domain.redact import redact, redact_entity  # the project root is on Rasa's PYTHONPATH


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_event(event: dict) -> dict:
    parse = event.get("parse_data") or {}
    said = parse.get("text")  # the entities' offsets are into these words, before they are redacted
    parse["entities"] = [redact_entity(said, entity) for entity in parse.get("entities") or []]
    if "text" in parse:
        parse["text"] = _redacted(parse["text"])
    if "text" in event:
        event["text"] = _redacted(event["text"])
    if event.get("event") == "slot":
        event["value"] = _redacted(event.get("value"))
    return event


class RedactingTrackerStore(InMemoryTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        dialogue = json.loads(InMemoryTrackerStore.serialise_tracker(tracker))
        dialogue["events"] = [redact_event(event) for event in dialogue.get("events", [])]
        self.store[tracker.sender_id] = json.dumps(dialogue)
