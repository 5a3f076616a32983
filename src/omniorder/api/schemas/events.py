"""Every event type and the schema of its ``data``: what the feed (``GET /v1/events``) serves
and what webhooks and NATS will carry. An event about an order carries the order as
``GET /v1/orders/{id}`` answers it, one about a fulfillment the fulfillment as
``GET /v1/fulfillments/{id}`` answers it, and so on, plus what the event adds. Listed in the
OpenAPI document under ``webhooks``; a test checks every event a scenario emits against it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from omniorder.api.schemas.catalog import ChannelOut, LocationOut, ProductOut, ProfileOut
from omniorder.api.schemas.inventory import IncomingOut, PositionOut
from omniorder.api.schemas.orders import FulfillmentOut, OrderOut, ReturnOut
from omniorder.api.schemas.system import ApiKeyOut


class UnitsOut(BaseModel):
    sku: str
    quantity: int


class CancellationOut(BaseModel):
    lines: list[UnitsOut]
    reason: str | None


class OrderCancelledData(OrderOut):
    cancellation: CancellationOut = Field(description="The units this cancel took, and why.")


class OrderHeldData(OrderOut):
    cause: str | None = Field(
        default=None, description="What bounced the order once too often (too_many_reroutes)."
    )


class OrderReturnedData(OrderOut):
    return_: ReturnOut = Field(alias="return", description="The return just recorded.")


class FulfillmentRejectedData(FulfillmentOut):
    reason: str
    note: str | None
    rejected: list[UnitsOut] = Field(description="The units given back by this reject.")


class FulfillmentCancelledData(FulfillmentOut):
    reason: str | None = None


class PositionChangedData(PositionOut):
    """A position after a transaction changed it: a count, a reservation, a release, a
    shipment. A consumer that keeps the latest per position knows availability."""

    on_hand_delta: int
    reserved_delta: int
    reason: str = Field(description="What changed it, e.g. reserve, release, ship, snapshot.")


class SnapshotAppliedData(BaseModel):
    locations: list[str]
    rows: int
    changed: int
    zeroed: int
    sequence: int | None
    mode: Literal["delta", "full"]


class PromiseHeldData(BaseModel):
    promise_id: str
    expires_at: datetime
    option: dict[str, Any] = Field(description="The option held, as POST /v1/promises lists it.")


class PromiseExpiredData(BaseModel):
    promise_id: str


#: Every event type omniorder emits, with the schema of its data.
EVENT_TYPES: dict[str, type[BaseModel]] = {
    "order.created": OrderOut,
    "order.updated": OrderOut,
    "order.held": OrderHeldData,
    "order.released": OrderOut,
    "order.cancelled": OrderCancelledData,
    "order.lines_cancelled": OrderCancelledData,
    "order.returned": OrderReturnedData,
    "fulfillment.created": FulfillmentOut,
    "fulfillment.accepted": FulfillmentOut,
    "fulfillment.picked": FulfillmentOut,
    "fulfillment.shipped": FulfillmentOut,
    "fulfillment.ready_for_pickup": FulfillmentOut,
    "fulfillment.picked_up": FulfillmentOut,
    "fulfillment.updated": FulfillmentOut,
    "fulfillment.cancelled": FulfillmentCancelledData,
    "fulfillment.expired": FulfillmentOut,
    "fulfillment.rejected": FulfillmentRejectedData,
    "fulfillment.partially_rejected": FulfillmentRejectedData,
    "inventory.updated": PositionChangedData,
    "inventory.shortage": PositionChangedData,
    "inventory.snapshot_applied": SnapshotAppliedData,
    "incoming.expected": IncomingOut,
    "incoming.received": IncomingOut,
    "promise.held": PromiseHeldData,
    "promise.expired": PromiseExpiredData,
    "location.created": LocationOut,
    "location.updated": LocationOut,
    "product.created": ProductOut,
    "product.updated": ProductOut,
    "channel.updated": ChannelOut,
    "sourcing_profile.updated": ProfileOut,
    "api_key.created": ApiKeyOut,
}
