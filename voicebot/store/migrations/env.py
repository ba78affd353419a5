"""Alembic environment.

The database comes from, in order: a connection handed over in
``config.attributes["connection"]`` (what `voicebot.store.session.upgrade` does), the
``sqlalchemy.url`` option, or the engine settings (``DATABASE_URL`` / ``VOICEBOT_DATA_DIR``)
when run from the command line with ``alembic -c voicebot/store/alembic.ini``.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from voicebot.store.models import Base

config = context.config
target_metadata = Base.metadata
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(**kwargs: Any) -> None:
    # Batch mode lets later ALTERs work on SQLite, which cannot alter most column/constraint details.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True, **kwargs)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from voicebot.settings import get_settings

    return get_settings().sqlalchemy_url


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    from voicebot.store.session import make_engine

    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
