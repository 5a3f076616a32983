"""The optimization problem of one order: its eligible sites, and the exact cost of
shipping from a set of them (each SKU filled from the cheapest of the set)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from omniorder.domain.model import Location
from omniorder.domain.sourcing.model import (
    COST_TOLERANCE,
    SourcingProfile,
)

# -- the optimization problem ----------------------------------------------------------------


class Site:
    """An eligible location as the optimizer sees it (derived numbers computed once)."""

    __slots__ = (
        "delivery_date",
        "distance_km",
        "fill_order",
        "fixed",
        "km",
        "late_days",
        "location",
        "supply",
        "unit",
        "unit_bound",
        "units",
    )

    def __init__(
        self,
        location: Location,
        distance_km: float | None,
        supply: tuple[int, ...],
        fixed: float,
        unit: float,
        delivery_date: date | None = None,
        late_days: int = 0,
    ) -> None:
        self.location = location
        #: When a parcel from here would arrive (computed when the order has a promise date).
        self.delivery_date = delivery_date
        #: Days after the promise date it would arrive; their cost is part of ``fixed``.
        self.late_days = late_days
        self.distance_km = distance_km
        #: Units it can give of each demanded SKU (in Problem.skus order), capped at demand.
        self.supply = supply
        #: shipment_cost + handling_cost: paid once when it ships anything.
        self.fixed = fixed
        #: unit_cost + unit_km_cost * km: paid per unit it ships.
        self.unit = unit
        self.units = sum(supply)
        #: A lower bound of what each unit it ships costs, its fixed cost included.
        self.unit_bound = unit + fixed / self.units if self.units else math.inf
        self.km = distance_km or 0.0
        #: Which of two locations of a plan gives a SKU first: cheaper, then higher priority,
        #: then nearer.
        self.fill_order = (unit, -location.priority, self.km, location.id)


@dataclass(frozen=True, slots=True)
class Problem:
    skus: tuple[str, ...]
    demand: tuple[int, ...]
    sites: tuple[Site, ...]
    penalty: float
    limit: int | None

    @property
    def empty_cost(self) -> float:
        return self.penalty * sum(self.demand)


def build_problem(
    demand: Mapping[str, int],
    eligible: Sequence[tuple[Location, float | None, Mapping[str, int]]],
    profile: SourcingProfile,
) -> Problem:
    """The instance for ``demand`` over eligible (location, km, available units) triples.
    Locations that cannot give any demanded unit are left out."""
    skus = tuple(sorted(demand))
    want = tuple(demand[s] for s in skus)
    sites = []
    for location, km, available in eligible:
        supply = tuple(min(q, max(0, available.get(s, 0))) for s, q in zip(skus, want, strict=True))
        if not any(supply):
            continue
        sites.append(
            Site(
                location=location,
                distance_km=km,
                supply=supply,
                fixed=profile.shipment_cost + location.handling_cost,
                unit=profile.unit_cost + profile.unit_km_cost * (km or 0.0),
            )
        )
    return Problem(skus, want, tuple(sites), profile.backorder_penalty, profile.fulfillment_limit)


@dataclass(frozen=True, slots=True)
class Solution:
    """A set of locations and the cost of its best fill (only locations that ship count)."""

    total: float
    used: tuple[int, ...]  # indices into Problem.sites, ascending
    tie: tuple[int, float, tuple[str, ...]]

    def better_than(self, other: Solution | None) -> bool:
        if other is None:
            return True
        if self.total < other.total - COST_TOLERANCE:
            return True
        if self.total > other.total + COST_TOLERANCE:
            return False
        return self.tie < other.tie


def evaluate(problem: Problem, chosen: Sequence[int]) -> Solution:
    """The cost of the best plan that may use the locations ``chosen`` (indices)."""
    sites = problem.sites
    order = sorted(chosen, key=lambda i: sites[i].fill_order)
    penalty = problem.penalty
    total = 0.0
    ships: set[int] = set()
    for j, need in enumerate(problem.demand):
        for i in order:
            if need == 0:
                break
            site = sites[i]
            if site.unit > penalty:
                break
            give = site.supply[j]
            if give:
                give = min(give, need)
                total += give * site.unit
                need -= give
                ships.add(i)
        total += need * penalty
    used = tuple(sorted(ships))
    for i in used:
        total += sites[i].fixed
    return Solution(total, used, _tie(problem, used))


def _tie(problem: Problem, used: Sequence[int]) -> tuple[int, float, tuple[str, ...]]:
    sites = problem.sites
    return (
        -sum(sites[i].location.priority for i in used),
        sum(sites[i].km for i in used),
        tuple(sorted(sites[i].location.id for i in used)),
    )


def fill(
    problem: Problem, used: Sequence[int]
) -> tuple[list[tuple[int, dict[str, int]]], dict[str, int]]:
    """The lines each location of ``used`` gives and the units left backordered."""
    sites = problem.sites
    order = sorted(used, key=lambda i: sites[i].fill_order)
    taken: dict[int, dict[str, int]] = {i: {} for i in order}
    back: dict[str, int] = {}
    for j, (sku, need) in enumerate(zip(problem.skus, problem.demand, strict=True)):
        for i in order:
            if need == 0:
                break
            site = sites[i]
            if site.unit > problem.penalty:
                break
            give = min(need, site.supply[j])
            if give:
                taken[i][sku] = give
                need -= give
        if need:
            back[sku] = need
    return [(i, taken[i]) for i in sorted(taken) if taken[i]], back
