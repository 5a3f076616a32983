"""The entities of omniorder as plain dataclasses: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from omniorder.domain.geo import GeoPoint


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

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(self.latitude, self.longitude)


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
