"""Locations, products, sourcing profiles and channels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints, model_validator

from omniorder.api.schemas.common import (
    Count,
    Country,
    Identifier,
    Input,
    IsoDate,
    Latitude,
    Longitude,
    Money,
)
from omniorder.domain.delivery import zone
from omniorder.domain.model import LocationType

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
