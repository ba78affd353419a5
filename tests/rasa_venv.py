"""Running test code where the Rasa components and actions run: the Rasa venv (Python
3.10, rasa 3.6), with nlu/ as the working directory. The engine venv has no Rasa.

A script prints its result as one line, `RESULT <json>`; everything else it prints
(TensorFlow's chatter) is ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

requires_rasa_venv = pytest.mark.skipif(
    not RASA_PYTHON.exists(), reason=f"the Rasa venv is missing: {RASA_PYTHON} does not exist"
)


def run_in_rasa(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    """Runs `script` with `args` in the Rasa venv; returns its RESULT line's JSON."""
    completed = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=ROOT / "nlu",
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    [line] = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))
