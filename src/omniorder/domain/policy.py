"""Lifecycle rules a retailer tunes: how long a location has to accept a fulfillment, how long
a pickup waits, how often an order may bounce between locations before a person looks at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Minutes a location of each type has to accept a new fulfillment before it is re-routed.
DEFAULT_ACCEPT_MINUTES: dict[str, int] = {
    "store": 120,
    "warehouse": 480,
    "3pl": 480,
    "dropship": 1440,
}


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    accept_minutes: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACCEPT_MINUTES))
    #: Hours a pickup waits at the store once ready before it expires.
    pickup_hours: int = 72
    #: Rejections and acknowledgement time-outs an order may take; one more puts it on hold.
    max_reroutes: int = 3

    def accept_by(self, location_type: str, now: datetime) -> datetime:
        minutes = self.accept_minutes.get(location_type, DEFAULT_ACCEPT_MINUTES["warehouse"])
        return now + timedelta(minutes=minutes)

    def pickup_expires(self, now: datetime) -> datetime:
        return now + timedelta(hours=self.pickup_hours)


DEFAULT_POLICY = LifecyclePolicy()
