"""Keypad presses → caller turns, the way phone menus read them."""

from __future__ import annotations

AGENT_REQUEST = "I want to speak to an agent"  # what a lone `0` says to the dialogue


class DTMFCollector:
    """Keypad presses → one caller turn (pure logic; the pause timer lives in the processor).

    Digits accumulate until `#` (or a pause, via `flush`). A lone `0` is the usual
    "operator" key and becomes a request for an agent. `*` clears what was typed.
    """

    def __init__(self) -> None:
        self._digits: list[str] = []

    @property
    def pending(self) -> bool:
        return bool(self._digits)

    def press(self, key: str) -> str | None:
        """Returns the caller text when this key completes a turn."""
        if key == "#":
            return self.flush()
        if key == "*":
            self._digits.clear()
        else:
            self._digits.append(key)
        return None

    def flush(self) -> str | None:
        """Submits what was typed (on `#` or a pause); None when nothing was."""
        digits, self._digits = "".join(self._digits), []
        if not digits:
            return None
        return AGENT_REQUEST if digits == "0" else digits
