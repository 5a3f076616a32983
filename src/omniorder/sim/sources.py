"""Networks and orders for the simulator from CSV files or from omniorder's database.

CSV files (a directory; header row, comma separated, UTF-8):

* ``locations.csv``: ``id,name,type,latitude,longitude`` and optionally ``can_ship``,
  ``can_pickup``, ``handling_cost``, ``priority``, ``timezone``, ``cutoff``,
  ``working_days`` (``mon,tue,...`` quoted), ``handling_days``, ``country``;
* ``stock.csv``: ``location_id,sku,on_hand`` and optionally ``reserved``, ``safety_stock``;
* ``products.csv`` (optional): ``sku,weight_kg``;
* ``orders.csv`` (optional; without it demand is generated): one row per order line,
  ``order_id,sku,quantity`` and ``service_level`` (standard, express, pickup),
  ``latitude,longitude`` (shipped orders), ``pickup_location_id`` (pickups), optionally
  ``placed_at`` (ISO 8601) and ``promise_by`` (ISO date). Orders are replayed in the order
  of ``placed_at`` when every order has one, else in file order.

From the database: the locations (inactive ones are never candidates), each position's
available units and the product weights; ``replay`` also reads the orders placed (all but
cancelled ones, oldest first) with the plans they were given, and gives back to the stock
what those orders took, so they are routed again from the pool they drew from. (Stock
received or returned between the orders and the replay is in that pool too.)
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from omniorder.db.uow import UnitOfWork
from omniorder.demo.network import DemoOrder
from omniorder.domain.delivery import zone
from omniorder.domain.model import Location, LocationType, ServiceLevel
from omniorder.domain.sourcing import Allocation
from omniorder.sim.network import SimNetwork

T = TypeVar("T")


class SimInputError(ValueError):
    """A CSV file or the database cannot be read as a network or orders (the message says
    which file, line and field)."""


@dataclass(frozen=True, slots=True)
class Routed:
    """How a stored order was actually routed: its live fulfillments and backordered units."""

    allocations: tuple[Allocation, ...]
    backordered: tuple[tuple[str, int], ...]


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise SimInputError(f"{path}: missing column(s) {', '.join(missing)}")
            for n, row in enumerate(reader, start=2):
                yield n, {k: (v or "").strip() for k, v in row.items() if k is not None}
    except OSError as exc:
        raise SimInputError(f"{path}: {exc.strerror or exc}") from exc


def _field(
    path: Path, n: int, row: dict[str, str], name: str, parse: Callable[[str], T], default: T
) -> T:
    raw = row.get(name, "")
    if raw == "":
        return default
    try:
        return parse(raw)
    except (ValueError, KeyError) as exc:
        raise SimInputError(f"{path}:{n}: {name} '{raw}' is not valid ({exc})") from exc


def _bool(raw: str) -> bool:
    low = raw.lower()
    if low in ("1", "true", "yes", "y"):
        return True
    if low in ("0", "false", "no", "n"):
        return False
    raise ValueError("expected true or false")


def _count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _latitude(raw: str) -> float:
    value = float(raw)
    if not -90 <= value <= 90:
        raise ValueError("must be within -90..90")
    return value


def _longitude(raw: str) -> float:
    value = float(raw)
    if not -180 <= value <= 180:
        raise ValueError("must be within -180..180")
    return value


def _cutoff(raw: str) -> str:
    hours, minutes = (int(x) for x in raw.split(":"))
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError("expected HH:MM")
    return f"{hours:02d}:{minutes:02d}"


def _timezone(raw: str) -> str:
    zone(raw)
    return raw


def _instant(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_csv_network(directory: Path, country: str = "US") -> SimNetwork:
    """The network in ``directory`` (locations.csv, stock.csv, products.csv)."""
    path = directory / "locations.csv"
    locations: list[Location] = []
    seen: set[str] = set()
    for n, row in _rows(path, ("id", "name", "type", "latitude", "longitude")):
        loc_id = row["id"]
        if not loc_id or loc_id in seen:
            raise SimInputError(f"{path}:{n}: id '{loc_id}' is empty or repeated")
        seen.add(loc_id)
        kind = _field(path, n, row, "type", LocationType, LocationType.WAREHOUSE)
        locations.append(
            Location(
                id=loc_id,
                name=row["name"] or loc_id,
                type=kind,
                latitude=_field(path, n, row, "latitude", _latitude, 0.0),
                longitude=_field(path, n, row, "longitude", _longitude, 0.0),
                country=row.get("country") or country,
                can_ship=_field(path, n, row, "can_ship", _bool, True),
                can_pickup=_field(path, n, row, "can_pickup", _bool, kind is LocationType.STORE),
                handling_cost=_field(path, n, row, "handling_cost", float, 0.0),
                priority=_field(path, n, row, "priority", int, 0),
                timezone=_field(path, n, row, "timezone", _timezone, "UTC"),
                cutoff=_field(path, n, row, "cutoff", _cutoff, "15:00"),
                working_days=row.get("working_days") or "mon,tue,wed,thu,fri",
                handling_days=_field(path, n, row, "handling_days", _count, 1),
            )
        )
    if not locations:
        raise SimInputError(f"{path}: no locations")
    path = directory / "stock.csv"
    stock: dict[str, dict[str, int]] = {loc.id: {} for loc in locations}
    for n, row in _rows(path, ("location_id", "sku", "on_hand")):
        if row["location_id"] not in stock:
            raise SimInputError(f"{path}:{n}: unknown location_id '{row['location_id']}'")
        if not row["sku"]:
            raise SimInputError(f"{path}:{n}: sku is empty")
        on_hand = _field(path, n, row, "on_hand", _count, 0)
        held = _field(path, n, row, "reserved", _count, 0)
        held += _field(path, n, row, "safety_stock", _count, 0)
        if on_hand - held > 0:
            stock[row["location_id"]][row["sku"]] = on_hand - held
    weights: dict[str, float] = {}
    path = directory / "products.csv"
    if path.exists():
        for n, row in _rows(path, ("sku", "weight_kg")):
            weights[row["sku"]] = _field(path, n, row, "weight_kg", float, 1.0)
    return SimNetwork(country, tuple(locations), stock, weights)


def load_csv_orders(path: Path, network: SimNetwork) -> list[DemoOrder]:
    """The orders of ``path`` (one row per line), checked against ``network``."""
    known = {loc.id for loc in network.locations}
    heads: dict[str, dict[str, Any]] = {}
    for n, row in _rows(path, ("order_id", "sku", "quantity")):
        oid = row["order_id"]
        if not oid or not row["sku"]:
            raise SimInputError(f"{path}:{n}: order_id and sku must not be empty")
        qty = _field(path, n, row, "quantity", _positive, 0)
        head = heads.get(oid)
        if head is None:
            level = _field(path, n, row, "service_level", ServiceLevel, ServiceLevel.STANDARD)
            ship_to = None
            pickup = row.get("pickup_location_id") or None
            if level is ServiceLevel.PICKUP:
                if pickup not in known:
                    raise SimInputError(
                        f"{path}:{n}: a pickup needs a pickup_location_id of locations.csv"
                    )
            else:
                lat = _field(path, n, row, "latitude", _latitude, None)
                lon = _field(path, n, row, "longitude", _longitude, None)
                if lat is None or lon is None:
                    raise SimInputError(f"{path}:{n}: a shipped order needs latitude, longitude")
                ship_to = (lat, lon)
                pickup = None
            head = heads[oid] = {
                "level": level,
                "ship_to": ship_to,
                "pickup": pickup,
                "placed_at": _field(path, n, row, "placed_at", _instant, None),
                "promise_by": _field(path, n, row, "promise_by", date.fromisoformat, None),
                "lines": {},
            }
        head["lines"][row["sku"]] = head["lines"].get(row["sku"], 0) + qty
    orders = [
        DemoOrder(
            "csv",
            oid,
            tuple(h["lines"].items()),
            h["ship_to"],
            h["level"].value,
            h["pickup"],
            h["placed_at"],
            h["promise_by"],
        )
        for oid, h in heads.items()
    ]
    if orders and all(o.placed_at is not None for o in orders):
        orders.sort(key=lambda o: o.placed_at or datetime.min)
    return orders


def load_database_network(uow: UnitOfWork, country: str = "US") -> SimNetwork:
    """The network as it stands: locations, available units, product weights."""
    locations = tuple(uow.reports.locations())
    stock: dict[str, dict[str, int]] = {loc.id: {} for loc in locations}
    for location_id, sku, free in uow.reports.free_stock():
        if location_id in stock:
            stock[location_id][sku] = free
    countries = [loc.country for loc in locations if loc.country]
    if countries:
        country = max(set(countries), key=countries.count)
    return SimNetwork(country, locations, stock, uow.reports.product_weights())


def load_database_orders(
    uow: UnitOfWork, network: SimNetwork
) -> tuple[SimNetwork, list[DemoOrder], dict[str, Routed]]:
    """The stored orders (oldest first), how each was routed, and ``network`` with what they
    took given back to its stock."""
    placed = uow.reports.placed_orders()
    stock = network.stock_copy()
    for p in placed:
        for loc_id, (taken, _) in p.taken.items():
            held = stock.setdefault(loc_id, {})
            for sku, units in taken.items():
                held[sku] = held.get(sku, 0) + units
    orders: list[DemoOrder] = []
    routed: dict[str, Routed] = {}
    for p in placed:
        is_pickup = p.service_level == ServiceLevel.PICKUP.value
        ship_to = None if is_pickup else p.ship_to
        if not is_pickup and ship_to is None:
            continue
        orders.append(
            DemoOrder(
                p.channel,
                p.id,
                p.lines,
                ship_to,
                p.service_level,
                p.pickup_location_id,
                p.placed_at,
                p.promise_by,
            )
        )
        routed[p.id] = Routed(
            tuple(
                Allocation(loc_id, tuple(sorted(taken.items())), km)
                for loc_id, (taken, km) in sorted(p.taken.items())
            ),
            p.backordered,
        )
    pool = SimNetwork(network.country, network.locations, stock, network.weights)
    return pool, orders, routed
