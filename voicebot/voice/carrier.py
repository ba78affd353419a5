"""What a carrier (voicebot/telephony/<carrier>/) hands the voice layer for each call.

A carrier takes the call on its own wire and calls `voice.pipeline.run_call` with:

- a `CallInfo`: the call's identity as the carrier learnt it when the call started, and
  `transfer`, the details its call control needs to move the call to a person;
- a pipecat FrameSerializer for its wire, which also maps the voice layer's own frames
  (voice/frames.py) onto it.

Nothing under voicebot/voice knows a carrier's field names or paths.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class CallInfo:
    """Who is calling, and how the carrier takes the call to a person."""

    call_id: str
    caller: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # the carrier's custom per-call parameters
    # Published as they are with the `call.transfer` event when the caller is handed to a person.
    transfer: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())
