"""The engine stack: everything the bot needs, started in order and supervised.

`voicebot serve` runs it; `voicebot chat`, the benchmarks and the integration tests
use `local_engine` to reuse a running engine or start one for their purpose.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from voicebot.runtime.console import echo
from voicebot.runtime.ports import busy_ports
from voicebot.settings import LOOPBACK, Settings


def bound_socket(host: str, port: int) -> socket.socket:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.set_inheritable(True)
    return listening


def quiet_pipecat(level: str) -> None:
    """Pipecat logs through loguru at DEBUG unless told otherwise: each frame, the bot's sentences too."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level)


def keep_private(data_dir: Path) -> None:
    """The data directory holds the database, recordings, logs and secrets: only this user may read it,
    and whatever the engine and its children create from now on is theirs alone (umask 077)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    os.umask(0o077)


class EngineStack:
    """Everything the bot needs, started in order: database, action server, Rasa, engine."""

    def __init__(self, settings: Settings) -> None:
        from voicebot.runtime.piper import PiperServer
        from voicebot.runtime.rasa_runner import RasaProcesses

        self.settings = settings
        self.rasa = RasaProcesses(settings)
        self.piper = PiperServer(settings)
        self.server = None
        self.thread: threading.Thread | None = None

    def start(self, train_first: bool = True) -> None:
        import uvicorn

        from voicebot.api.app import create_app
        from voicebot.runtime.models import ModelError, load_whisper
        from voicebot.runtime.piper import PiperError
        from voicebot.runtime.rasa_runner import latest_model, train

        s = self.settings
        model = train(s, echo=echo) if train_first else latest_model(s.nlu_dir)
        if model is None:
            raise SystemExit("error: no trained model; run `voicebot train` first")
        wanted = {
            "the engine": (s.host, s.port), "Rasa": (LOOPBACK, s.rasa_port),
            "the action server": (LOOPBACK, s.action_port), "Piper TTS": (LOOPBACK, s.tts_port),
        }
        if s.internal_port is not None:
            wanted["the engine's internal API"] = (LOOPBACK, s.internal_port)
        busy = busy_ports(wanted)
        if busy:
            raise SystemExit("error: " + "; ".join(busy) + ". Stop it, or choose other ports (VOICEBOT_*_PORT).")
        keep_private(s.data_dir)
        quiet_pipecat(s.pipecat_log_level)
        try:
            echo("Starting Piper TTS ...")
            self.piper.start()
            whisper = load_whisper(s, echo=echo)  # while Piper loads its voice
        except (ModelError, PiperError) as error:
            raise SystemExit(f"error: {error}") from error
        echo(f"Starting the engine on {s.engine_url} ...")
        config = uvicorn.Config(
            create_app(s, whisper), host=s.host, port=s.port, log_level="warning",
            proxy_headers=True, forwarded_allow_ips=s.trusted_proxies,
        )
        self.server = uvicorn.Server(config)
        listening = None  # uvicorn binds host:port itself; with an internal port, both sockets are handed over
        if s.internal_port is not None:
            listening = [config.bind_socket(), bound_socket(LOOPBACK, s.internal_port)]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": listening}, name="engine", daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise SystemExit(f"error: the engine could not start on port {s.port}")
            time.sleep(0.1)
        echo("Starting the action server and the Rasa server ...")
        self.rasa.start(model)
        self.rasa.wait_ready(s.rasa_start_timeout_s, echo=echo)
        try:
            self.piper.wait_ready(60, echo=echo)
        except PiperError as error:
            raise SystemExit(f"error: {error}") from error

    def supervise_once(self) -> None:
        for name in self.rasa.restart_dead():
            echo(f"warning: {name} had stopped; restarted it (calls meanwhile were handed to a person)")
        for name in self.rasa.restart_stuck():
            echo(f"warning: {name} was running but not serving (Rasa: no model loaded); restarted it")
        if self.piper.restart_if_dead():
            echo("warning: Piper TTS had stopped; restarted it (callers meanwhile heard an apology and were handed to a person)")
        elif self.piper.restart_if_stuck():
            echo("warning: Piper TTS was running but not answering; restarted it")

    def stop(self) -> None:
        self.rasa.stop()
        self.piper.stop()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def engine_is_up(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.engine_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def local_engine(settings: Settings, purpose: str) -> Iterator[None]:
    """Uses the running local engine, or starts one for `purpose` and stops it afterwards."""
    if engine_is_up(settings):
        yield
        return
    echo(f"No engine running; starting one for {purpose} ...")
    stack = EngineStack(settings)
    try:
        stack.start()
        yield
    finally:
        stack.stop()
