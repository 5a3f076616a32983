"""When simulated orders are placed and what the shop promised them.

Orders spread over a period of ``days`` days from ``start``: each day's share follows a
weekday pattern (more on Mondays, fewer on Saturdays) and the seasonality knob, which makes
the last seven days of the period a peak week with ``1 + seasonality`` times the demand of
an ordinary day (0: no peak). Within a day, the hour follows a typical web-shop curve with
an evening peak, so some orders land after a location's cut-off.

The promise is what a storefront quotes at checkout without routing: the delivery date of a
parcel from the nearest warehouse (standard or express transit from the delivery model),
and for a pickup the day the pickup store can have it ready. A routing that ships from
farther away, or from a store whose cut-off has passed, can break it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from omniorder.demo.network import DemoOrder, draw_orders
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import Location, LocationType, ServiceLevel
from omniorder.sim.network import SimNetwork, units_per_sku

#: Relative demand per weekday, Monday first (a common web-shop shape).
WEEKDAY_WEIGHTS = (1.15, 1.05, 1.0, 1.0, 0.95, 0.8, 0.95)
#: Relative demand per hour of the day (UTC-agnostic local shop time), evening peak.
HOUR_WEIGHTS = (
    *(0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0),
    *(1.1, 1.1, 1.0, 1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.6, 1.2, 0.7),
)
PEAK_DAYS = 7
#: The first day of a simulated period unless one is given: a Monday.
DEFAULT_START = date(2026, 11, 2)


def day_weights(days: int, seasonality: float, start: date = DEFAULT_START) -> list[float]:
    """Relative demand of each day of the period."""
    out = []
    for d in range(days):
        w = WEEKDAY_WEIGHTS[(start + timedelta(days=d)).weekday()]
        if d >= days - PEAK_DAYS:
            w *= 1.0 + seasonality
        out.append(w)
    return out


def schedule(
    orders: Sequence[DemoOrder],
    locations: Sequence[Location],
    seed: int,
    days: int = 28,
    seasonality: float = 0.0,
    start: date = DEFAULT_START,
) -> list[DemoOrder]:
    """``orders`` with a placement time (ascending) and the promise the shop made."""
    rng = random.Random(seed)
    weights = day_weights(days, seasonality, start)
    times = sorted(
        datetime(start.year, start.month, start.day, tzinfo=UTC)
        + timedelta(
            days=rng.choices(range(days), weights)[0],
            hours=rng.choices(range(24), HOUR_WEIGHTS)[0],
            seconds=rng.randrange(3600),
        )
        for _ in orders
    )
    quote = Storefront(locations)
    return [quote.placed(order, placed_at) for order, placed_at in zip(orders, times, strict=True)]


class Storefront:
    """The promise a storefront quotes at checkout over ``locations`` (see the module)."""

    def __init__(self, locations: Sequence[Location]) -> None:
        self.warehouses = [
            loc for loc in locations if loc.type is LocationType.WAREHOUSE and loc.can_ship
        ]
        self.by_id = {loc.id: loc for loc in locations}

    def placed(self, order: DemoOrder, placed_at: datetime) -> DemoOrder:
        """``order`` placed at ``placed_at``, with the promise quoted then."""
        return replace(order, placed_at=placed_at, promise_by=self.promise(order, placed_at))

    def promise(self, order: DemoOrder, placed_at: datetime) -> date | None:
        """The delivery date (a pickup: the ready date) quoted for ``order`` at ``placed_at``;
        None without a pickup store or ship-to point to quote for."""
        level = ServiceLevel(order.service_level)
        if level is ServiceLevel.PICKUP:
            store = self.by_id.get(order.pickup_location_id or "")
            if store is None:
                return None
            return estimate_delivery_date(placed_at, None, level, store.calendar)
        if order.ship_to is None or not self.warehouses:
            return None
        here = GeoPoint(*order.ship_to)
        nearest = min(self.warehouses, key=lambda w: haversine_km(here, w.point))
        return estimate_delivery_date(
            placed_at, haversine_km(here, nearest.point), level, nearest.calendar
        )


def generate(net: SimNetwork, count: int, seed: int, pickup_share: float = 0.1) -> list[DemoOrder]:
    """Demand over a network that comes without a catalog (CSV files, the database): SKU
    popularity in proportion to the units the network holds (a retailer stocks what sells),
    baskets and ship-to points as the demo generator draws them, pickups at the store
    nearest to the customer."""
    rng = random.Random(seed)
    held = units_per_sku(net.stock)
    skus = sorted(held)
    if not skus:
        raise ValueError("the network holds no stock to draw demand from")
    stores = [(loc.id, loc.point) for loc in net.locations if loc.can_pickup and loc.active]
    weights = [float(held[s]) for s in skus]
    return draw_orders(rng, skus, weights, stores, net.country, count, pickup_share, "sim", "SIM")
