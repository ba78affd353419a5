"""The Piper text-to-speech HTTP server as a supervised child process.

piper-tts is GPL-3.0, so it runs from its own venv (`.venv-piper`) as a separate
program and the engine only talks HTTP to it: POST /synthesize {"text": ...} returns
a complete 22,050 Hz mono 16-bit WAV, GET /info serves as the health check. The
server binds 0.0.0.0 unless told otherwise, so `--host` is always passed. It runs through
`piper_serve.py`, which answers only those two routes and keeps the last sentence out of /info.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from voicebot.runtime.models import ModelError, piper_python, piper_voice_path
from voicebot.runtime.supervisor import ChildProcess, wait_ready
from voicebot.settings import LOOPBACK, Settings


class PiperError(RuntimeError):
    """The Piper server is missing, exited, or did not come up in time."""


class PiperServer(ChildProcess):
    """Piper's `piper.http_server` (through `piper_serve.py`) from the Piper venv, on 127.0.0.1:settings.tts_port (internal only)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.voice: Path | None = None
        super().__init__(
            name="piper",
            label="Piper TTS",
            command=self.command,
            cwd=lambda: self.voice.parent,  # piper.http_server also looks for voices in its cwd
            env=lambda: {**os.environ, "HF_HUB_OFFLINE": "1"},
            log_path=settings.data_dir / "logs" / "piper.log",
            health_url=f"{settings.tts_url}/info",
            is_ready=bool,
        )

    def command(self) -> list[str]:
        s = self.settings
        if self.voice is None:
            self.voice = piper_voice_path(s)
        return [
            str(piper_python(s)), str(Path(__file__).with_name("piper_serve.py")),
            "--host", LOOPBACK, "--port", str(s.tts_port), "-m", str(self.voice),
        ]

    def start(self) -> None:
        try:
            super().start()
        except ModelError as error:
            raise PiperError(str(error)) from error

    def wait_ready(self, timeout_s: float = 60.0, echo: Callable[[str], None] = print) -> None:
        """Waits until the voice is loaded and GET /info answers (about 3 s)."""
        wait_ready([self], timeout_s, PiperError, echo)
