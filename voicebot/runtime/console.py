"""Where commands report progress: stderr, so stdout stays for results."""

from __future__ import annotations

import sys


def echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
