"""A fulfillment: the units of an order one location picks, packs and ships (or hands over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class FulfillmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """Units a location gave back, and why (a reject reason, ``not_accepted``, ``shortage``)."""

    sku: str
    quantity: int
    reason: str


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
    rejected_lines: list[RejectedLine] = field(default_factory=list)

    def units(self) -> dict[str, int]:
        return {ln.sku: ln.quantity for ln in self.lines}

    def take(self, units: dict[str, int]) -> None:
        """Take ``units`` (per SKU) off the fulfillment's lines."""
        left = []
        for ln in self.lines:
            qty = ln.quantity - units.get(ln.sku, 0)
            if qty < 0:
                raise ValueError(f"the fulfillment holds {ln.quantity} of '{ln.sku}'")
            if qty:
                left.append(FulfillmentLine(ln.sku, qty))
        self.lines = left

    def give_back(self, units: dict[str, int], reason: str) -> None:
        """Take ``units`` off the fulfillment's lines and record them as rejected."""
        self.take(units)
        rejected = {(r.sku, r.reason): r.quantity for r in self.rejected_lines}
        for sku, qty in sorted(units.items()):
            if qty > 0:
                rejected[(sku, reason)] = rejected.get((sku, reason), 0) + qty
        self.rejected_lines = [RejectedLine(s, q, r) for (s, r), q in rejected.items()]
