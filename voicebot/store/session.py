"""Engine and session helpers, and the one-call database bootstrap used at start-up."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Select, create_engine, event, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload, sessionmaker

from voicebot.domain.types import utc_now
from voicebot.store.models import Order, Shipment
from voicebot.store.seed import seed_demo_data

if TYPE_CHECKING:
    from voicebot.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used right now; the caller should degrade, not crash."""

    code = "database_unavailable"


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """Turn connection-level failures into `DatabaseUnavailable`; let data errors through."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {_first_line(exc)}") from exc
    except sa_exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(f"database connection lost: {_first_line(exc)}") from exc
        raise


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
    finally:
        cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys + WAL, PostgreSQL fails fast when unreachable."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose loaded objects stay readable after commit (results are built after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config built in code, so migrations do not depend on the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run migrations on this engine's database in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _progress(message: str) -> None:
    print(f"voicebot db: {message}", file=sys.stderr, flush=True)


def init_database(settings: Settings, *, today: date | None = None) -> Engine:
    """Create the data dir, migrate to head and seed demo data into an empty orders table.

    Safe to call on every start: migrations are idempotent and seeding only happens once.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.sqlalchemy_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        with translate_db_errors():
            _progress(f"migrating {shown} to head")
            upgrade(engine)
            with session_factory(engine).begin() as session:
                existing = session.scalar(select(func.count()).select_from(Order))
                if existing:
                    _progress(f"{existing} orders present, not seeding")
                else:
                    counts = seed_demo_data(session, settings, today=today)
                    _progress(f"seeded {counts['orders']} orders for {counts['customers']} customers")
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one transaction: commit on success, roll back on any exception."""
    with translate_db_errors(), sessions.begin() as session:
        yield session


class Repository:
    """Base of the store's repositories: each method runs in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    def _transaction(self) -> AbstractContextManager[Session]:
        return transaction(self._sessions)


def full_order() -> Select[tuple[Order]]:
    """An order with everything the bot and the agents are told about it, loaded in a few queries."""
    return select(Order).options(
        selectinload(Order.customer),
        selectinload(Order.items),
        selectinload(Order.shipments).selectinload(Shipment.events),
        selectinload(Order.refunds),
    )
