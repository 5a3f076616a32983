"""The entities of omniorder as plain dataclasses: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from omniorder.domain.geo import GeoPoint

if TYPE_CHECKING:
    from omniorder.domain.delivery import ShippingCalendar


class LocationType(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    DROPSHIP = "dropship"
    THIRD_PARTY = "3pl"


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    PICKUP = "pickup"


class Role(StrEnum):
    ADMIN = "admin"
    CHANNEL = "channel"
    LOCATION = "location"
    INTEGRATION = "integration"


@lru_cache(maxsize=4096)
def _calendar(
    timezone: str, cutoff: str, working_days: str, closed: tuple[date, ...], handling_days: int
) -> ShippingCalendar:
    from omniorder.domain.delivery import ShippingCalendar, parse_weekdays

    hours, minutes = (int(x) for x in cutoff.split(":"))
    return ShippingCalendar(
        timezone=timezone,
        cutoff=time(hours, minutes),
        working_days=parse_weekdays(tuple(d for d in working_days.split(",") if d)),
        closed_dates=frozenset(closed),
        handling_days=handling_days,
    )


@dataclass(slots=True)
class Location:
    id: str
    name: str
    type: LocationType
    latitude: float
    longitude: float
    country: str | None = None
    postal_code: str | None = None
    can_ship: bool = True
    can_pickup: bool = False
    daily_capacity: int | None = None
    handling_cost: float = 0.0
    priority: int = 0
    active: bool = True
    #: The shipping calendar: IANA time zone, daily cut-off (local HH:MM), working days,
    #: closed dates, handling days (see domain/delivery.py).
    timezone: str = "UTC"
    cutoff: str = "15:00"
    working_days: str = "mon,tue,wed,thu,fri"
    closed_dates: tuple[date, ...] = ()
    handling_days: int = 1

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(self.latitude, self.longitude)

    @property
    def calendar(self) -> ShippingCalendar:
        return _calendar(
            self.timezone, self.cutoff, self.working_days, self.closed_dates, self.handling_days
        )


@dataclass(slots=True)
class Product:
    sku: str
    name: str
    weight_kg: float | None = None


#: The largest stock count (on hand, reserved, safety stock) a position holds: a change that
#: would pass it is refused.
MAX_STOCK = 2_147_483_647


@dataclass(slots=True)
class StockPosition:
    location_id: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(frozen=True, slots=True)
class Address:
    """Where the parcel goes, stored as the channel gave it (the point to route to is the
    order's ``ship_to``)."""

    name: str | None = None
    company: str | None = None
    address_lines: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """Supply on its way to a location (a purchase order, a transfer), received into on_hand."""

    id: str
    location_id: str
    sku: str
    quantity: int
    expected_date: date
    reference: str | None
    received_quantity: int | None
    received_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Return:
    """Units of a shipped order that came back to a location."""

    id: str
    order_id: str
    location_id: str
    lines: tuple[tuple[str, int], ...]
    restock: bool
    reason: str | None
    created_at: datetime
