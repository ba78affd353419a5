"""The Piper text-to-speech HTTP server as a supervised child process.

piper-tts is GPL-3.0, so it runs from its own venv (`.venv-piper`) as a separate
program and the engine only talks HTTP to it: POST /synthesize {"text": ...} returns
a complete 22,050 Hz mono 16-bit WAV, GET /info serves as the health check. The
server binds 0.0.0.0 unless told otherwise, so `--host` is always passed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import httpx

from voicebot.settings import Settings
from voicebot.speech.models import ModelError, piper_python, piper_voice_path


class PiperError(RuntimeError):
    """The Piper server is missing, exited, or did not come up in time."""


class PiperServer:
    """`python -m piper.http_server` from the Piper venv, on settings.host:settings.tts_port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_path = settings.data_dir / "logs" / "piper.log"
        self.process: subprocess.Popen | None = None
        self.voice: Path | None = None

    def command(self) -> list[str]:
        s = self.settings
        if self.voice is None:
            self.voice = piper_voice_path(s)
        return [
            str(piper_python(s)), "-m", "piper.http_server",
            "--host", s.host, "--port", str(s.tts_port), "-m", str(self.voice),
        ]

    def start(self) -> None:
        try:
            command = self.command()
        except ModelError as error:
            raise PiperError(str(error)) from error
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # cwd = the voice folder: piper.http_server also looks for voices in its cwd.
            self.process = subprocess.Popen(
                command, cwd=self.voice.parent, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def dead(self) -> bool:
        """True if the server was started and has exited since."""
        return self.process is not None and self.process.poll() is not None

    def restart_if_dead(self) -> bool:
        """Brings a crashed server back; True if it had to."""
        if not self.dead():
            return False
        self.start()
        return True

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.settings.tts_url}/info", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float = 60.0, echo: Callable[[str], None] = print) -> None:
        """Waits until the voice is loaded and GET /info answers (about 3 s)."""
        deadline = time.monotonic() + timeout_s
        while not self.healthy():
            if self.process is None or self.dead():
                code = None if self.process is None else self.process.returncode
                raise PiperError(f"the Piper server exited during start-up (code {code}); see {self.log_path}")
            if time.monotonic() > deadline:
                raise PiperError(f"timed out after {timeout_s:.0f} s waiting for {self.settings.tts_url}/info; see {self.log_path}")
            time.sleep(0.2)
        echo(f"  Piper TTS ready ({self.settings.tts_url}, voice {self.voice.name if self.voice else '?'})")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # Its own session: signal the whole group so nothing it spawned is left behind.
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=5)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
