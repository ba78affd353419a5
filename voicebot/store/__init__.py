"""Order database: models, migrations, engine/session helpers and demo data."""

from voicebot.store.session import (
    DatabaseUnavailable,
    init_database,
    make_engine,
    session_factory,
)

__all__ = ["DatabaseUnavailable", "init_database", "make_engine", "session_factory"]
