"""Inventory positions, snapshots, adjustments, the ledger, availability, incoming supply."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from omniorder.api.schemas.common import Identifier, Input, IsoDate, Note, StockCount


# -- inventory -----------------------------------------------------------------------------
class PositionIn(Input):
    on_hand: StockCount
    safety_stock: StockCount | None = None


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
    on_hand: StockCount
    safety_stock: StockCount | None = None


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
