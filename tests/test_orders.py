"""Order service rules, demo data and database behaviour, against a temporary SQLite file."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload

from tests.order_checks import assert_one_of_parallel_cancellations_wins
from voicebot.domain.errors import CallNotFound, InvalidInput, NotAllowed, OrderNotFound, TooManyAttempts
from voicebot.domain.records import to_json
from voicebot.domain.types import OrderStatus, RefundStatus, TicketKind
from voicebot.settings import Settings
from voicebot.store import init_database, make_engine, session_factory
from voicebot.store.models import Base, Call, Handoff, Order, Refund, Shipment, Ticket
from voicebot.store.repositories import Store
from voicebot.store.seed import (
    DEMO_ORDERS,
    FIXED_ORDERS,
    MIN_PER_STATUS,
    build_demo_data,
)
from voicebot.store.session import DatabaseUnavailable, alembic_config, upgrade

S = OrderStatus
DEMO = {o.number: o for o in FIXED_ORDERS}
IN_TRANSIT, PENDING, PAID, PACKED = "104233", "100512", "101874", "102396"
DELIVERED_RECENT, DELIVERED_OLD, REFUNDED, REFUND_OPEN = "106347", "107081", "111904", "113390"
CANCELLED, RETURNED, REFUND_REJECTED = "110238", "112567", "114872"


def _settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, DATABASE_URL=None, **overrides)


@pytest.fixture
def engine(db_url: str):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def service(engine) -> Store:
    return Store.open(session_factory(engine))


def _count(engine, model, *where) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _numbers_by_status(service: Store) -> dict[str, list[str]]:
    by_status: dict[str, list[str]] = {}
    for row in service.orders.list_orders():
        by_status.setdefault(row.status, []).append(row.order_number)
    return by_status


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- demo data ------------------------------------------------------------------------------


def test_seed_covers_every_status_with_valid_numbers(service: Store) -> None:
    orders = service.orders.list_orders()
    assert len(orders) >= Settings().seed_orders
    counts = Counter(o.status for o in orders)
    assert {s.value for s in S} == set(counts)
    assert min(counts.values()) >= MIN_PER_STATUS
    numbers = [o.order_number for o in orders]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 6 and n.isdigit() and n[0] != "0" for n in numbers)


def test_seed_is_consistent_with_status(engine) -> None:
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        orders = session.scalars(
            select(Order).options(
                selectinload(Order.shipments).selectinload(Shipment.events),
                selectinload(Order.refunds),
                selectinload(Order.customer),
            )
        ).all()
        assert 100 <= len({o.customer_id for o in orders}) <= 120
        delivered_ages = []
        refund_statuses = set()
        for order in orders:
            codes = [e.code for s in order.shipments for e in s.events]
            times = [e.occurred_at for s in order.shipments for e in s.events]
            assert times == sorted(times), order.order_number
            assert order.total_cents == sum(i.quantity * i.unit_price_cents for i in order.items) > 0
            assert len(order.shipping_address.postcode) == 5 and order.shipping_address.postcode.isdigit()
            assert order.customer.phone.startswith("+1") and len(order.customer.phone) == 12
            refund_statuses |= {r.status for r in order.refunds}
            status = order.status
            if status in (S.PENDING, S.PAID, S.PACKED, S.CANCELLED):
                assert not order.shipments and order.delivered_at is None
                continue
            assert len(order.shipments) == 1 and codes[:2] == ["label_created", "picked_up"]
            if status in (S.IN_TRANSIT, S.DELAYED):
                assert "arrived_at_hub" in codes
            if status is S.DELAYED:
                assert codes[-1] == "delayed"
                assert order.expected_delivery > now.date()
            if status is S.EXCEPTION:
                assert codes[-1] == "exception"
            if status is S.OUT_FOR_DELIVERY:
                assert codes[-1] == "out_for_delivery"
            if status in (S.DELIVERED, S.RETURNED, S.REFUNDED):
                assert codes[-1] == "delivered" and order.delivered_at == times[-1]
            else:
                assert order.delivered_at is None
            if status is S.DELIVERED:
                delivered_ages.append((now - order.delivered_at).days)
            if status is S.REFUNDED:
                assert any(r.status is RefundStatus.COMPLETED for r in order.refunds)
            if status is S.RETURNED:
                assert any(r.status in (RefundStatus.APPROVED, RefundStatus.PROCESSING) for r in order.refunds)
        assert refund_statuses == set(RefundStatus)
        assert any(age < 30 for age in delivered_ages) and any(age > 30 for age in delivered_ages)


def test_seed_is_deterministic(tmp_path: Path) -> None:
    today = date(2026, 3, 1)

    def snapshot(seed: int) -> list[tuple]:
        _, orders = build_demo_data(_settings(tmp_path, seed=seed), today)
        return [
            (
                o.order_number,
                o.status,
                o.placed_at,
                o.customer.phone,
                o.shipping_address,
                o.total_cents,
                [(s.tracking_number, [(e.occurred_at, e.code) for e in s.events]) for s in o.shipments],
            )
            for o in orders
        ]

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)


def test_seed_dates_follow_today(tmp_path: Path) -> None:
    _, orders = build_demo_data(_settings(tmp_path), date(2025, 1, 15))
    by_number = {o.order_number: o for o in orders}
    assert by_number[DELIVERED_RECENT].delivered_at.date() == date(2025, 1, 10)
    assert by_number[DELIVERED_OLD].delivered_at.date() == date(2024, 12, 1)
    assert max(e.occurred_at for o in orders for s in o.shipments for e in s.events).date() <= date(2025, 1, 15)


def test_small_seed_still_covers_every_status(tmp_path: Path) -> None:
    _, orders = build_demo_data(_settings(tmp_path, seed_orders=10))
    assert min(Counter(o.status for o in orders).values()) >= MIN_PER_STATUS


def test_demo_orders_are_documented_and_verifiable(service: Store) -> None:
    assert set(DEMO_ORDERS) == set(DEMO)
    assert DEMO[IN_TRANSIT].status is S.IN_TRANSIT
    assert {o.status for o in FIXED_ORDERS} == set(S)
    for number, demo in DEMO.items():
        assert demo.phone_last4 in DEMO_ORDERS[number] and demo.postcode in DEMO_ORDERS[number]
        order = service.orders.get_order(number)
        assert order.status == demo.status
        assert order.customer_first_name == demo.first_name
        assert order.shipping_address.postcode == demo.postcode
        assert service.orders.verify_identity(number, phone_last4=demo.phone_last4)
        assert service.orders.verify_identity(number, postcode=demo.postcode)
        if demo.incident:
            assert order.last_event.description == demo.incident


# -- database set-up ------------------------------------------------------------------------


def test_migrations_match_models(engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_migrations_downgrade_and_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        upgrade(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(engine)
        assert {"orders", "calls", "call_turns", "handoffs"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_init_database_is_idempotent(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(Path(db_url.removeprefix("sqlite:///")).parent)
    engine = init_database(settings)
    try:
        assert _count(engine, Order) >= 240
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("voicebot db: migrating sqlite:///")
    assert "not seeding" in err[1] and len(err) == 2


def test_init_database_creates_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "new" / "var"
    engine = init_database(_settings(data_dir, seed_orders=20))
    engine.dispose()
    assert (data_dir / "voicebot.db").exists()
    assert "seeded" in capsys.readouterr().err


# -- look-ups -------------------------------------------------------------------------------


def test_get_order_shape(service: Store) -> None:
    order = to_json(service.orders.get_order(IN_TRANSIT))
    assert order["order_number"] == IN_TRANSIT
    assert order["status"] == "in_transit"
    assert order["customer_first_name"] == "Maria"
    assert order["carrier"] == "UPS" and order["tracking_number"].startswith("1Z")
    assert set(order["last_event"]) == {"at", "location", "description", "code"}
    assert datetime.fromisoformat(order["last_event"]["at"]).tzinfo is not None
    assert date.fromisoformat(order["expected_delivery"]) >= date.today()
    assert order["delivered_at"] is None
    assert order["items"] == [
        {"sku": "AUD-NC700", "name": "Wireless Noise-Cancelling Headphones", "quantity": 1, "unit_price": 249.99}
    ]
    assert order["total"] == 249.99 and order["currency"] == "USD"
    assert order["shipping_address"] == {"line": "2417 S 1st St", "city": "Austin", "state": "TX", "postcode": "78704"}
    assert order["refunds"] == []


def test_list_orders_shape(service: Store) -> None:
    rows = to_json(service.orders.list_orders())
    assert set(rows[0]) == {"order_number", "status", "expected_delivery", "customer"}
    assert {"order_number": IN_TRANSIT, "status": "in_transit", "customer": "Maria Garcia"}.items() <= next(
        r for r in rows if r["order_number"] == IN_TRANSIT
    ).items()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_order("999999"),
        lambda s: s.cancel_order("999999"),
        lambda s: s.verify_identity("999999", phone_last4="1234"),
        lambda s: s.change_address("999999", "1 Main St", phone_last4="1234"),
        lambda s: s.refund_status("999999"),
        lambda s: s.request_refund("999999", "broken"),
    ],
)
def test_unknown_order(service: Store, call) -> None:
    with pytest.raises(OrderNotFound) as caught:
        call(service.orders)
    assert caught.value.code == "order_not_found" and "999999" in caught.value.message


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(S))
def test_cancel_by_status(service: Store, engine, status: OrderStatus) -> None:
    number = _numbers_by_status(service)[status][0]
    if status in (S.PENDING, S.PAID, S.PACKED):
        result = service.orders.cancel_order(number, call_id="call-1")
        assert result.order.status == "cancelled"
        assert (result.refund is not None) == (status is not S.PENDING)
        if result.refund:
            assert result.refund.status == "processing"
            assert result.refund.amount == result.order.total
        ticket = _ticket(engine, result.ticket_id)
        assert ticket.kind is TicketKind.CANCELLATION and ticket.call_id == "call-1"
        assert service.orders.get_order(number).status == "cancelled"
    else:
        before = service.orders.get_order(number)
        with pytest.raises(NotAllowed) as caught:
            service.orders.cancel_order(number)
        assert caught.value.code == ("already_cancelled" if status is S.CANCELLED else "already_shipped")
        assert service.orders.get_order(number) == before
        assert _count(engine, Ticket) == 0


def _ticket(engine, ticket_id: int) -> Ticket:
    with session_factory(engine)() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def test_cancel_twice(service: Store) -> None:
    service.orders.cancel_order(PAID)
    with pytest.raises(NotAllowed, match="already cancelled") as caught:
        service.orders.cancel_order(PAID)
    assert caught.value.code == "already_cancelled"
    assert len(service.orders.refund_status(PAID)) == 1


def test_concurrent_cancels_make_one_refund(service: Store, engine) -> None:
    assert_one_of_parallel_cancellations_wins(service, PACKED)


# -- identity and address -------------------------------------------------------------------


def test_verify_identity(service: Store) -> None:
    demo = DEMO[IN_TRANSIT]
    assert service.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4)
    assert service.orders.verify_identity(IN_TRANSIT, postcode=demo.postcode)
    assert service.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, postcode=demo.postcode)
    assert service.orders.verify_identity(IN_TRANSIT, phone_last4="512-555-0147")
    assert not service.orders.verify_identity(IN_TRANSIT, phone_last4="9999")
    assert not service.orders.verify_identity(IN_TRANSIT, postcode="10001")
    assert not service.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, postcode="10001")
    assert not service.orders.verify_identity(IN_TRANSIT, phone_last4="47")
    assert not service.orders.verify_identity(IN_TRANSIT)
    # Another customer's details do not unlock an order.
    assert not service.orders.verify_identity(PENDING, phone_last4=demo.phone_last4)


def test_identity_checks_lock_after_repeated_failures_per_order_and_per_call(engine) -> None:
    """Guessing a phone's last four digits (10,000 tries) is stopped after a handful, right guess or not."""
    now = [datetime(2026, 12, 8, 9, 0, tzinfo=UTC)]
    store = Store.open(session_factory(engine), clock=lambda: now[0])
    demo = DEMO[IN_TRANSIT]
    for guess in ("0001", "0002", "0003"):
        assert not store.orders.verify_identity(IN_TRANSIT, phone_last4=guess, call_id="c-guess")
    with pytest.raises(TooManyAttempts):  # this call has had its three tries: even the right answer is refused now
        store.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, call_id="c-guess")
    assert store.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, call_id="c-other")
    # Across calls and clients, the order itself locks after five failures.
    for guess in ("0004", "0005"):
        assert not store.orders.verify_identity(IN_TRANSIT, phone_last4=guess)
    with pytest.raises(TooManyAttempts) as locked:
        store.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, call_id="c-new")
    assert locked.value.retry_after_s == 3600
    with pytest.raises(TooManyAttempts):  # the address change checks identity too
        store.orders.change_address(IN_TRANSIT, "1 Attacker Way, Springfield, IL 62704", phone_last4=demo.phone_last4)
    assert store.orders.verify_identity(PENDING, phone_last4=DEMO[PENDING].phone_last4)  # other orders are not affected
    now[0] += timedelta(hours=1, seconds=1)
    assert store.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4, call_id="c-new")
    assert not store.orders.verify_identity(IN_TRANSIT, phone_last4="0006")  # the lock doubles: two hours now
    with pytest.raises(TooManyAttempts) as relocked:
        store.orders.verify_identity(IN_TRANSIT, phone_last4=demo.phone_last4)
    assert relocked.value.retry_after_s == 7200


def test_change_address_before_shipment(service: Store, engine) -> None:
    demo = DEMO[PENDING]
    result = service.orders.change_address(
        PENDING, "12 Oak Street, Apt 4B, Springfield, IL 62704", phone_last4=demo.phone_last4, call_id="c-7"
    )
    assert to_json(result.order.shipping_address) == {
        "line": "12 Oak Street, Apt 4B",
        "city": "Springfield",
        "state": "IL",
        "postcode": "62704",
    }
    ticket = _ticket(engine, result.ticket_id)
    assert ticket.kind is TicketKind.ADDRESS_CHANGE and ticket.call_id == "c-7"
    assert ticket.body["old"]["postcode"] == demo.postcode and ticket.body["new"]["postcode"] == "62704"
    # The identity check now uses the new ZIP code.
    assert service.orders.verify_identity(PENDING, postcode="62704")


def test_change_address_free_form_keeps_city(service: Store) -> None:
    demo = DEMO[PAID]
    result = service.orders.change_address(PAID, "  77  Maple   Ave ", postcode="30310", postcode_check=demo.postcode)
    assert to_json(result.order.shipping_address) == {
        "line": "77 Maple Ave",
        "city": demo.city,
        "state": demo.state,
        "postcode": "30310",
    }


def test_change_address_after_shipment(service: Store) -> None:
    demo = DEMO[IN_TRANSIT]
    with pytest.raises(NotAllowed) as caught:
        service.orders.change_address(IN_TRANSIT, "1 Main St, Austin, TX 78701", phone_last4=demo.phone_last4)
    assert caught.value.code == "already_shipped"
    assert service.orders.get_order(IN_TRANSIT).shipping_address.line == demo.line
    with pytest.raises(NotAllowed) as caught:
        service.orders.change_address(CANCELLED, "1 Main St, Boston, MA", phone_last4=DEMO[CANCELLED].phone_last4)
    assert caught.value.code == "already_cancelled"


def test_change_address_needs_identity(service: Store, engine) -> None:
    for check in ({}, {"phone_last4": "0000"}, {"postcode_check": "99999"}):
        with pytest.raises(NotAllowed) as caught:
            service.orders.change_address(PACKED, "1 Main St, Seattle, WA 98101", **check)
        assert caught.value.code == "identity_check_failed"
    assert service.orders.get_order(PACKED).shipping_address.line == DEMO[PACKED].line
    assert _count(engine, Ticket) == 0


def test_change_address_rejects_bad_input(service: Store) -> None:
    with pytest.raises(InvalidInput):
        service.orders.change_address(PACKED, "1 Main St", postcode="123", phone_last4=DEMO[PACKED].phone_last4)
    with pytest.raises(InvalidInput):
        service.orders.change_address(PACKED, "  ", phone_last4=DEMO[PACKED].phone_last4)


# -- refunds --------------------------------------------------------------------------------


def test_refund_inside_window(service: Store, engine) -> None:
    assert service.orders.refund_status(DELIVERED_RECENT) == []
    result = service.orders.request_refund(DELIVERED_RECENT, "Wrong size", call_id="c-9")
    refund = result.refund
    assert refund.status == "requested" and refund.reason == "Wrong size"
    assert refund.amount == service.orders.get_order(DELIVERED_RECENT).total
    assert refund.expected_by > date.today()
    ticket = _ticket(engine, result.ticket_id)
    assert ticket.kind is TicketKind.REFUND_REQUEST and ticket.body == {"reason": "Wrong size"}
    assert service.orders.refund_status(DELIVERED_RECENT) == [refund]
    with pytest.raises(NotAllowed) as caught:
        service.orders.request_refund(DELIVERED_RECENT, "Wrong size")
    assert caught.value.code == "refund_already_requested"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (DELIVERED_OLD, "outside_return_window"),
        (IN_TRANSIT, "not_delivered"),
        (PENDING, "not_delivered"),
        (REFUNDED, "already_refunded"),
        (REFUND_OPEN, "refund_already_requested"),
        (RETURNED, "refund_already_requested"),
        (CANCELLED, "already_cancelled"),
        (REFUND_REJECTED, "outside_return_window"),
    ],
)
def test_refund_refused(service: Store, engine, number: str, code: str) -> None:
    refunds = service.orders.refund_status(number)
    with pytest.raises(NotAllowed) as caught:
        service.orders.request_refund(number, "Changed my mind")
    assert caught.value.code == code
    assert service.orders.refund_status(number) == refunds
    assert _count(engine, Ticket) == 0


def test_refund_window_edges(engine) -> None:
    with session_factory(engine)() as session:
        delivered_at = session.scalar(select(Order.delivered_at).where(Order.order_number == DELIVERED_OLD))
    inside = Store.open(session_factory(engine), clock=lambda: delivered_at + timedelta(days=29, hours=23))
    outside = Store.open(session_factory(engine), clock=lambda: delivered_at + timedelta(days=30, minutes=1))
    with pytest.raises(NotAllowed, match="more than 30 days"):
        outside.orders.request_refund(DELIVERED_OLD, "Broken")
    assert inside.orders.request_refund(DELIVERED_OLD, "Broken").refund.status == "requested"


def test_refund_needs_reason(service: Store) -> None:
    with pytest.raises(InvalidInput):
        service.orders.request_refund(DELIVERED_RECENT, "   ")


# -- handoffs and calls ---------------------------------------------------------------------


def test_handoff_recorded(service: Store, engine) -> None:
    handoff_id = service.handoffs.record_handoff(
        "call-42",
        "caller asked for a person",
        intent="human_agent",
        collected={"order_number": IN_TRANSIT, "verified": True},
        order_number=IN_TRANSIT,
        summary="Wants to know why the parcel is late.",
    )
    with session_factory(engine)() as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        assert (handoff.call_id, handoff.queue, handoff.status) == ("call-42", "general", "waiting")
        assert handoff.collected == {"order_number": IN_TRANSIT, "verified": True}
        assert handoff.order_number == IN_TRANSIT and handoff.intent == "human_agent"
        assert handoff.summary.startswith("Wants")


def test_call_turns_stored(service: Store) -> None:
    call = service.calls.start_call(caller="+15125550147", channel="phone")
    assert len(call.id) == 36 and call.channel == "phone" and call.ended_at is None
    first = service.calls.add_turn(call.id, "where is my order", "track_order", 0.91, "What is the order number?")
    second = service.calls.add_turn(call.id, "104233", "inform", 0.88, "It is in transit.")
    assert (first.seq, second.seq) == (1, 2)
    ended = service.calls.end_call(call.id, "resolved")
    assert ended.outcome == "resolved" and ended.ended_at is not None
    stored = service.calls.get_call(call.id)
    assert [t.caller_text for t in stored.turns] == ["where is my order", "104233"]
    assert stored.turns[0].intent == "track_order" and stored.turns[0].confidence == 0.91
    assert stored.outcome == "resolved"


def test_call_rules(service: Store) -> None:
    call = service.calls.start_call(call_id="fixed-call-id")
    assert call.id == "fixed-call-id" and call.channel == "text"
    with pytest.raises(NotAllowed) as caught:
        service.calls.start_call(call_id="fixed-call-id")
    assert caught.value.code == "call_exists"
    with pytest.raises(InvalidInput):
        service.calls.end_call("fixed-call-id", "great")
    with pytest.raises(InvalidInput):
        service.calls.start_call(channel="fax")
    service.calls.end_call("fixed-call-id", "abandoned")
    for late in (
        lambda: service.calls.end_call("fixed-call-id", "resolved"),
        lambda: service.calls.add_turn("fixed-call-id", "hi"),
    ):
        with pytest.raises(NotAllowed) as caught:
            late()
        assert caught.value.code == "call_ended"
    assert service.calls.get_call("fixed-call-id").outcome == "abandoned"
    for unknown in (
        lambda: service.calls.get_call("nope"),
        lambda: service.calls.add_turn("nope", "hi"),
        lambda: service.calls.end_call("nope", "resolved"),
    ):
        with pytest.raises(CallNotFound):
            unknown()


def test_concurrent_turns_get_unique_seq(service: Store) -> None:
    call_id = service.calls.start_call().id
    threads = [threading.Thread(target=service.calls.add_turn, args=(call_id, f"turn {i}")) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t.seq for t in service.calls.get_call(call_id).turns] == list(range(1, 11))


# -- durability and failures ----------------------------------------------------------------


def test_failed_write_rolls_back_only_itself(service: Store, engine, db_url: str, monkeypatch) -> None:
    service.orders.cancel_order(PAID, call_id="first")
    handoff_id = service.handoffs.record_handoff("first", "needs a person")
    tickets_before = _count(engine, Ticket)
    refunds_before = _count(engine, Refund)

    def broken_ticket(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("voicebot.store.orders.new_ticket", broken_ticket)
    with pytest.raises(RuntimeError, match="disk full"):
        service.orders.cancel_order(PACKED, call_id="second")  # fails after the status change
    monkeypatch.undo()

    # The failed cancellation left no trace; the earlier one is intact, also for a new connection.
    fresh = make_engine(db_url)
    try:
        reopened = Store.open(session_factory(fresh))
        assert reopened.orders.get_order(PACKED).status == "packed"
        assert reopened.orders.refund_status(PACKED) == []
        assert reopened.orders.get_order(PAID).status == "cancelled"
        assert reopened.orders.refund_status(PAID)[0].status == "processing"
        assert _count(fresh, Ticket) == tickets_before and _count(fresh, Refund) == refunds_before
        assert _count(fresh, Handoff, Handoff.id == handoff_id) == 1
    finally:
        fresh.dispose()
    # The service is still usable after the failure.
    assert service.orders.cancel_order(PACKED).order.status == "cancelled"


def test_refused_change_leaves_no_trace(service: Store, engine) -> None:
    def updated_at() -> datetime:
        with session_factory(engine)() as session:
            return session.scalar(select(Order.updated_at).where(Order.order_number == IN_TRANSIT))

    before = updated_at()
    with pytest.raises(NotAllowed):
        service.orders.cancel_order(IN_TRANSIT)
    assert updated_at() == before


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-dir/for/voicebot.db",
        f"postgresql+psycopg://voicebot:secret@127.0.0.1:{_closed_port()}/voicebot",
    ],
    ids=["sqlite-bad-path", "postgres-closed-port"],
)
def test_dead_database(url: str) -> None:
    engine = make_engine(url)
    try:
        service = Store.open(session_factory(engine))
        for call in (
            lambda: service.orders.get_order(IN_TRANSIT),
            lambda: service.orders.list_orders(),
            lambda: service.orders.cancel_order(PENDING),
            lambda: service.calls.start_call(),
            lambda: service.handoffs.record_handoff(None, "db down"),
        ):
            with pytest.raises(DatabaseUnavailable) as caught:
                call()
            assert caught.value.code == "database_unavailable"
    finally:
        engine.dispose()


def test_init_database_on_dead_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, DATABASE_URL=f"postgresql://voicebot@127.0.0.1:{_closed_port()}/voicebot")
    with pytest.raises(DatabaseUnavailable):
        init_database(settings)


def test_calls_table_survives_failures(service: Store, engine) -> None:
    call_id = service.calls.start_call().id
    service.calls.add_turn(call_id, "hello")
    with pytest.raises(NotAllowed):
        service.calls.start_call(call_id=call_id)
    assert _count(engine, Call) == 1
    assert len(service.calls.get_call(call_id).turns) == 1


def test_turn_latency_goes_on_the_latest_caller_turn_once(service: Store) -> None:
    call = service.calls.start_call(channel="phone")
    service.calls.add_turn(call.id, None, None, None, "Hello, how can I help?")  # the greeting: not timed
    assert service.calls.set_turn_latency(call.id, {"total": 1.0}) is None
    first = service.calls.add_turn(call.id, "where is my order", "track_order", 0.9, "What is the order number?")
    timings = {"endpointing": 200.0, "transcription": 310.5, "total": 790.0}
    assert service.calls.set_turn_latency(call.id, timings) == first.seq
    assert service.calls.set_turn_latency(call.id, {"total": 5.0}) is None  # already timed: kept
    service.calls.end_call(call.id, "resolved")  # the answer may start playing after the call closed
    turns = service.calls.get_call(call.id).turns
    assert [t.latency_ms for t in turns] == [None, timings]
