"""The order database on a real PostgreSQL server: migrations, seed, service rules, outages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.order_checks import assert_one_of_parallel_cancellations_wins
from tests.pg_server import postgres_server, start_server  # noqa: F401  (fixture)
from voicebot.domain.errors import NotAllowed
from voicebot.domain.records import to_json
from voicebot.domain.types import OrderStatus
from voicebot.settings import Settings
from voicebot.store import init_database, session_factory
from voicebot.store.models import Base
from voicebot.store.repositories import Store
from voicebot.store.seed import FIXED_ORDERS, MIN_PER_STATUS
from voicebot.store.session import DatabaseUnavailable

pytestmark = pytest.mark.integration

IN_TRANSIT, PENDING, PAID, PACKED = "104233", "100512", "101874", "102396"
DELIVERED_RECENT, DELIVERED_OLD = "106347", "107081"


@pytest.fixture(scope="module")
def settings(postgres_server, tmp_path_factory: pytest.TempPathFactory) -> Settings:  # noqa: F811
    postgres_server.create_database("voicebot_orders")
    return Settings(data_dir=tmp_path_factory.mktemp("pg-data"), DATABASE_URL=postgres_server.dsn("voicebot_orders"))


@pytest.fixture(scope="module")
def engine(settings: Settings):
    engine = init_database(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def service(engine) -> Store:
    return Store.open(session_factory(engine))


def test_url_uses_psycopg(settings: Settings) -> None:
    assert settings.sqlalchemy_url.startswith("postgresql+psycopg://")


def test_migrations_and_seed(engine, service: Store) -> None:
    with engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    counts = Counter(o.status for o in service.orders.list_orders())
    assert set(counts) == {s.value for s in OrderStatus} and min(counts.values()) >= MIN_PER_STATUS


def test_init_again_does_not_reseed(settings: Settings, service: Store, capsys) -> None:
    before = len(service.orders.list_orders())
    init_database(settings).dispose()
    assert len(service.orders.list_orders()) == before
    assert "not seeding" in capsys.readouterr().err


def test_get_order(service: Store) -> None:
    order = to_json(service.orders.get_order(IN_TRANSIT))
    assert order["status"] == "in_transit" and order["customer_first_name"] == "Maria"
    assert order["last_event"]["at"].endswith("+00:00")
    demo = next(o for o in FIXED_ORDERS if o.number == IN_TRANSIT)
    assert service.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, postcode=demo.postcode)


def test_cancel(service: Store) -> None:
    result = service.orders.cancel_order(PAID, call_id="pg-call")
    assert result.order.status == "cancelled" and result.refund.status == "processing"
    with pytest.raises(NotAllowed) as caught:
        service.orders.cancel_order(IN_TRANSIT)
    assert caught.value.code == "already_shipped"


def test_concurrent_cancels_make_one_refund(service: Store) -> None:
    assert_one_of_parallel_cancellations_wins(service, PACKED)


def test_refunds(service: Store) -> None:
    created = service.orders.request_refund(DELIVERED_RECENT, "Wrong size")
    assert service.orders.refund_status(DELIVERED_RECENT) == [created.refund]
    with pytest.raises(NotAllowed) as caught:
        service.orders.request_refund(DELIVERED_OLD, "Wrong size")
    assert caught.value.code == "outside_return_window"


def test_calls_and_handoffs(service: Store) -> None:
    call_id = service.calls.start_call(channel="phone").id
    service.calls.add_turn(call_id, "agent please", "human_agent", 0.97, "Connecting you.")
    assert service.handoffs.record_handoff(call_id, "asked for agent", collected={"verified": False}) > 0
    assert service.calls.end_call(call_id, "handed_off").outcome == "handed_off"
    assert len(service.calls.get_call(call_id).turns) == 1


def test_outage_and_recovery(tmp_path: Path) -> None:
    """While the server is down calls fail with DatabaseUnavailable; after restart nothing is lost."""
    server = start_server()
    try:
        server.create_database("voicebot_outage")
        settings = Settings(data_dir=tmp_path, DATABASE_URL=server.dsn("voicebot_outage"), seed_orders=20)
        engine = init_database(settings)
        try:
            service = Store.open(session_factory(engine))
            service.orders.cancel_order(PENDING)
            server.stop()
            with pytest.raises(DatabaseUnavailable):
                service.orders.get_order(PENDING)
            with pytest.raises(DatabaseUnavailable):
                service.orders.cancel_order(PAID)
            server.start()
            assert service.orders.get_order(PENDING).status == "cancelled"
            assert service.orders.get_order(PAID).status == "paid"
        finally:
            engine.dispose()
    finally:
        server.cleanup()
