"""Fixtures shared by the order-service and order-API tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voicebot.db import init_database
from voicebot.settings import Settings


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
