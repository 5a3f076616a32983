"""What the order aggregate's changes record: the events to publish, and the stock moves the
service applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened to the order (``fulfillment_id`` None) or to one of its
    fulfillments; its payload is the order or the fulfillment as published, plus ``extra``."""

    type: str
    fulfillment_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Move:
    """Units of a SKU at a location that a change gives back to the shelf (``release``: the
    reservation ends) or that left the building (``consume``: on_hand and reserved drop)."""

    location_id: str
    sku: str
    quantity: int
    reference: str
