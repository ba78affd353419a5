"""Deterministic demo data: realistic US customers, orders, shipments, tracking and refunds.

Everything is drawn from ``random.Random(settings.seed)`` and dated relative to ``today``,
so a fresh database always looks the same and always looks current. A few orders have
fixed numbers (`DEMO_ORDERS`) that tests, docs and demos rely on; their details depend
only on their number and ``today``, never on the seed or the order count.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from voicebot.domain.types import CustomerTier, OrderStatus, RefundStatus
from voicebot.store.models import (
    Address,
    Customer,
    Order,
    OrderItem,
    Refund,
    Shipment,
    TrackingEvent,
)

if TYPE_CHECKING:
    from voicebot.settings import Settings

MIN_PER_STATUS = 8

S = OrderStatus


@dataclasses.dataclass(frozen=True)
class DemoOrder:
    """An order with a fixed number, and the identity data a caller would give for it."""

    number: str
    status: OrderStatus
    note: str
    first_name: str
    last_name: str
    phone: str
    line: str
    city: str
    state: str
    postcode: str
    skus: tuple[str, ...]
    carrier: str | None = None
    delivered_days_ago: int | None = None
    refund: RefundStatus | None = None
    incident: str | None = None  # the carrier's words for a delay or exception

    @property
    def phone_last4(self) -> str:
        return self.phone[-4:]

    def describe(self) -> str:
        return (
            f"{self.status}: {self.note}; customer {self.first_name} {self.last_name}, "
            f"phone ending {self.phone_last4}, ZIP {self.postcode}"
        )


# fmt: off
FIXED_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder("104233", S.IN_TRANSIT, "UPS, left the hub, arriving in a few days",
              "Maria", "Garcia", "+15125550147", "2417 S 1st St", "Austin", "TX", "78704",
              ("AUD-NC700",), carrier="UPS"),
    DemoOrder("100512", S.PENDING, "awaiting payment; can be cancelled or re-addressed",
              "James", "Miller", "+16145550112", "88 E Gay St Apt 5C", "Columbus", "OH", "43215",
              ("KIT-FP12", "KIT-KNF8")),
    DemoOrder("101874", S.PAID, "paid, not packed yet; cancelling it creates a refund",
              "Aisha", "Johnson", "+14045550163", "1150 Peachtree St NE", "Atlanta", "GA", "30309",
              ("HOM-LMP2",)),
    DemoOrder("102396", S.PACKED, "packed, waiting for carrier pickup",
              "Robert", "Chen", "+12065550178", "4210 Fremont Ave N", "Seattle", "WA", "98103",
              ("OUT-TNT2", "OUT-LNT1")),
    DemoOrder("103158", S.SHIPPED, "FedEx picked it up, no hub scan yet",
              "Emily", "Davis", "+17205550121", "2935 Welton St", "Denver", "CO", "80205",
              ("FIT-YMT6",), carrier="FedEx"),
    DemoOrder("105620", S.OUT_FOR_DELIVERY, "USPS out for delivery today",
              "Daniel", "Martinez", "+16025550189", "501 N 3rd St", "Phoenix", "AZ", "85004",
              ("TOY-BLK9",), carrier="USPS"),
    DemoOrder("106347", S.DELIVERED, "delivered 5 days ago, inside the 30-day return window",
              "Sarah", "Thompson", "+15035550134", "1825 SE Hawthorne Blvd", "Portland", "OR", "97214",
              ("APP-RJK4", "APP-SCF1"), carrier="UPS", delivered_days_ago=5),
    DemoOrder("107081", S.DELIVERED, "delivered 45 days ago, outside the return window",
              "Michael", "Brown", "+13125550156", "2240 N Clark St", "Chicago", "IL", "60614",
              ("ELE-SPK3",), carrier="FedEx", delivered_days_ago=45),
    DemoOrder("108425", S.DELAYED, "FedEx weather delay, new estimate in a few days",
              "Jennifer", "Wilson", "+16125550192", "3010 Lyndale Ave S", "Minneapolis", "MN", "55408",
              ("HOM-BLK5",), carrier="FedEx", incident="Delayed: severe weather in the area"),
    DemoOrder("109716", S.EXCEPTION, "UPS delivery exception, address could not be located",
              "David", "Lee", "+13055550117", "1200 Brickell Ave", "Miami", "FL", "33131",
              ("ELE-CHG2",), carrier="UPS", incident="Delivery exception: address could not be located"),
    DemoOrder("110238", S.CANCELLED, "cancelled after payment, refund completed",
              "Linda", "Anderson", "+16175550145", "236 Newbury St", "Boston", "MA", "02116",
              ("BTY-SRM1",), refund=RefundStatus.COMPLETED),
    DemoOrder("111904", S.REFUNDED, "returned and refunded in full",
              "Christopher", "Taylor", "+16155550173", "410 Broadway", "Nashville", "TN", "37203",
              ("APP-BTS9",), carrier="USPS", delivered_days_ago=40, refund=RefundStatus.COMPLETED),
    DemoOrder("112567", S.RETURNED, "return received, refund processing",
              "Patricia", "Moore", "+16195550138", "750 B St", "San Diego", "CA", "92101",
              ("KIT-CFM3",), carrier="DHL", delivered_days_ago=15, refund=RefundStatus.PROCESSING),
    DemoOrder("113390", S.DELIVERED, "delivered 12 days ago, refund already requested",
              "Kevin", "Jackson", "+19195550126", "315 Fayetteville St", "Raleigh", "NC", "27601",
              ("ELE-WCH1",), carrier="UPS", delivered_days_ago=12, refund=RefundStatus.REQUESTED),
    DemoOrder("114872", S.DELIVERED, "delivered 35 days ago, refund request was rejected",
              "Angela", "Rodriguez", "+15055550151", "1520 Central Ave SE", "Albuquerque", "NM", "87106",
              ("HOM-VAC9",), carrier="FedEx", delivered_days_ago=35, refund=RefundStatus.REJECTED),
)
# fmt: on

DEMO_ORDERS: dict[str, str] = {o.number: o.describe() for o in FIXED_ORDERS}

# (sku, name, unit price in cents)
PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("AUD-NC700", "Wireless Noise-Cancelling Headphones", 24999),
    ("AUD-EB200", "True Wireless Earbuds", 7999),
    ("ELE-SPK3", "Portable Bluetooth Speaker", 5999),
    ("ELE-CHG2", "65W USB-C Fast Charger", 3499),
    ("ELE-WCH1", "Fitness Smartwatch", 17999),
    ("ELE-PWB1", "10,000 mAh Power Bank", 2999),
    ("ELE-KBD4", "Mechanical Keyboard", 8999),
    ("ELE-MSE2", "Wireless Mouse", 2499),
    ("ELE-CAM1", "1080p Webcam", 4999),
    ("KIT-FP12", "12-inch Nonstick Frying Pan", 3999),
    ("KIT-KNF8", "8-inch Chef's Knife", 5499),
    ("KIT-CFM3", "Programmable Coffee Maker", 8999),
    ("KIT-BLD1", "High-Speed Blender", 12999),
    ("KIT-AFR5", "5-Quart Air Fryer", 9999),
    ("KIT-MUG4", "Ceramic Mug Set (4)", 2799),
    ("HOM-LMP2", "LED Desk Lamp", 3999),
    ("HOM-BLK5", "Weighted Blanket, 15 lb", 7499),
    ("HOM-PIL2", "Memory Foam Pillow (2-pack)", 4999),
    ("HOM-SHT1", "Queen Cotton Sheet Set", 6999),
    ("HOM-DIF1", "Essential Oil Diffuser", 2999),
    ("HOM-VAC9", "Cordless Stick Vacuum", 19999),
    ("OUT-TNT2", "2-Person Camping Tent", 11999),
    ("OUT-LNT1", "Rechargeable Camping Lantern", 2999),
    ("OUT-BTL3", "Insulated Water Bottle, 32 oz", 3499),
    ("OUT-PCK2", "Daypack Backpack, 28 L", 6499),
    ("FIT-YMT6", "Yoga Mat, 6 mm", 3499),
    ("FIT-DBL2", "Adjustable Dumbbells (pair)", 14999),
    ("FIT-RBD5", "Resistance Band Set", 1999),
    ("APP-RJK4", "Men's Rain Jacket", 8999),
    ("APP-SCF1", "Merino Wool Scarf", 3999),
    ("APP-BTS9", "Women's Hiking Boots", 12999),
    ("APP-SNK2", "Running Shoes", 10999),
    ("APP-HDY3", "Fleece Hoodie", 4999),
    ("BTY-SRM1", "Vitamin C Face Serum", 2899),
    ("BTY-HDR2", "Ionic Hair Dryer", 5999),
    ("TOY-BLK9", "Building Blocks Set, 500 pcs", 4499),
    ("TOY-PZL1", "1000-Piece Jigsaw Puzzle", 1999),
    ("BOK-CKB1", "Weeknight Dinners Cookbook", 2499),
    ("PET-BED2", "Orthopedic Dog Bed, Large", 6999),
    ("PET-FTN1", "Cat Water Fountain", 3499),
)
_PRODUCTS_BY_SKU = {sku: (sku, name, price) for sku, name, price in PRODUCTS}

# (city, state, area code, ZIP codes)
CITIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("New York", "NY", "212", ("10001", "10011", "10025", "10128")),
    ("Brooklyn", "NY", "718", ("11201", "11215", "11238")),
    ("Los Angeles", "CA", "213", ("90012", "90026", "90034")),
    ("San Diego", "CA", "619", ("92101", "92104", "92116")),
    ("San Francisco", "CA", "415", ("94110", "94117", "94122")),
    ("Sacramento", "CA", "916", ("95814", "95816", "95818")),
    ("Chicago", "IL", "312", ("60614", "60622", "60647")),
    ("Houston", "TX", "713", ("77006", "77008", "77019")),
    ("Austin", "TX", "512", ("78701", "78704", "78751")),
    ("Dallas", "TX", "214", ("75201", "75204", "75206")),
    ("Phoenix", "AZ", "602", ("85004", "85012", "85016")),
    ("Philadelphia", "PA", "215", ("19103", "19106", "19147")),
    ("Pittsburgh", "PA", "412", ("15213", "15217", "15222")),
    ("Columbus", "OH", "614", ("43201", "43206", "43215")),
    ("Cleveland", "OH", "216", ("44102", "44113", "44120")),
    ("Indianapolis", "IN", "317", ("46202", "46204", "46220")),
    ("Seattle", "WA", "206", ("98103", "98107", "98122")),
    ("Portland", "OR", "503", ("97202", "97214", "97232")),
    ("Denver", "CO", "720", ("80203", "80205", "80211")),
    ("Boston", "MA", "617", ("02116", "02130", "02215")),
    ("Atlanta", "GA", "404", ("30306", "30309", "30318")),
    ("Miami", "FL", "305", ("33131", "33137", "33145")),
    ("Orlando", "FL", "407", ("32801", "32803", "32806")),
    ("Nashville", "TN", "615", ("37203", "37206", "37212")),
    ("Charlotte", "NC", "704", ("28202", "28203", "28205")),
    ("Raleigh", "NC", "919", ("27601", "27605", "27608")),
    ("Minneapolis", "MN", "612", ("55406", "55408", "55414")),
    ("Detroit", "MI", "313", ("48201", "48207", "48226")),
    ("Milwaukee", "WI", "414", ("53202", "53207", "53211")),
    ("Kansas City", "MO", "816", ("64108", "64111", "64113")),
    ("St. Louis", "MO", "314", ("63104", "63110", "63118")),
    ("New Orleans", "LA", "504", ("70115", "70116", "70130")),
    ("Salt Lake City", "UT", "801", ("84102", "84105", "84111")),
    ("Las Vegas", "NV", "702", ("89101", "89104", "89117")),
    ("Albuquerque", "NM", "505", ("87102", "87106", "87110")),
    ("Baltimore", "MD", "410", ("21201", "21218", "21224")),
)

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Charles",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kevin",
    "Michelle",
    "Brian",
    "Carol",
    "Luis",
    "Sofia",
    "Carlos",
    "Camila",
    "Jamal",
    "Aaliyah",
    "Wei",
    "Mei",
    "Raj",
    "Priya",
    "Tyrone",
    "Keisha",
    "Diego",
    "Valentina",
    "Nguyen",
    "Hannah",
    "Omar",
    "Fatima",
    "Ethan",
    "Olivia",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Washington",
    "Brooks",
    "Reyes",
    "Foster",
    "Murphy",
    "Sullivan",
    "Okafor",
)
STREETS = (
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Walnut",
    "Sunset",
    "Highland",
    "Jefferson",
    "Lincoln",
    "Madison",
    "Franklin",
    "Chestnut",
    "Willow",
    "River",
)
STREET_TYPES = ("St", "Ave", "Blvd", "Dr", "Ln", "Rd", "Ct", "Way", "Pl")

CARRIER_WEIGHTS = {"UPS": 35, "FedEx": 30, "USPS": 25, "DHL": 10}
HUBS = {
    "UPS": ("Louisville, KY", "Hodgkins, IL", "Ontario, CA", "Mesquite, TX"),
    "FedEx": ("Memphis, TN", "Indianapolis, IN", "Oakland, CA", "Fort Worth, TX"),
    "USPS": (
        "Chicago, IL Network Distribution Center",
        "Dallas, TX Network Distribution Center",
        "Atlanta, GA Network Distribution Center",
        "Denver, CO Network Distribution Center",
    ),
    "DHL": ("Cincinnati Hub, KY", "Los Angeles Gateway, CA", "Chicago Gateway, IL"),
}
WAREHOUSES = ("Reno, NV", "Columbus, OH", "Allentown, PA", "Dallas, TX")
PAYMENT_WALLETS = ("PayPal", "Apple Pay", "Google Pay")
CARD_BRANDS = ("Visa", "Visa", "Mastercard", "Amex", "Discover")
DELAY_REASONS = (
    "Delayed: severe weather in the area",
    "Delayed: high package volume at the facility",
    "Delayed: missed connection to the next facility",
    "Delayed: transportation network disruption",
)
EXCEPTION_REASONS = (
    "Delivery exception: address could not be located",
    "Delivery exception: package damaged, carrier is inspecting it",
    "Delivery exception: recipient not available, no safe place to leave package",
    "Delivery exception: incorrect apartment or suite number",
)
REFUND_REASONS = (
    "Item arrived damaged",
    "Wrong size",
    "Changed my mind",
    "Item not as described",
    "Stopped working after a few days",
    "Ordered by mistake",
    "Arrived too late",
)
# Weights for the orders beyond the per-status minimum: a realistic mix, mostly delivered.
STATUS_WEIGHTS = {
    S.PENDING: 4,
    S.PAID: 5,
    S.PACKED: 5,
    S.SHIPPED: 6,
    S.IN_TRANSIT: 10,
    S.OUT_FOR_DELIVERY: 4,
    S.DELIVERED: 40,
    S.DELAYED: 4,
    S.EXCEPTION: 3,
    S.CANCELLED: 6,
    S.RETURNED: 4,
    S.REFUNDED: 5,
}


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(rng.uniform(low, high) * 60))


def _tracking_number(rng: random.Random, carrier: str) -> str:
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if carrier == "UPS":
        shipper = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(6))
        return f"1Z{shipper}{rng.choice(('01', '02', '03'))}{digits(8)}"
    if carrier == "FedEx":
        return digits(12)
    if carrier == "USPS":
        return "9400" + digits(18)
    return digits(10)


def _payment_method(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return rng.choice(PAYMENT_WALLETS)
    return f"{rng.choice(CARD_BRANDS)} ending {rng.randint(1000, 9999)}"


@dataclasses.dataclass
class _Scan:
    minutes_after_label: int
    location: str
    description: str
    code: str


def _route(rng: random.Random, carrier: str, destination: str) -> list[_Scan]:
    """The full chain of scans from label to the local delivery facility, as minute offsets."""
    origin, hub = rng.choice(WAREHOUSES), rng.choice(HUBS[carrier])
    t = 0
    scans = [_Scan(t, origin, "Shipping label created, carrier awaiting item", "label_created")]
    for gap, location, description, code in (
        (rng.uniform(2, 8), origin, f"Picked up by {carrier}", "picked_up"),
        (rng.uniform(2, 6), origin, "Departed origin facility", "departed_facility"),
        (rng.uniform(10, 22), hub, f"Arrived at {carrier} hub", "arrived_at_hub"),
        (rng.uniform(3, 9), hub, f"Departed {carrier} hub", "departed_hub"),
        (rng.uniform(10, 26), destination, "Arrived at local delivery facility", "arrived_at_facility"),
    ):
        t += round(gap * 60)
        scans.append(_Scan(t, location, description, code))
    return scans


def _ship(
    order: Order, rng: random.Random, carrier: str, scans: list[_Scan], last_at: datetime, expected: date
) -> None:
    """Attach a shipment whose last scan happens at `last_at`; the order was placed before the label."""
    label_at = last_at - timedelta(minutes=scans[-1].minutes_after_label)
    shipment = Shipment(
        carrier=carrier,
        tracking_number=_tracking_number(rng, carrier),
        shipped_at=label_at + timedelta(minutes=scans[1].minutes_after_label),
        expected_delivery=expected,
        events=[
            TrackingEvent(
                occurred_at=label_at + timedelta(minutes=s.minutes_after_label),
                location=s.location,
                description=s.description,
                code=s.code,
            )
            for s in scans
        ],
    )
    order.shipments.append(shipment)
    order.placed_at = label_at - _hours(rng, 4, 30)
    order.expected_delivery = expected


def _then(scans: list[_Scan], hours: float, location: str, description: str, code: str) -> list[_Scan]:
    return [*scans, _Scan(scans[-1].minutes_after_label + round(hours * 60), location, description, code)]


def _build_order(
    rng: random.Random,
    number: str,
    status: OrderStatus,
    customer: Customer,
    address: Address,
    items: list[tuple[str, str, int]],
    now: datetime,
    *,
    carrier: str | None = None,
    delivered_days_ago: int | None = None,
    refund: RefundStatus | None = None,
    incident: str | None = None,
) -> Order:
    order = Order(
        order_number=number,
        customer=customer,
        status=status,
        currency="USD",
        payment_method=_payment_method(rng),
        shipping_address=address,
        items=[
            OrderItem(sku=sku, name=name, quantity=1 if rng.random() < 0.8 else 2, unit_price_cents=price)
            for sku, name, price in items
        ],
    )
    order.total_cents = sum(i.quantity * i.unit_price_cents for i in order.items)
    today = now.date()
    carrier = carrier or rng.choices(list(CARRIER_WEIGHTS), weights=list(CARRIER_WEIGHTS.values()))[0]
    destination = f"{address.city}, {address.state}"
    scans = _route(rng, carrier, destination)
    transit_days = rng.randint(3, 5)

    if status in (S.PENDING, S.PAID, S.PACKED, S.CANCELLED):
        age = {S.PENDING: (1, 20), S.PAID: (4, 40), S.PACKED: (18, 60), S.CANCELLED: (24, 40 * 24)}[status]
        order.placed_at = now - _hours(rng, *age)
        order.expected_delivery = (
            None if status is S.CANCELLED else order.placed_at.date() + timedelta(days=1 + transit_days)
        )
    elif status is S.SHIPPED:
        _ship(order, rng, carrier, scans[:2], now - _hours(rng, 2, 20), today + timedelta(days=transit_days - 1))
    elif status is S.IN_TRANSIT:
        shown = scans[:4] if rng.random() < 0.5 else scans[:5]
        _ship(order, rng, carrier, shown, now - _hours(rng, 1, 12), today + timedelta(days=rng.randint(1, 3)))
    elif status is S.OUT_FOR_DELIVERY:
        chain = _then(scans, rng.uniform(4, 10), destination, "Out for delivery", "out_for_delivery")
        _ship(order, rng, carrier, chain, now - _hours(rng, 2, 6), today)
    elif status is S.DELAYED:
        incident = incident or rng.choice(DELAY_REASONS)
        chain = _then(scans[:4], rng.uniform(6, 20), scans[3].location, incident, "delayed")
        _ship(order, rng, carrier, chain, now - _hours(rng, 3, 30), today + timedelta(days=rng.randint(2, 4)))
    elif status is S.EXCEPTION:
        chain = _then(scans, rng.uniform(4, 10), destination, "Out for delivery", "out_for_delivery")
        incident = incident or rng.choice(EXCEPTION_REASONS)
        chain = _then(chain, rng.uniform(2, 8), destination, incident, "exception")
        _ship(order, rng, carrier, chain, now - _hours(rng, 3, 30), today + timedelta(days=rng.randint(1, 3)))
    else:  # delivered, returned, refunded
        if delivered_days_ago is None:
            low, high = {S.DELIVERED: (1, 75), S.RETURNED: (8, 35), S.REFUNDED: (12, 80)}[status]
            delivered_days_ago = rng.randint(low, high)
        chain = _then(scans, rng.uniform(4, 10), destination, "Out for delivery", "out_for_delivery")
        chain = _then(chain, rng.uniform(2, 7), destination, "Delivered, left at front door", "delivered")
        delivered_at = now - timedelta(days=delivered_days_ago) - _hours(rng, 0, 6)
        _ship(order, rng, carrier, chain, delivered_at, delivered_at.date() + timedelta(days=rng.randint(0, 1)))
        order.delivered_at = delivered_at

    if refund is not None:
        order.refunds.append(_make_refund(rng, order, refund, now))
    order.updated_at = max(
        [
            order.placed_at,
            *(e.occurred_at for s in order.shipments for e in s.events),
            *(t for r in order.refunds for t in (r.requested_at, r.completed_at) if t),
        ]
    )
    return order


def _random_refund(rng: random.Random, status: OrderStatus) -> RefundStatus | None:
    """Refunds that fit the status: always for returned/refunded, sometimes for cancelled/delivered."""
    if status is S.REFUNDED:
        return RefundStatus.COMPLETED
    if status is S.RETURNED:
        return rng.choice((RefundStatus.APPROVED, RefundStatus.PROCESSING))
    if status is S.CANCELLED and rng.random() < 0.6:
        return RefundStatus.COMPLETED
    if status is S.DELIVERED and rng.random() < 0.15:
        return rng.choice(list(RefundStatus))
    return None


def _make_refund(rng: random.Random, order: Order, status: RefundStatus, now: datetime) -> Refund:
    if order.status is S.CANCELLED:
        requested_at = order.placed_at + _hours(rng, 1, 20)
        reason, method = "Order cancelled", "original_payment"
    else:
        assert order.delivered_at is not None
        requested_at = min(order.delivered_at + _hours(rng, 6, 24 * 6), now - _hours(rng, 1, 12))
        reason = rng.choice(REFUND_REASONS)
        method = "store_credit" if rng.random() < 0.15 else "original_payment"
    refund = Refund(
        amount_cents=order.total_cents,
        status=status,
        method=method,
        requested_at=requested_at,
        reason=reason,
    )
    if status is RefundStatus.COMPLETED:
        refund.completed_at = requested_at + _hours(rng, 48, 24 * 7)
        if refund.completed_at > now:
            refund.completed_at = requested_at + timedelta(
                minutes=round((now - requested_at).total_seconds() / 60 * rng.uniform(0.3, 0.9))
            )
    elif status is not RefundStatus.REJECTED:
        refund.expected_by = max(requested_at.date(), now.date()) + timedelta(days=rng.randint(3, 10))
    if status is not RefundStatus.REJECTED and order.status is S.DELIVERED and len(order.items) > 1:
        refund.amount_cents = order.items[0].unit_price_cents  # a partial refund for one item
    return refund


def _status_plan(rng: random.Random, total: int) -> list[OrderStatus]:
    """Random statuses that, together with the fixed orders, give every status its minimum."""
    fixed = Counter(o.status for o in FIXED_ORDERS)
    plan = [s for s in S for _ in range(max(MIN_PER_STATUS - fixed[s], 0))]
    extra = max(total - len(FIXED_ORDERS) - len(plan), 0)
    plan += rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=extra)
    rng.shuffle(plan)
    return plan


def _random_address(rng: random.Random, city: tuple[str, str, str, tuple[str, ...]]) -> Address:
    line = f"{rng.randint(12, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
    if rng.random() < 0.2:
        line += f" Apt {rng.randint(1, 30)}{rng.choice('ABCDEF')}"
    return Address(line=line, city=city[0], state=city[1], postcode=rng.choice(city[3]))


def _random_customer(rng: random.Random) -> tuple[Customer, Address]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city = rng.choice(CITIES)
    customer = Customer(
        first_name=first,
        last_name=last,
        phone=f"+1{city[2]}555{rng.randint(100, 199):04d}",
        email=f"{first}.{last}{rng.randint(1, 99)}@example.com".lower(),
        tier=CustomerTier.VIP if rng.random() < 0.1 else CustomerTier.STANDARD,
        language="en",
    )
    return customer, _random_address(rng, city)


def _fixed_order(demo: DemoOrder, now: datetime) -> Order:
    rng = random.Random(int(demo.number))
    customer = Customer(
        first_name=demo.first_name,
        last_name=demo.last_name,
        phone=demo.phone,
        email=f"{demo.first_name}.{demo.last_name}@example.com".lower(),
        tier=CustomerTier.STANDARD,
        language="en",
    )
    address = Address(demo.line, demo.city, demo.state, demo.postcode)
    items = [_PRODUCTS_BY_SKU[sku] for sku in demo.skus]
    return _build_order(
        rng,
        demo.number,
        demo.status,
        customer,
        address,
        items,
        now,
        carrier=demo.carrier,
        delivered_days_ago=demo.delivered_days_ago,
        refund=demo.refund,
        incident=demo.incident,
    )


def build_demo_data(settings: Settings, today: date | None = None) -> tuple[list[Customer], list[Order]]:
    """All demo customers and orders (with items, shipments and refunds), orders oldest first."""
    today = today or date.today()
    # Mid-morning in the continental US, so "today" scans are plausible whatever the time zone.
    now = datetime.combine(today, time(16, 0), tzinfo=UTC)
    rng = random.Random(settings.seed)

    orders = [_fixed_order(demo, now) for demo in FIXED_ORDERS]
    customer_count = max(settings.seed_orders // 2 - len(FIXED_ORDERS), 10)
    homes = [_random_customer(rng) for _ in range(customer_count)]
    customers = [o.customer for o in orders] + [customer for customer, _ in homes]

    taken = {o.order_number for o in orders}
    for status in _status_plan(rng, settings.seed_orders):
        number = str(rng.randint(200000, 999999))
        while number in taken:
            number = str(rng.randint(200000, 999999))
        taken.add(number)
        customer, home = rng.choice(homes)
        # Most orders go to the customer's home; some are gifts shipped elsewhere.
        address = home if rng.random() < 0.85 else _random_address(rng, rng.choice(CITIES))
        items = rng.sample(PRODUCTS, k=rng.choices((1, 2, 3), weights=(6, 3, 1))[0])
        refund = _random_refund(rng, status)
        orders.append(_build_order(rng, number, status, customer, address, items, now, refund=refund))
    orders.sort(key=lambda o: (o.placed_at, o.order_number))
    return customers, orders


def seed_demo_data(session: Session, settings: Settings, today: date | None = None) -> dict[str, int]:
    """Add the demo data to `session` (the caller commits) and return how much was added."""
    customers, orders = build_demo_data(settings, today)
    session.add_all(customers)
    session.add_all(orders)
    session.flush()
    return {"customers": len(customers), "orders": len(orders)}
