"""How many phone calls the engine takes: at most `max_calls` at once and `per_minute` new ones.

Two cores run four calls within the latency budget; a ninth call would slow every call
down. Over either limit the carrier refuses the new call at once (for Twilio: the stream
closed with 1013, "try again later"), before any pipeline exists, and the calls already
in progress keep their speed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CallAdmission:
    max_calls: int
    per_minute: int
    clock: Callable[[], float] = time.monotonic
    active: int = 0
    _started: deque[float] = field(default_factory=deque)

    def claim(self) -> str | None:
        """Takes a place for a new call; None when taken, else why not (for the log and the close frame).

        Runs without awaiting anything, so on the event loop no two calls can take the last place."""
        now = self.clock()
        while self._started and self._started[0] <= now - 60:
            self._started.popleft()
        if self.active >= self.max_calls:
            return f"busy: {self.active} calls in progress (limit {self.max_calls})"
        if len(self._started) >= self.per_minute:
            return f"busy: {len(self._started)} new calls in the last minute (limit {self.per_minute})"
        self.active += 1
        self._started.append(now)
        return None

    def release(self) -> None:
        self.active = max(0, self.active - 1)
