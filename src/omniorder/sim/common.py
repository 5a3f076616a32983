"""What the simulation's strategies share: an order's sourcing request and candidates, and
the tally of a strategy's run that each order's plan is recorded in (KPIs, costs, flows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omniorder.demo.network import DemoOrder
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Location, LocationType, ServiceLevel
from omniorder.domain.sourcing import Candidate, Plan, SourcingRequest
from omniorder.sim.network import SimNetwork

TERMS = ("shipments", "handling", "units", "distance", "backorder", "lateness")

#: kg CO2e per tonne-km of road freight: Defra/DECC 2012 GHG conversion factors, Annex 7,
#: table 7e, "All HGVs, UK average" load, direct plus indirect (well-to-wheel) emissions
#: (0.12366 direct + 0.02627 indirect). See docs/simulation.md.
CO2_KG_PER_TONNE_KM = 0.14993
#: Weight of a SKU the network gives none for.
DEFAULT_WEIGHT_KG = 1.0
#: Flows on the map are summed per location and destination cell of this many degrees.
FLOW_CELL_DEGREES = 0.5


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
    promised: int = 0
    on_time: int = 0
    co2_kg: float = 0.0
    seconds: float = 0.0
    cost: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 0.0))
    flows: dict[tuple[str, float, float], int] = field(default_factory=dict)
    plans: list[Plan] | None = None

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
            "on_time_rate": ratio(self.on_time, self.promised),
            "co2_kg": round(self.co2_kg, 3),
            "co2_kg_per_order": ratio(self.co2_kg, self.orders),
            "cost": {**{k: round(v, 3) for k, v in self.cost.items()}, "total": round(total, 3)},
            "cost_per_order": ratio(total, self.orders),
            "plans_per_second": ratio(self.orders, self.seconds),
        }

    def flow_list(self) -> list[dict[str, Any]]:
        return [
            {"location_id": loc, "latitude": lat, "longitude": lon, "units": units}
            for (loc, lat, lon), units in sorted(self.flows.items())
        ]


class Recorder:
    """Adds one order's plan to a strategy's tally (and takes its units from the stock)."""

    def __init__(self, net: SimNetwork) -> None:
        self.by_id: dict[str, Location] = {loc.id: loc for loc in net.locations}
        self.weights = net.weights

    def record(
        self,
        tally: Tally,
        stock: dict[str, dict[str, int]],
        order: DemoOrder,
        chosen: Plan,
        released_at: datetime | None,
    ) -> None:
        tally.orders += 1
        tally.units_ordered += sum(q for _, q in order.lines)
        tally.units_allocated += chosen.allocated_units
        tally.fulfillments += len(chosen.allocations)
        tally.split += len(chosen.allocations) > 1
        tally.short += bool(chosen.backordered)
        level = ServiceLevel(order.service_level)
        # a promise counts only with a time to estimate its delivery dates from
        promise = order.promise_by if released_at is not None else None
        on_time = promise is not None and not chosen.backordered
        for a in chosen.allocations:
            loc = self.by_id[a.location_id]
            tally.store_fulfillments += loc.type is LocationType.STORE
            km = a.distance_km or 0.0
            tally.unit_km += a.units * km
            kg = sum(q * self.weights.get(sku, DEFAULT_WEIGHT_KG) for sku, q in a.lines)
            tally.co2_kg += kg / 1000.0 * km * CO2_KG_PER_TONNE_KM
            if on_time and released_at is not None and promise is not None:
                arrives = estimate_delivery_date(released_at, a.distance_km, level, loc.calendar)
                on_time = arrives <= promise
            if order.ship_to is not None:
                cell = (
                    a.location_id,
                    _cell(order.ship_to[0]),
                    _cell(order.ship_to[1]),
                )
                tally.flows[cell] = tally.flows.get(cell, 0) + a.units
            held = stock[a.location_id]
            for sku, qty in a.lines:
                held[sku] -= qty
                if held[sku] < 0:
                    raise AssertionError(f"{a.location_id} gave more {sku} than it had")
        if tally.plans is not None:
            tally.plans.append(chosen)
        if promise is not None:
            tally.promised += 1
            tally.on_time += on_time
        for term in TERMS:
            tally.cost[term] += getattr(chosen.cost, term)


def _cell(degrees: float) -> float:
    return round(round(degrees / FLOW_CELL_DEGREES) * FLOW_CELL_DEGREES, 3)


def request_of(order: DemoOrder, placed_at: datetime | None = None) -> SourcingRequest:
    when = placed_at or order.placed_at
    if order.service_level == ServiceLevel.PICKUP.value:
        return SourcingRequest(
            order.lines,
            ServiceLevel.PICKUP,
            None,
            pickup_location_id=order.pickup_location_id,
            promise_by=order.promise_by,
            placed_at=when,
        )
    assert order.ship_to is not None
    return SourcingRequest(
        order.lines,
        ServiceLevel(order.service_level),
        GeoPoint(*order.ship_to),
        promise_by=order.promise_by,
        placed_at=when,
    )


def candidates(
    locations: Sequence[Location], stock: dict[str, dict[str, int]], order: DemoOrder
) -> list[Candidate]:
    demand = {sku for sku, _ in order.lines}
    return [
        Candidate(loc, stock[loc.id])
        for loc in locations
        if loc.active and any(stock[loc.id].get(sku, 0) > 0 for sku in demand)
    ]
