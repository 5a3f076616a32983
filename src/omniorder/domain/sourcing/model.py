"""What sourcing takes and gives: the profile (rules and costs), the request, the
candidates, and the priced plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from omniorder.domain.delivery import DEFAULT_TRANSIT, TransitTable
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Location, LocationType, ServiceLevel

ALL_LOCATION_TYPES: frozenset[str] = frozenset(t.value for t in LocationType)
TRACE_CANDIDATE_LIMIT = 500
TRACE_PLAN_LIMIT = 5
#: Two costs closer than this are equal (then the tie-break decides).
COST_TOLERANCE = 1e-7


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
    #: Cost per day a fulfillment arrives after the order's promise_by date (0: ignore dates).
    late_day_cost: float = 0.0

    @property
    def fulfillment_limit(self) -> int | None:
        if not self.allow_split:
            return 1
        return self.max_fulfillments


#: The fields of a profile that are rules (all but its name and version), in name order.
PROFILE_RULES: tuple[str, ...] = tuple(
    sorted(f.name for f in fields(SourcingProfile) if f.name not in ("name", "version"))
)


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """How much exact search one order may use before HiGHS takes over, counted in nodes so
    that the same order gets the same plan on any machine (2,500 nodes take about 50 ms of
    one core of the 2-core machine of docs/benchmarks.md on a 60-location, 6-line order)."""

    max_nodes: int = 2_500
    #: HiGHS's branch-and-bound nodes: it answers its best plan and the gap it proved by then.
    solver_nodes: int = 10_000
    #: A safety stop for HiGHS only (never reached in the benchmarks): an instance that
    #: reaches it may be answered differently on a slower machine.
    solver_seconds: float = 2.0


DEFAULT_BUDGET = SearchBudget()


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    lines: tuple[tuple[str, int], ...]
    service_level: ServiceLevel
    ship_to: GeoPoint | None = None
    pickup_location_id: str | None = None
    excluded_location_ids: frozenset[str] = frozenset()
    #: The delivery date promised to the customer; with the profile's late_day_cost, each
    #: fulfillment pays for every day it would arrive later.
    promise_by: date | None = None
    #: When the order is planned (the start of every location's handling); None: now.
    placed_at: datetime | None = None
    transit: TransitTable = DEFAULT_TRANSIT

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
    lateness: float = 0.0

    @property
    def total(self) -> float:
        return (
            self.shipments
            + self.handling
            + self.units
            + self.distance
            + self.backorder
            + self.lateness
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "shipments": round(self.shipments, 6),
            "handling": round(self.handling, 6),
            "units": round(self.units, 6),
            "distance": round(self.distance, 6),
            "backorder": round(self.backorder, 6),
            "lateness": round(self.lateness, 6),
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


def cost_of(
    allocations: Sequence[Allocation],
    handling: Mapping[str, float],
    backordered_units: int,
    prof: SourcingProfile,
    late_days: Mapping[str, int] | None = None,
) -> CostTerms:
    units = sum(a.units for a in allocations)
    late = late_days or {}
    return CostTerms(
        shipments=prof.shipment_cost * len(allocations),
        handling=sum(handling.get(a.location_id, 0.0) for a in allocations),
        units=prof.unit_cost * units,
        distance=prof.unit_km_cost * sum(a.units * (a.distance_km or 0.0) for a in allocations),
        backorder=prof.backorder_penalty * backordered_units,
        lateness=prof.late_day_cost * sum(late.get(a.location_id, 0) for a in allocations),
    )
