"""Orders: capture, the order and its fulfillments as read back, cancellations, holds, returns,
promises and the sourcing trace."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from omniorder.api.schemas.common import (
    Country,
    Identifier,
    Input,
    IsoDate,
    Latitude,
    Longitude,
    Note,
    Quantity,
)
from omniorder.domain.currencies import CURRENCIES
from omniorder.domain.model import ServiceLevel

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strict=True)]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, strict=True)]
Phone = Annotated[
    str,
    StringConstraints(pattern=r"^[+(]?[0-9][0-9A-Za-z +()./#*,;-]{1,38}$", strict=True),
    Field(description="A phone number as written, e.g. +1 212 555 0100."),
]
Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", max_length=254, strict=True)
]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=500, strict=True)]
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=50,
        description="The channel's own fields (ids, notes, gift messages): at most 50 string "
        "keys of 1 to 64 characters, each with a string value of at most 500 characters. Stored "
        "and returned as given.",
    ),
]
DecimalText = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$", strict=True),
    Field(
        description='A decimal number as text, e.g. "19.90" (at most 12 digits before the '
        "point and 6 after), in the order's currency.",
        examples=["19.90"],
    ),
]


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code (e.g. USD, EUR, GBP)")
    return code


Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$", strict=True),
    AfterValidator(_known_currency),
]


class LineIn(Input):
    sku: Identifier
    quantity: Quantity


class OrderLineIn(LineIn):
    name: Name | None = Field(default=None, description="The product's name on the order.")
    unit_price: DecimalText | None = None
    metadata: Metadata = Field(default_factory=dict)


class ShipTo(Input):
    """Where the order goes: the point to route to, and the address and contact a location
    needs to ship it."""

    latitude: Latitude | None = None
    longitude: Longitude | None = None
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    country: Country | None = None
    name: Name | None = None
    company: Name | None = None
    address_lines: list[Name] = Field(default_factory=list, max_length=3)
    city: Text100 | None = None
    region: Text100 | None = Field(default=None, description="State, province or county.")
    phone: Phone | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _point_or_zip(self) -> ShipTo:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude")
        if self.latitude is None and self.postal_code is None:
            raise ValueError("give latitude and longitude, or postal_code and country")
        return self


class CustomerIn(Input):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class OrderIn(Input):
    channel: Identifier
    external_id: Identifier
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    ship_to: ShipTo | None = Field(
        default=None,
        description="Required for shipped orders. Coordinates come from latitude/longitude "
        "when given, else from the postal code (US ZIP codes only: elsewhere send coordinates).",
    )
    service_level: ServiceLevel = ServiceLevel.STANDARD
    pickup_location_id: Identifier | None = None
    customer: CustomerIn | None = None
    currency: Currency | None = Field(default=None, description="ISO 4217 code of the prices.")
    metadata: Metadata = Field(default_factory=dict)
    promise_id: Identifier | None = Field(
        default=None,
        description="A held promise (`POST /v1/promises`): the order takes exactly its units, "
        "and the promise's delivery date as its `promise_by`.",
    )
    promise_by: IsoDate | None = Field(
        default=None,
        description="The delivery date promised at checkout; with a profile's `late_day_cost` "
        "the engine weighs lateness against it.",
    )
    hold_reason: Literal["payment", "fraud", "manual"] | None = Field(
        default=None,
        description="Capture the order on hold: its units are reserved, its fulfillments are "
        "not offered to locations until `POST /v1/orders/{id}/release`.",
    )
    sourcing_profile: Identifier | None = Field(
        default=None,
        description="The profile that decides where the order ships from; by default the "
        "channel's (`PUT /v1/channels/{channel}`), or `default`.",
    )


class AddressOut(BaseModel):
    latitude: float | None = Field(description="The point the order is routed to.")
    longitude: float | None
    postal_code: str | None
    country: str | None
    name: str | None
    company: str | None
    address_lines: list[str]
    city: str | None
    region: str | None
    phone: str | None
    email: str | None


class CustomerOut(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class OrderLineOut(BaseModel):
    sku: str
    name: str | None
    quantity: int
    unit_price: str | None
    metadata: dict[str, str]
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
    name: str | None = Field(description="The product's name on the order.")
    quantity: int


class RejectedLineOut(BaseModel):
    sku: str
    name: str | None
    quantity: int
    reason: str = Field(
        description="out_of_stock | damaged | capacity | other (a location's reject), "
        "not_accepted (not accepted in time), shortage (a count fell below what was reserved)."
    )


class OrderFulfillmentOut(BaseModel):
    """A fulfillment as listed on its order."""

    id: str
    order_id: str
    location_id: str
    state: str
    lines: list[FulfillmentLineOut]
    rejected_lines: list[RejectedLineOut] = Field(
        description="Units this location gave back; they were sourced again or backordered."
    )
    distance_km: float | None
    estimated_delivery_date: date | None
    carrier: str | None
    tracking_number: str | None
    accept_by: datetime | None = Field(
        description="A pending fulfillment not accepted by then is re-routed (paused while the "
        "order is on hold)."
    )
    expires_at: datetime | None = Field(
        description="A pickup not collected by then expires and its units are released."
    )
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime


class FulfillmentOut(OrderFulfillmentOut):
    """A fulfillment with everything its location needs to pick, pack and ship or hand over,
    without reading the order."""

    order_external_id: str
    channel: str
    on_hold: bool = Field(
        description="The order is on hold: nothing may happen to the fulfillment but cancel."
    )
    service_level: str
    ship_to: AddressOut | None = Field(
        description="The whole address; for a pickup, the customer who collects it."
    )
    customer: CustomerOut | None
    metadata: dict[str, str] = Field(description="The order's metadata (notes, gift messages).")
    promise_by: date | None


class OrderOut(BaseModel):
    id: str
    channel: str
    external_id: str
    status: str
    service_level: str
    ship_to: AddressOut | None
    customer: CustomerOut | None
    currency: str | None
    metadata: dict[str, str]
    pickup_location_id: str | None
    sourcing_profile: str
    promise_by: date | None = None
    hold_reason: str | None
    reroutes: int = Field(description="Fulfillments of the order rejected or timed out so far.")
    lines: list[OrderLineOut]
    fulfillments: list[OrderFulfillmentOut]
    created_at: datetime
    updated_at: datetime


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


class ReturnLineOut(BaseModel):
    sku: str
    quantity: int


class ReturnOut(BaseModel):
    id: str
    order_id: str
    location_id: str
    lines: list[ReturnLineOut]
    restock: bool
    reason: str | None
    created_at: datetime


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
