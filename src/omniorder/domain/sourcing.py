"""Sourcing: decide which locations fulfil an order.

Pure and deterministic; it plans, it never reserves.

``plan(request, candidates, profile)`` returns a :class:`SourcingResult` with the chosen
:class:`Plan` and a JSON-ready trace that explains the decision: every candidate location with
the reason it was excluded, the plans compared with their cost terms, and the plan chosen.

Method ``fewest-locations``: among eligible locations, take the plan that fills the most units,
then uses the fewest locations, then costs least under the profile's cost model; ties go to the
higher location priority, then the nearer location. Plans of one, two and three locations are
enumerated exactly while the number of combinations stays bounded; beyond that a greedy
max-coverage step adds locations. Units no eligible location can supply are backordered.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import Location, LocationType, ServiceLevel

ALL_LOCATION_TYPES: frozenset[str] = frozenset(t.value for t in LocationType)
MAX_EXACT_COMBINATIONS = 2_000
TRACE_CANDIDATE_LIMIT = 500
TRACE_PLAN_LIMIT = 5


@dataclass(frozen=True, slots=True)
class SourcingProfile:
    """The retailer's rules and cost model (defaults: literature on e-commerce fulfilment)."""

    name: str = "default"
    version: int = 1
    shipment_cost: float = 8.759
    unit_cost: float = 0.423
    unit_km_cost: float = 0.000336
    backorder_penalty: float = 40.0
    max_distance_km: float | None = None
    location_types: frozenset[str] = ALL_LOCATION_TYPES
    allow_split: bool = True
    max_fulfillments: int | None = None

    @property
    def fulfillment_limit(self) -> int | None:
        if not self.allow_split:
            return 1
        return self.max_fulfillments


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    lines: tuple[tuple[str, int], ...]
    service_level: ServiceLevel
    ship_to: GeoPoint | None = None
    pickup_location_id: str | None = None
    excluded_location_ids: frozenset[str] = frozenset()

    def demand(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for sku, qty in self.lines:
            out[sku] = out.get(sku, 0) + qty
        return out


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location with what it can give now (available units per SKU) and today's load."""

    location: Location
    available: Mapping[str, int]
    fulfillments_today: int = 0


@dataclass(frozen=True, slots=True)
class Allocation:
    location_id: str
    lines: tuple[tuple[str, int], ...]
    distance_km: float | None

    @property
    def units(self) -> int:
        return sum(q for _, q in self.lines)


@dataclass(frozen=True, slots=True)
class CostTerms:
    shipments: float
    handling: float
    units: float
    distance: float
    backorder: float

    @property
    def total(self) -> float:
        return self.shipments + self.handling + self.units + self.distance + self.backorder

    def as_dict(self) -> dict[str, float]:
        return {
            "shipments": round(self.shipments, 6),
            "handling": round(self.handling, 6),
            "units": round(self.units, 6),
            "distance": round(self.distance, 6),
            "backorder": round(self.backorder, 6),
            "total": round(self.total, 6),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...]
    backordered: tuple[tuple[str, int], ...]
    cost: CostTerms

    @property
    def allocated_units(self) -> int:
        return sum(a.units for a in self.allocations)

    @property
    def backordered_units(self) -> int:
        return sum(q for _, q in self.backordered)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fulfillments": [
                {
                    "location_id": a.location_id,
                    "distance_km": None if a.distance_km is None else round(a.distance_km, 3),
                    "lines": [{"sku": s, "quantity": q} for s, q in a.lines],
                }
                for a in self.allocations
            ],
            "backordered": [{"sku": s, "quantity": q} for s, q in self.backordered],
            "allocated_units": self.allocated_units,
            "cost": self.cost.as_dict(),
        }


@dataclass(slots=True)
class SourcingResult:
    plan: Plan
    trace: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Eligible:
    location: Location
    distance_km: float | None
    supply: dict[str, int]  # units it can give of each demanded SKU (capped at demand)

    @property
    def unit_km(self) -> float:
        return self.distance_km or 0.0


def _exclusion(
    c: Candidate, req: SourcingRequest, prof: SourcingProfile, dist: float | None
) -> str | None:
    loc = c.location
    if not loc.active:
        return "inactive"
    if loc.id in req.excluded_location_ids:
        return "excluded_for_order"
    if req.service_level is ServiceLevel.PICKUP:
        if loc.id != req.pickup_location_id:
            return "not_pickup_location"
        if not loc.can_pickup:
            return "cannot_pickup"
    else:
        if not loc.can_ship:
            return "cannot_ship"
        if loc.type.value not in prof.location_types:
            return "profile_rule"
        if prof.max_distance_km is not None and dist is not None and dist > prof.max_distance_km:
            return "too_far"
    if loc.daily_capacity is not None and c.fulfillments_today >= loc.daily_capacity:
        return "over_capacity"
    return None


def cost_of(
    allocations: Sequence[Allocation],
    handling: Mapping[str, float],
    backordered_units: int,
    prof: SourcingProfile,
) -> CostTerms:
    units = sum(a.units for a in allocations)
    return CostTerms(
        shipments=prof.shipment_cost * len(allocations),
        handling=sum(handling.get(a.location_id, 0.0) for a in allocations),
        units=prof.unit_cost * units,
        distance=prof.unit_km_cost * sum(a.units * (a.distance_km or 0.0) for a in allocations),
        backorder=prof.backorder_penalty * backordered_units,
    )


def _assign(
    combo: Sequence[_Eligible], demand: Mapping[str, int]
) -> tuple[dict[str, dict[str, int]], int]:
    """Give each SKU from the nearest locations of ``combo`` first.

    Returns (location -> sku -> qty, units filled)."""
    taken: dict[str, dict[str, int]] = {e.location.id: {} for e in combo}
    ordered = sorted(combo, key=lambda e: (e.unit_km, -e.location.priority, e.location.id))
    filled = 0
    for sku, qty in demand.items():
        rest = qty
        for e in ordered:
            if rest == 0:
                break
            give = min(rest, e.supply.get(sku, 0))
            if give:
                taken[e.location.id][sku] = give
                rest -= give
        filled += qty - rest
    return taken, filled


def _build_plan(
    combo: Sequence[_Eligible], demand: Mapping[str, int], prof: SourcingProfile
) -> tuple[Plan, tuple[int, int, float, int, float]]:
    taken, filled = _assign(combo, demand)
    by_id = {e.location.id: e for e in combo}
    allocations = tuple(
        Allocation(loc_id, tuple(sorted(lines.items())), by_id[loc_id].distance_km)
        for loc_id, lines in sorted(taken.items())
        if lines
    )
    back: list[tuple[str, int]] = []
    for sku, qty in sorted(demand.items()):
        got = sum(a_lines.get(sku, 0) for a_lines in taken.values())
        if got < qty:
            back.append((sku, qty - got))
    backordered_units = sum(q for _, q in back)
    handling = {e.location.id: e.location.handling_cost for e in combo}
    cost = cost_of(allocations, handling, backordered_units, prof)
    used = [by_id[a.location_id] for a in allocations]
    priority = sum(e.location.priority for e in used)
    distance = sum(e.unit_km for e in used)
    key = (-filled, len(allocations), round(cost.total, 9), -priority, distance)
    return Plan(allocations, tuple(back), cost), key


def _greedy(
    eligible: Sequence[_Eligible], demand: Mapping[str, int], limit: int | None
) -> list[_Eligible]:
    chosen: list[_Eligible] = []
    rest = dict(demand)
    pool = list(eligible)
    while any(rest.values()) and pool and (limit is None or len(chosen) < limit):

        def gain(e: _Eligible) -> tuple[int, float, int, str]:
            covered = sum(min(q, e.supply.get(s, 0)) for s, q in rest.items())
            return (-covered, e.unit_km, -e.location.priority, e.location.id)

        best = min(pool, key=gain)
        if gain(best)[0] == 0:
            break
        chosen.append(best)
        pool.remove(best)
        for s in rest:
            rest[s] -= min(rest[s], best.supply.get(s, 0))
    return chosen


def plan(
    request: SourcingRequest,
    candidates: Sequence[Candidate],
    profile: SourcingProfile,
) -> SourcingResult:
    """Choose the fulfilment plan for one order. Never reserves; never drops a unit."""
    started = time.perf_counter()
    demand = request.demand()
    trace_candidates: list[dict[str, Any]] = []
    eligible: list[_Eligible] = []
    for c in sorted(candidates, key=lambda c: c.location.id):
        dist = (
            None
            if request.ship_to is None or request.service_level is ServiceLevel.PICKUP
            else haversine_km(request.ship_to, c.location.point)
        )
        reason = _exclusion(c, request, profile, dist)
        supply = {s: min(q, max(0, c.available.get(s, 0))) for s, q in demand.items()}
        supply = {s: q for s, q in supply.items() if q > 0}
        if reason is None and not supply:
            reason = "no_stock"
        if reason != "not_pickup_location":
            trace_candidates.append(
                {
                    "location_id": c.location.id,
                    "type": c.location.type.value,
                    "distance_km": None if dist is None else round(dist, 3),
                    "supplies": supply,
                    "excluded": reason,
                }
            )
        if reason is None:
            eligible.append(_Eligible(c.location, dist, supply))

    limit = profile.fulfillment_limit
    target = sum(min(q, sum(e.supply.get(s, 0) for e in eligible)) for s, q in demand.items())
    compared: list[tuple[tuple[int, int, float, int, float], Plan]] = []
    method = "fewest-locations:exact"
    whole = [e for e in eligible if target > 0 and sum(e.supply.values()) == target]
    if whole:
        # One location can give everything that can be given: no split can beat it (fewer
        # locations ranks before cost). Rank these alone; build only the plans shown.
        whole.sort(key=lambda e: _single_key(e, target, profile))
        compared = [
            (key, p)
            for p, key in (_build_plan([e], demand, profile) for e in whole[:TRACE_PLAN_LIMIT])
        ]
        return _result(
            profile, method, demand, trace_candidates, eligible, compared, len(whole), started
        )
    max_k = min(3, len(eligible)) if limit is None else min(3, limit, len(eligible))
    for k in range(1, max_k + 1):
        if math.comb(len(eligible), k) > MAX_EXACT_COMBINATIONS:
            break
        for combo in itertools.combinations(eligible, k):
            p, key = _build_plan(combo, demand, profile)
            compared.append((key, p))
        if any(-key[0] == target for key, _ in compared):
            break
    best_exact = min(compared, key=lambda kp: kp[0]) if compared else None
    if best_exact is None or -best_exact[0][0] < target:
        method = "fewest-locations:greedy"
        greedy = _greedy(eligible, demand, limit)
        p, key = _build_plan(greedy, demand, profile)
        compared.append((key, p))
    if not compared:
        p, key = _build_plan([], demand, profile)
        compared.append((key, p))
    compared.sort(key=lambda kp: kp[0])
    return _result(
        profile, method, demand, trace_candidates, eligible, compared, len(compared), started
    )


def _single_key(
    e: _Eligible, units: int, prof: SourcingProfile
) -> tuple[int, int, float, int, float]:
    """The ranking key _build_plan gives a one-location plan of ``units`` units."""
    cost = CostTerms(
        shipments=prof.shipment_cost,
        handling=e.location.handling_cost,
        units=prof.unit_cost * units,
        distance=prof.unit_km_cost * (units * e.unit_km),
        backorder=prof.backorder_penalty * 0,
    )
    return (-units, 1, round(cost.total, 9), -e.location.priority, e.unit_km)


def _result(
    profile: SourcingProfile,
    method: str,
    demand: dict[str, int],
    trace_candidates: list[dict[str, Any]],
    eligible: list[_Eligible],
    compared: list[tuple[tuple[int, int, float, int, float], Plan]],
    plans_compared: int,
    started: float,
) -> SourcingResult:
    chosen = compared[0][1]
    trace: dict[str, Any] = {
        "profile": {"name": profile.name, "version": profile.version},
        "method": method,
        "demand": demand,
        "candidates_total": len(trace_candidates),
        "candidates": trace_candidates[:TRACE_CANDIDATE_LIMIT],
        "eligible": len(eligible),
        "plans_compared": plans_compared,
        "plans": [p.as_dict() for _, p in compared[:TRACE_PLAN_LIMIT]],
        "chosen": chosen.as_dict(),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    return SourcingResult(chosen, trace)
