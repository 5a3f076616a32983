"""Replay one order stream through several routing strategies and compare their KPIs.

Each strategy starts from its own copy of the network's stock, sources the orders in the
same sequence (every location is a candidate with what it still has), and consumes the
units it allocates, so that early choices shape what is left for later orders, as in a
real day. All plans are priced with the same profile.

KPIs per strategy: split rate, fulfillments per order, fill rate (units allocated over
units ordered), short-ship rate (orders with a unit backordered), km per unit, total cost
and its terms, store share of fulfillments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omniorder.demo.network import DemoNetwork, DemoOrder
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Location, ServiceLevel
from omniorder.domain.sourcing import Candidate, SourcingProfile, SourcingRequest
from omniorder.domain.strategies import STRATEGIES, Strategy

TERMS = ("shipments", "handling", "units", "distance", "backorder", "lateness")


@dataclass(slots=True)
class Tally:
    orders: int = 0
    split: int = 0
    short: int = 0
    fulfillments: int = 0
    store_fulfillments: int = 0
    units_ordered: int = 0
    units_allocated: int = 0
    unit_km: float = 0.0
    seconds: float = 0.0
    cost: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 0.0))

    def kpis(self) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float | None:
            return None if b == 0 else round(a / b, 6)

        total = sum(self.cost.values())
        return {
            "orders": self.orders,
            "split_rate": ratio(self.split, self.orders),
            "fulfillments_per_order": ratio(self.fulfillments, self.orders),
            "fill_rate": ratio(self.units_allocated, self.units_ordered),
            "short_ship_rate": ratio(self.short, self.orders),
            "km_per_unit": ratio(self.unit_km, self.units_allocated),
            "store_share": ratio(self.store_fulfillments, self.fulfillments),
            "cost": {**{k: round(v, 3) for k, v in self.cost.items()}, "total": round(total, 3)},
            "cost_per_order": ratio(total, self.orders),
            "plans_per_second": ratio(self.orders, self.seconds),
        }


def _locations(net: DemoNetwork) -> list[Location]:
    return [loc.to_location(capacities=False) for loc in net.locations]


def _request(order: DemoOrder) -> SourcingRequest:
    if order.service_level == ServiceLevel.PICKUP.value:
        return SourcingRequest(
            order.lines, ServiceLevel.PICKUP, None, pickup_location_id=order.pickup_location_id
        )
    assert order.ship_to is not None
    return SourcingRequest(order.lines, ServiceLevel(order.service_level), GeoPoint(*order.ship_to))


def simulate(
    net: DemoNetwork,
    orders: Sequence[DemoOrder],
    strategies: Sequence[str],
    profile: SourcingProfile | None = None,
    advance: Callable[[], None] = lambda: None,
) -> dict[str, dict[str, Any]]:
    """KPIs per strategy for ``orders`` over ``net`` (each strategy on its own stock)."""
    profile = profile or SourcingProfile()
    locations = _locations(net)
    kinds = {loc.id: loc.type for loc in net.locations}
    out: dict[str, dict[str, Any]] = {}
    for name in strategies:
        route: Strategy = STRATEGIES[name]
        stock: dict[str, dict[str, int]] = {loc.id: {} for loc in locations}
        for s in net.stock:
            if s.on_hand - s.safety_stock > 0:
                stock[s.location_id][s.sku] = s.on_hand - s.safety_stock
        tally = Tally()
        for order in orders:
            demand = {sku for sku, _ in order.lines}
            candidates = [
                Candidate(loc, stock[loc.id])
                for loc in locations
                if any(stock[loc.id].get(sku, 0) > 0 for sku in demand)
            ]
            started = time.perf_counter()
            plan = route(_request(order), candidates, profile)
            tally.seconds += time.perf_counter() - started
            tally.orders += 1
            tally.units_ordered += sum(q for _, q in order.lines)
            tally.units_allocated += plan.allocated_units
            tally.fulfillments += len(plan.allocations)
            tally.split += len(plan.allocations) > 1
            tally.short += bool(plan.backordered)
            for a in plan.allocations:
                tally.store_fulfillments += kinds[a.location_id] == "store"
                tally.unit_km += a.units * (a.distance_km or 0.0)
                held = stock[a.location_id]
                for sku, qty in a.lines:
                    held[sku] -= qty
                    assert held[sku] >= 0, "a strategy allocated more than a location had"
            for term in TERMS:
                tally.cost[term] += getattr(plan.cost, term)
            advance()
        out[name] = tally.kpis()
    return out


DEFAULT_STRATEGIES = tuple(STRATEGIES)
