"""The entities of omniorder as plain dataclasses: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(slots=True)
class OrderLine:
    sku: str
    quantity: int
    allocated: int = 0
    backordered: int = 0
    cancelled: int = 0
    shipped: int = 0
    #: Of the shipped units, how many came back.
    returned: int = 0
    #: When the backordered units are expected, from incoming supply (not stored: computed
    #: when the order is read; None when no expected supply covers them).
    backorder_expected_date: date | None = None


@dataclass(slots=True)
class FulfillmentLine:
    sku: str
    quantity: int


@dataclass(slots=True)
class Fulfillment:
    id: str
    order_id: str
    location_id: str
    state: str
    lines: list[FulfillmentLine]
    distance_km: float | None
    estimated_delivery_date: date | None
    created_at: datetime
    updated_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None
    accept_by: datetime | None = None
    expires_at: datetime | None = None
    rejection_reason: str | None = None


@dataclass(slots=True)
class Order:
    id: str
    channel: str
    external_id: str
    status: str
    service_level: ServiceLevel
    lines: list[OrderLine]
    created_at: datetime
    updated_at: datetime
    ship_to: GeoPoint | None = None
    ship_to_postal_code: str | None = None
    ship_to_country: str | None = None
    pickup_location_id: str | None = None
    sourcing_profile: str = "default"
    fulfillments: list[Fulfillment] = field(default_factory=list)
    hold_reason: str | None = None
    reroutes: int = 0
    promise_by: date | None = None
