"""Request and response bodies of the HTTP contract (docs/api-v1 is binding)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from omniorder.domain.delivery import zone
from omniorder.domain.model import LocationType, Role, ServiceLevel

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
Identifier = Annotated[
    str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=64, strict=True)
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]
Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False, strict=True)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

T = TypeVar("T")


class Input(BaseModel):
    """Request bodies. Scalars use strict types: "0" is not 0 and 0 is not false."""


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


class FieldProblem(BaseModel):
    field: str
    message: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


# -- catalog -------------------------------------------------------------------------------
def _iso_text(value: object) -> object:
    """Dates come as ISO text ('2026-12-01'), not numbers (which pydantic would read as a
    Unix time)."""
    if not isinstance(value, str):
        raise ValueError("a date as text, YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]


def _iso_datetime(value: object) -> object:
    """Times come as ISO 8601 text with an offset ('2026-11-23T10:00:00Z'), not numbers."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 time, e.g. 2026-11-23T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError("an ISO 8601 time, e.g. 2026-11-23T10:00:00Z") from exc
    if parsed.tzinfo is None:
        raise ValueError("a time needs an offset, e.g. Z or +02:00")
    return parsed


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekdays() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class LocationIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: LocationType
    latitude: Latitude
    longitude: Longitude
    country: Country | None = None
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    can_ship: StrictBool = True
    can_pickup: StrictBool = False
    daily_capacity: Count | None = Field(
        default=None, description="Fulfillments per day; null = unlimited."
    )
    handling_cost: Money = Field(default=0.0, description="Extra cost per fulfillment here.")
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000, strict=True)] = Field(
        default=0, description="Higher is preferred on ties."
    )
    active: StrictBool = True
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        default="UTC", description="IANA time zone of the cut-off, e.g. America/Chicago."
    )
    cutoff: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = Field(
        default="15:00", description="Local time (HH:MM) after which orders ship a day later."
    )
    working_days: list[Weekday] = Field(default_factory=_weekdays, min_length=1, max_length=7)
    closed_dates: list[IsoDate] = Field(
        default_factory=list, max_length=366, description="Dates the location does not ship."
    )
    handling_days: Annotated[int, Field(ge=0, le=30, strict=True)] = Field(
        default=1, description="Working days from the start of handling to shipping."
    )

    @model_validator(mode="after")
    def _known_zone(self) -> LocationIn:
        try:
            zone(self.timezone)
        except ValueError as exc:
            raise ValueError(f"timezone: {exc}") from exc
        return self


class LocationOut(LocationIn):
    id: str


class ProductIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    weight_kg: (
        Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False, strict=True)] | None
    ) = None


class ProductOut(ProductIn):
    sku: str


class ProfileIn(Input):
    shipment_cost: Money = 8.759
    unit_cost: Money = 0.423
    unit_km_cost: Money = 0.000336
    backorder_penalty: Money = 40.0
    max_distance_km: (
        Annotated[float, Field(gt=0, le=50_000, allow_inf_nan=False, strict=True)] | None
    ) = None
    location_types: list[LocationType] = Field(
        default_factory=lambda: list(LocationType), min_length=1, max_length=4
    )
    allow_split: StrictBool = True
    max_fulfillments: Annotated[int, Field(ge=1, le=500, strict=True)] | None = None
    late_day_cost: Money = Field(
        default=0.0,
        description="Cost per day a fulfillment arrives after the order's `promise_by`.",
    )


class ProfileOut(ProfileIn):
    name: str
    version: int


class ProfileVersionOut(ProfileOut):
    created_at: datetime | None = Field(
        description="When this version was stored; null for the built-in version 0 of `default`."
    )


class ChannelIn(Input):
    sourcing_profile: Identifier = Field(
        description="The profile for the channel's orders that name none; it must exist."
    )


class ChannelOut(BaseModel):
    id: str
    sourcing_profile: str
    created_at: datetime
    updated_at: datetime


# -- inventory -----------------------------------------------------------------------------
class PositionIn(Input):
    on_hand: Count
    safety_stock: Count | None = None


class PositionOut(BaseModel):
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class SnapshotItem(Input):
    location_id: Identifier
    sku: Identifier
    on_hand: Count
    safety_stock: Count | None = None


class SnapshotIn(Input):
    items: list[SnapshotItem] = Field(max_length=10_000)
    sequence: Annotated[int, Field(ge=0, le=2**62, strict=True)] | None = Field(
        default=None,
        description="Per-location feed sequence: a snapshot older than the last applied one "
        "for any of its locations is refused with 409.",
    )
    mode: Literal["delta", "full"] = Field(
        default="delta",
        description="'full': the snapshot is the whole stock of `location_id`; unlisted SKUs "
        "there go to 0.",
    )
    location_id: Identifier | None = None

    @model_validator(mode="after")
    def _full_needs_location(self) -> SnapshotIn:
        if self.mode == "full" and self.location_id is None:
            raise ValueError("mode 'full' needs location_id")
        return self


class SnapshotOut(BaseModel):
    applied: int
    changed: int
    zeroed: int
    sequence: int | None


class AdjustmentIn(Input):
    location_id: Identifier
    sku: Identifier
    delta: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000, strict=True)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _nonzero(self) -> AdjustmentIn:
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class LedgerEntryOut(BaseModel):
    id: int
    location_id: str
    sku: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    reference: str | None
    created_at: datetime


class LocationAvailabilityOut(BaseModel):
    location_id: str
    available: int
    distance_km: float | None


class IncomingAvailabilityOut(BaseModel):
    location_id: str
    quantity: int
    expected_date: date


class SkuAvailabilityOut(BaseModel):
    sku: str
    available: int
    locations: list[LocationAvailabilityOut]
    incoming: list[IncomingAvailabilityOut] = Field(
        description="Supply on its way (not received yet), earliest first."
    )


class AvailabilityOut(BaseModel):
    items: list[SkuAvailabilityOut]


# -- orders --------------------------------------------------------------------------------
class LineIn(Input):
    sku: Identifier
    quantity: Quantity


class ShipTo(Input):
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    country: Country | None = None

    @model_validator(mode="after")
    def _point_or_zip(self) -> ShipTo:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude")
        if self.latitude is None and self.postal_code is None:
            raise ValueError("give latitude and longitude, or postal_code and country")
        return self


class OrderIn(Input):
    channel: Identifier
    external_id: Identifier
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    ship_to: ShipTo | None = None
    service_level: ServiceLevel = ServiceLevel.STANDARD
    pickup_location_id: Identifier | None = None
    promise_id: Identifier | None = Field(
        default=None,
        description="A held promise (`POST /v1/promises`): the order takes exactly its units.",
    )
    promise_by: IsoDate | None = Field(
        default=None,
        description="The delivery date promised at checkout; with a profile's `late_day_cost` "
        "the engine weighs lateness against it.",
    )
    hold_reason: Literal["payment", "fraud", "manual"] | None = Field(
        default=None,
        description="Capture the order on hold: its units are reserved, nothing ships until "
        "`POST /v1/orders/{id}/release`.",
    )
    sourcing_profile: Identifier | None = Field(
        default=None,
        description="The profile that decides where the order ships from; by default the "
        "channel's (`PUT /v1/channels/{channel}`), or `default`.",
    )


class OrderLineOut(BaseModel):
    sku: str
    quantity: int
    allocated: int
    backordered: int
    cancelled: int
    shipped: int
    returned: int = Field(description="Of the shipped units, how many came back.")
    backorder_expected_date: date | None = Field(
        default=None,
        description="When the backordered units are expected from incoming supply (served "
        "oldest order first); null when none is expected to cover them.",
    )


class FulfillmentLineOut(BaseModel):
    sku: str
    quantity: int


class FulfillmentOut(BaseModel):
    id: str
    order_id: str
    location_id: str
    state: str
    lines: list[FulfillmentLineOut]
    distance_km: float | None
    estimated_delivery_date: date | None
    carrier: str | None
    tracking_number: str | None
    accept_by: datetime | None = Field(
        description="A pending fulfillment not accepted by then is re-routed."
    )
    expires_at: datetime | None = Field(
        description="A pickup not collected by then expires and its units are released."
    )
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime


class ShipToOut(BaseModel):
    latitude: float
    longitude: float
    postal_code: str | None
    country: str | None


class OrderOut(BaseModel):
    id: str
    channel: str
    external_id: str
    status: str
    service_level: str
    ship_to: ShipToOut | None
    pickup_location_id: str | None
    sourcing_profile: str
    promise_by: date | None = None
    hold_reason: str | None
    reroutes: int = Field(description="Fulfillments of the order rejected or timed out so far.")
    lines: list[OrderLineOut]
    fulfillments: list[FulfillmentOut]
    created_at: datetime
    updated_at: datetime


Note = Annotated[str, StringConstraints(max_length=500)]


class RejectIn(Input):
    reason: Literal["out_of_stock", "damaged", "capacity", "other"]
    lines: list[LineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Only these units are rejected (the rest stays); without: all of them.",
    )
    note: Note | None = None


class ShipIn(Input):
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class FulfillmentCancelIn(Input):
    reason: Note | None = None


class ReturnIn(Input):
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    location_id: Identifier = Field(description="Where the units came back.")
    restock: StrictBool = Field(
        description="Whether the units go back into on_hand there (and may serve backorders)."
    )
    reason: Note | None = None


class ReturnOut(BaseModel):
    id: str
    order_id: str
    location_id: str
    lines: list[FulfillmentLineOut]
    restock: bool
    reason: str | None
    created_at: datetime


class IncomingIn(Input):
    location_id: Identifier
    sku: Identifier
    quantity: Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
    expected_date: IsoDate
    reference: Note | None = None


class IncomingOut(BaseModel):
    id: str
    location_id: str
    sku: str
    quantity: int
    expected_date: date
    reference: str | None
    received_quantity: int | None
    received_at: datetime | None
    created_at: datetime


class ReceiveIn(Input):
    quantity: Annotated[int, Field(ge=0, le=10_000_000, strict=True)] | None = Field(
        default=None, description="Units that arrived (default: all that were expected)."
    )


class PromiseIn(Input):
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    ship_to: ShipTo | None = None
    service_levels: list[ServiceLevel] = Field(
        default_factory=lambda: list(ServiceLevel), min_length=1, max_length=3
    )
    hold_seconds: Annotated[int, Field(ge=1, le=900, strict=True)] | None = Field(
        default=None, description="Reserve the units of one option for this long."
    )
    hold_option: Annotated[int, Field(ge=0, le=20, strict=True)] | None = Field(
        default=None, description="Which option to hold (default: the first complete one)."
    )


class PromiseOptionOut(BaseModel):
    service_level: str
    complete: bool
    cost: float
    fulfillments: list[dict[str, Any]]
    estimated_delivery_date: date | None = None
    pickup_location_id: str | None = None
    pickup_ready_at: date | None = None


class PromiseOut(BaseModel):
    promise_id: str | None
    expires_at: datetime | None
    held_option: int | None = None
    options: list[PromiseOptionOut]


class HoldIn(Input):
    reason: Literal["payment", "fraud", "manual"]


class CancelIn(Input):
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=500)
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class SourcingTraceOut(BaseModel):
    order_id: str
    rounds: list[dict[str, Any]]


# -- events, keys --------------------------------------------------------------------------
class EventOut(BaseModel):
    seq: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]


class EventsOut(BaseModel):
    items: list[EventOut]
    next_after: int


class ApiKeyIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Role
    location_ids: list[Identifier] | None = Field(default=None, max_length=10_000)
    channel: Identifier | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    channel: str | None
    location_ids: list[str] | None
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="Shown once; store it now.")


Problem.model_rebuild()
