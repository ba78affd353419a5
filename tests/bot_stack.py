"""A running bot for integration tests: engine, Rasa server and action server on free loopback ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx

from eval.calls.runner import SHARED_ORDER_CHECKS
from tests.pg_server import free_port
from voicebot.credentials import service_headers
from voicebot.runtime.rasa_runner import train
from voicebot.runtime.stack import EngineStack
from voicebot.settings import Settings


def stack_settings(data_dir: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    """Many tests' callers share the demo orders and some fail identity checks on purpose, so the
    per-order lock-out is out of their way here; tests/test_security.py checks it with the default."""
    return Settings(**{
        "data_dir": data_dir,
        "DATABASE_URL": database_url,
        "port": free_port(),
        "rasa_port": free_port(),
        "action_port": free_port(),
        "tts_port": free_port(),
        "verify_attempts_per_order": SHARED_ORDER_CHECKS,
        **overrides,
    })


def running_stack(settings: Settings) -> Iterator[EngineStack]:
    train(settings)  # no-op when the model matches nlu/
    stack = EngineStack(settings)
    try:
        stack.start(train_first=False)
        yield stack
    finally:
        stack.stop()


class Caller:
    """A text caller on one conversation."""

    def __init__(self, settings: Settings) -> None:
        self.client = httpx.Client(base_url=settings.engine_url, headers=service_headers(settings), timeout=30)
        self.greeting = self.client.post("/api/v1/conversations", json={"channel": "text"}).json()
        self.call_id = self.greeting["call_id"]

    def say(self, text: str) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/conversations/{self.call_id}/messages", json={"text": text})
        response.raise_for_status()
        return response.json()

    def end(self, outcome: str = "resolved") -> None:
        self.client.post(f"/api/v1/conversations/{self.call_id}/end", json={"outcome": outcome})
