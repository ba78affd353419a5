"""Fixtures shared by the order-service and order-API tests."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.bot_stack import running_stack, stack_settings
from tests.pg_server import postgres_server  # noqa: F401  (fixture)
from voicebot.settings import Settings
from voicebot.store import init_database


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded database per module; each test gets its own copy."""
    data_dir = tmp_path_factory.mktemp("template")
    init_database(Settings(data_dir=data_dir, DATABASE_URL=None)).dispose()
    return data_dir / "voicebot.db"


@pytest.fixture
def db_url(template_db: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded SQLite database for one test."""
    target = tmp_path / "voicebot.db"
    source, copy = sqlite3.connect(template_db), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def pg(postgres_server):  # noqa: F811
    postgres_server.create_database("voicebot_bot")
    return postgres_server


@pytest.fixture(scope="session")
def stack(pg, tmp_path_factory):
    """The whole bot (engine, Rasa, action server, Piper) on PostgreSQL, shared by the end-to-end tests."""
    settings = stack_settings(tmp_path_factory.mktemp("bot"), pg.dsn("voicebot_bot"), record_calls=True)
    yield from running_stack(settings)


@pytest.fixture(scope="session")
def say(stack, tmp_path_factory):
    """Text → a WAV of a caller saying it (the stack's Piper, slightly slower than the bot's voice)."""
    folder = tmp_path_factory.mktemp("caller")

    def synthesise(text: str) -> Path:
        response = httpx.post(f"{stack.settings.tts_url}/synthesize", json={"text": text, "length_scale": 1.1}, timeout=30)
        response.raise_for_status()
        path = folder / (re.sub(r"\W+", "_", text.lower())[:40] + ".wav")
        path.write_bytes(response.content)
        return path

    return synthesise
