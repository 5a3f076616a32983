"""Sourcing: decide which locations fulfil an order, at least total cost.

Pure and deterministic; it plans, it never reserves.

``plan(request, candidates, profile)`` returns a :class:`SourcingResult` with the chosen
:class:`Plan` and a JSON-ready trace that explains the decision: every candidate location with
the reason it was excluded (or the lower bound that ruled it out), the best plans compared with
their cost terms, the plan chosen, the method that decided and the time it took.

The cost of a plan under a :class:`SourcingProfile`::

    Σ fulfillments (shipment_cost + location handling_cost)
  + Σ units (unit_cost + unit_km_cost * km from the location to the ship-to point)
  + backorder_penalty * units left unfilled
  + late_day_cost * days each fulfillment arrives after the order's promise_by date

Among the plans the profile allows (location types, distance, at most ``max_fulfillments``
locations, or one when ``allow_split`` is off) the engine finds one of least cost. Ties go to
the plan whose locations have the higher total ``priority``, then to the nearer one.

How it is exact and fast
------------------------
A location's delivery date does not depend on what else ships, so its lateness cost is part of
its fixed cost per fulfillment, and everything below holds with it.

Once the set S of locations that ship is fixed, the best plan for S is easy: each SKU is taken
from the locations of S in order of their per-unit cost, as long as that is cheaper than
backordering. So the search is over sets of locations, a branch and bound:

* Every location gets a *per-unit lower bound* ``unit + fixed / units``: a location that ships
  x ≤ units pays fixed + unit·x ≥ (unit + fixed/units)·x. With it, a lower bound of any plan
  that contains a set S (and maybe more locations) is the fixed cost of S plus the cheapest
  fill of every SKU from S at its unit cost and from the other locations at their per-unit
  lower bounds, or the backorder penalty.
* *Screening*: before the search, each location gets the lower bound of every plan that uses
  it (itself at its unit cost, any other location at the cheapest per-unit bound for the SKU).
  A location whose bound exceeds the best plan known (the best single location or a greedy
  plan) cannot be in an optimal plan and is dropped; the trace shows its bound.
* The search enumerates sets of the remaining locations (cheapest bound first, each set
  once), evaluates each set exactly, and skips every superset whose lower bound exceeds the
  best plan found. It proves optimality when it ends.
* If an instance is too big for the search within its budget (``SearchBudget``), the engine
  hands the instance to the HiGHS MIP solver with a time limit, seeded with the best plan found,
  and the trace records the method and the optimality gap HiGHS proves.
"""

from __future__ import annotations

import bisect
import heapq
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from omniorder.domain.delivery import DEFAULT_TRANSIT, TransitTable, estimate_delivery_date
from omniorder.domain.geo import GeoPoint, distances_from
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


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """How much exact search one order may use before HiGHS takes over."""

    max_nodes: int = 20_000
    max_seconds: float = 0.05
    #: Time limit HiGHS gets; it answers its best plan and the gap it proved by then.
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


@dataclass(slots=True)
class SearchStats:
    screened_out: int = 0
    nodes: int = 0
    pruned: int = 0
    complete: bool = True
    #: Lower bound of every plan using each site (screening), by site index: the smaller of
    #: the cost of its plan alone and the bound of every plan with it and others.
    site_bounds: list[float] = field(default_factory=list)
    site_alone: list[float] = field(default_factory=list)
    site_with_others: list[float] = field(default_factory=list)
    #: How the bound with others was found: "two_parcels" (any plan of two or more sites pays
    #: the two smallest fixed costs and every unit at its cheapest unit cost) or "per_unit"
    #: (screening: the site's own costs, every other unit at its cheapest per-unit bound).
    with_others_rule: str = ""


@dataclass(slots=True)
class _Best:
    """The best solution so far and the next best ones, for the trace."""

    keep: int
    best: Solution | None = None
    seen: dict[tuple[int, ...], Solution] = field(default_factory=dict)

    def offer(self, sol: Solution) -> None:
        if sol.used in self.seen:
            return
        self.seen[sol.used] = sol
        if sol.better_than(self.best):
            self.best = sol
        if len(self.seen) > 4 * self.keep:
            ranked = heapq.nsmallest(self.keep, self.seen.values(), key=_rank)
            self.seen = {s.used: s for s in ranked}

    def ranked(self) -> list[Solution]:
        return heapq.nsmallest(self.keep, self.seen.values(), key=_rank)


def _rank(sol: Solution) -> tuple[float, tuple[int, float, tuple[str, ...]]]:
    return (round(sol.total, 6), sol.tie)


def cheapest_per_sku(problem: Problem) -> tuple[list[float], list[float]]:
    """For each SKU, the cheapest per-unit bound and the cheapest unit cost of any site
    holding it (never above the penalty)."""
    penalty = problem.penalty
    bounds, units = [], []
    for j in range(len(problem.skus)):
        best_b = best_u = penalty
        for s in problem.sites:
            if s.supply[j]:
                best_b = min(best_b, s.unit_bound)
                best_u = min(best_u, s.unit)
        bounds.append(best_b)
        units.append(best_u)
    return bounds, units


def screen_bounds(problem: Problem, cheapest: tuple[list[float], list[float]]) -> list[float]:
    """For each site, a lower bound of the cost of every plan in which it ships *together with
    at least one other site* (the plan of the site alone is evaluated exactly anyway).

    Two bounds, the larger counts. (1) Per-unit: its fixed cost, its units at its unit cost
    where that is the cheapest option, every other unit at the cheapest per-unit bound of any
    site holding the SKU, or the penalty. (2) One more shipment: its fixed cost plus the
    smallest fixed cost of another site, its units at its unit cost, every other unit at the
    cheapest unit cost of any site holding the SKU, or the penalty."""
    sites = problem.sites
    cheapest_bound, cheapest_unit = cheapest  # from cheapest_per_sku
    fixed = sorted((s.fixed, i) for i, s in enumerate(sites))
    bounds = []
    for i, s in enumerate(sites):
        others = [f for f, k in fixed[:2] if k != i]
        if not others:
            bounds.append(math.inf)
            continue
        other_fixed = others[0]
        per_unit = one_more = 0.0
        own = s.unit
        for need, give, bound, unit in zip(
            problem.demand, s.supply, cheapest_bound, cheapest_unit, strict=True
        ):
            # its own units where they are the cheaper option, the rest from the others
            per_unit += give * own + (need - give) * bound if own < bound else need * bound
            one_more += give * own + (need - give) * unit if own < unit else need * unit
        bounds.append(s.fixed + max(per_unit, other_fixed + one_more))
    return bounds


class _Search:
    """Branch and bound over sets of sites (see the module docstring)."""

    def __init__(self, problem: Problem, alive: list[int], best: _Best, budget: SearchBudget):
        self.problem = problem
        self.best = best
        self.budget = budget
        sites = problem.sites
        # Cheapest per-unit bound first: good sets are found early, suffixes are weak.
        self.order = sorted(
            alive, key=lambda i: (sites[i].unit_bound, -sites[i].location.priority, i)
        )
        # For each SKU: positions in self.order of the sites holding it, with bound and supply.
        self.holders: list[list[int]] = []
        self.holder_cost: list[list[float]] = []
        self.holder_cap: list[list[int]] = []
        # suffix minima over positions p.. of the order: unit cost per SKU, and fixed cost
        size = len(self.order)
        self.min_unit: list[list[float]] = []
        for j in range(len(problem.skus)):
            pos = [p for p, i in enumerate(self.order) if sites[i].supply[j]]
            self.holders.append(pos)
            self.holder_cost.append([sites[self.order[p]].unit_bound for p in pos])
            self.holder_cap.append([sites[self.order[p]].supply[j] for p in pos])
            mins = [problem.penalty] * (size + 1)
            for p in range(size - 1, -1, -1):
                site = sites[self.order[p]]
                mins[p] = min(mins[p + 1], site.unit) if site.supply[j] else mins[p + 1]
            self.min_unit.append(mins)
        self.min_fixed = [math.inf] * (size + 1)
        for p in range(size - 1, -1, -1):
            self.min_fixed[p] = min(self.min_fixed[p + 1], sites[self.order[p]].fixed)
        self.nodes = 0
        self.pruned = 0
        self.complete = True
        self.deadline = 0.0

    def run(self) -> None:
        self.deadline = time.perf_counter() + self.budget.max_seconds
        limit = self.problem.limit
        depth = len(self.order) if limit is None else min(limit, len(self.order))
        if depth:
            self._expand([], 0, depth)

    def _expand(self, chosen: list[int], start: int, depth: int) -> None:
        sites = self.problem.sites
        for p in range(start, len(self.order)):
            if not self.complete:
                return
            self.nodes += 1
            if self.nodes > self.budget.max_nodes or (
                self.nodes % 256 == 0 and time.perf_counter() > self.deadline
            ):
                self.complete = False
                return
            child = [*chosen, self.order[p]]
            sol = evaluate(self.problem, child)
            if len(sol.used) == len(child):  # a set with an idle site is evaluated elsewhere
                self.best.offer(sol)
            if len(child) < depth and p + 1 < len(self.order):
                bound = self._bound(child, p + 1) + sum(sites[i].fixed for i in child)
                incumbent = self.best.best
                if incumbent is not None and bound > incumbent.total + COST_TOLERANCE:
                    self.pruned += 1
                    continue
                self._expand(child, p + 1, depth)

    def _bound(self, chosen: list[int], start: int) -> float:
        """Lower bound of the cost of ``chosen`` plus at least one site at positions ≥
        ``start``, fixed costs of ``chosen`` left out; the larger of two bounds:

        * per-unit: every SKU filled at least cost from ``chosen`` (unit cost) and the sites
          from ``start`` on (per-unit bound, their capacity), or the penalty;
        * one more shipment: the smallest fixed cost from ``start`` on, plus every SKU filled
          from ``chosen`` (unit cost) and, without capacity limit, at the cheapest unit cost
          from ``start`` on, or the penalty."""
        sites = self.problem.sites
        penalty = self.problem.penalty
        per_unit = one_more = 0.0
        for j, need in enumerate(self.problem.demand):
            own = sorted((sites[i].unit, sites[i].supply[j]) for i in chosen if sites[i].supply[j])
            options = list(own)
            pos = self.holders[j]
            k = bisect.bisect_left(pos, start)
            costs, caps = self.holder_cost[j], self.holder_cap[j]
            covered = 0
            while k < len(pos) and covered < need:
                options.append((costs[k], caps[k]))
                covered += caps[k]
                k += 1
            options.sort()
            per_unit += _greedy_fill(need, options, penalty)
            own.append((self.min_unit[j][start], need))
            own.sort()
            one_more += _greedy_fill(need, own, penalty)
        return max(per_unit, self.min_fixed[start] + one_more)


def _greedy_fill(need: int, options: list[tuple[float, int]], penalty: float) -> float:
    """Cost of ``need`` units from (cost, capacity) options sorted by cost, then the penalty."""
    total = 0.0
    for cost, cap in options:
        if need == 0 or cost >= penalty:
            break
        give = min(cap, need)
        total += give * cost
        need -= give
    return total + need * penalty


Solver = Callable[[Problem, Solution | None, float], tuple[Solution, float, str]]


def optimize(
    problem: Problem,
    budget: SearchBudget = DEFAULT_BUDGET,
    solver: Solver | None = None,
    keep: int = TRACE_PLAN_LIMIT,
) -> tuple[Solution, list[Solution], SearchStats, dict[str, Any]]:
    """The least-cost set of sites for ``problem``.

    Returns (best, the best few compared, search statistics, method): method is
    ``{"name": "branch-and-bound", "optimal": True}`` when the search finished, or HiGHS's
    answer with its proven gap when the budget ran out."""
    stats = SearchStats()
    best = _Best(keep)
    best.offer(Solution(problem.empty_cost, (), _tie(problem, ())))
    n = len(problem.sites)
    if n == 0:
        return best.ranked()[0], best.ranked(), stats, {"name": "branch-and-bound", "gap": 0.0}
    singles = _single_costs(problem)
    for i in heapq.nsmallest(keep, range(n), key=lambda i: _single_rank(problem, singles, i)):
        best.offer(_single(problem, singles, i))
    assert best.best is not None
    cheapest = cheapest_per_sku(problem)
    floor = _multi_floor(problem, cheapest[1])
    if n == 1 or best.best.total < floor - COST_TOLERANCE:
        # No plan of two or more sites can beat the best single one: nothing to search.
        stats.site_bounds = [min(floor, single) for single in singles]
        stats.site_alone, stats.site_with_others = singles, [floor] * n
        stats.with_others_rule = "two_parcels"
        stats.screened_out = n
        return best.best, best.ranked(), stats, {"name": "branch-and-bound", "gap": 0.0}
    multi = screen_bounds(problem, cheapest)
    alive = [i for i in range(n) if multi[i] <= best.best.total + COST_TOLERANCE]
    if alive:
        _greedy(problem, alive, best)
        alive = [i for i in alive if multi[i] <= best.best.total + COST_TOLERANCE]
    stats.site_bounds = [min(a, b) for a, b in zip(multi, singles, strict=True)]
    stats.site_alone, stats.site_with_others = singles, multi
    stats.with_others_rule = "per_unit"
    stats.screened_out = n - len(alive)
    search = _Search(problem, alive, best, budget)
    search.run()
    stats.nodes, stats.pruned, stats.complete = search.nodes, search.pruned, search.complete
    method: dict[str, Any] = {"name": "branch-and-bound", "gap": 0.0}
    if not search.complete:
        if solver is None:
            from omniorder.domain.sourcing_mip import solve_mip

            solver = solve_mip
        sol, gap, status = solver(problem, best.best, budget.solver_seconds)
        best.offer(sol)
        method = {"name": "highs", "gap": gap, "status": status}
    ranked = best.ranked()
    assert best.best is not None
    return best.best, ranked, stats, method


def _single_costs(problem: Problem) -> list[float]:
    """The cost of each site's plan alone: it gives all it has (supply is capped at the
    demand), the rest is backordered; a site dearer per unit than the penalty gives nothing."""
    penalty = problem.penalty
    empty = problem.empty_cost
    return [
        empty
        if s.unit > penalty
        else s.fixed + s.unit * s.units + penalty * (sum(problem.demand) - s.units)
        for s in problem.sites
    ]


def _single_rank(problem: Problem, singles: list[float], i: int) -> tuple[float, int, float, str]:
    site = problem.sites[i]
    return (singles[i], -site.location.priority, site.km, site.location.id)


def _single(problem: Problem, singles: list[float], i: int) -> Solution:
    site = problem.sites[i]
    if site.unit > problem.penalty:
        return Solution(problem.empty_cost, (), _tie(problem, ()))
    return Solution(singles[i], (i,), (-site.location.priority, site.km, (site.location.id,)))


def _multi_floor(problem: Problem, cheapest_unit: Sequence[float]) -> float:
    """A lower bound of every plan that ships from two sites or more: the two smallest fixed
    costs, and every unit at the cheapest unit cost of any site holding its SKU (or the
    penalty)."""
    two = heapq.nsmallest(2, (s.fixed for s in problem.sites))
    return sum(two) + sum(
        need * unit for need, unit in zip(problem.demand, cheapest_unit, strict=True)
    )


def _greedy(problem: Problem, pool: Sequence[int], best: _Best) -> None:
    """A quick good plan to prune with: from the best single site, add the site of ``pool``
    that lowers the cost most, while one does and the profile allows another location."""
    assert best.best is not None
    current = best.best
    chosen = list(current.used)
    limit = problem.limit
    while limit is None or len(chosen) < limit:
        step: Solution | None = None
        pick = -1
        for i in pool:
            if i in chosen:
                continue
            sol = evaluate(problem, [*chosen, i])
            if sol.total < current.total - COST_TOLERANCE and sol.better_than(step):
                step, pick = sol, i
        if step is None:
            break
        chosen.append(pick)
        current = step
        best.offer(step)


# -- eligibility, the plan and its trace -----------------------------------------------------


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
        if loc.type not in prof.location_types:  # a StrEnum: equal to its value
            return "profile_rule"
        if prof.max_distance_km is not None and dist is not None and dist > prof.max_distance_km:
            return "too_far"
    if loc.daily_capacity is not None and c.fulfillments_today >= loc.daily_capacity:
        return "over_capacity"
    return None


def to_plan(problem: Problem, sol: Solution, profile: SourcingProfile) -> Plan:
    taken, _ = fill(problem, sol.used)
    sites = problem.sites
    return plan_from(problem, {sites[i].location.id: lines for i, lines in taken}, profile)


def plan_from(
    problem: Problem, taking: Mapping[str, Mapping[str, int]], profile: SourcingProfile
) -> Plan:
    """The priced plan that takes ``taking`` (location id -> units per SKU) for the order of
    ``problem``; what it does not take is backordered."""
    by_id = {s.location.id: s for s in problem.sites}
    allocations = tuple(
        Allocation(loc_id, tuple(sorted(lines.items())), by_id[loc_id].distance_km)
        for loc_id, lines in sorted(taking.items())
        if any(lines.values())
    )
    got: dict[str, int] = {}
    for a in allocations:
        for sku, q in a.lines:
            got[sku] = got.get(sku, 0) + q
    back = tuple(
        (sku, d - got.get(sku, 0))
        for sku, d in zip(problem.skus, problem.demand, strict=True)
        if d > got.get(sku, 0)
    )
    handling = {a.location_id: by_id[a.location_id].location.handling_cost for a in allocations}
    late = {a.location_id: by_id[a.location_id].late_days for a in allocations}
    cost = cost_of(allocations, handling, sum(q for _, q in back), profile, late)
    return Plan(allocations, back, cost)


def prepare(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> tuple[Problem, list[dict[str, Any]]]:
    """The optimization problem of one order (its eligible sites) and the trace entry of each
    candidate: distance, what it could supply and why it was excluded, if it was."""
    demand = request.demand()
    skus = tuple(sorted(demand))
    trace_candidates: list[dict[str, Any]] = []
    sites: list[Site] = []
    km = (
        None
        if request.ship_to is None or request.service_level is ServiceLevel.PICKUP
        else distances_from(request.ship_to)
    )
    shipment_cost, unit_cost, unit_km_cost = (
        profile.shipment_cost,
        profile.unit_cost,
        profile.unit_km_cost,
    )
    # delivery dates matter to the cost only with a promise date and a price on lateness
    dated = request.promise_by is not None and profile.late_day_cost > 0
    placed_at = request.placed_at or datetime.now(UTC)
    for c in sorted(candidates, key=lambda c: c.location.id):
        loc = c.location
        dist = None if km is None else km(loc.latitude, loc.longitude)
        reason = _exclusion(c, request, profile, dist)
        available = c.available
        supply = {}
        for s, q in demand.items():
            have = available.get(s, 0)
            if have > 0:
                supply[s] = have if have < q else q
        if reason is None and not supply:
            reason = "no_stock"
        if reason != "not_pickup_location":
            trace_candidates.append(
                {
                    "location_id": loc.id,
                    "type": loc.type,  # a StrEnum: serialized as its value
                    "distance_km": dist,
                    "supplies": supply,
                    "excluded": reason,
                }
            )
        if reason is None:
            fixed = shipment_cost + loc.handling_cost
            arrives: date | None = None
            late = 0
            if dated:
                arrives = estimate_delivery_date(
                    placed_at, dist, request.service_level, loc.calendar, request.transit
                )
                assert request.promise_by is not None
                late = max(0, (arrives - request.promise_by).days)
                fixed += profile.late_day_cost * late
                trace_candidates[-1]["delivery_date"] = arrives.isoformat()
            sites.append(
                Site(
                    loc,
                    dist,
                    tuple([supply.get(s, 0) for s in skus]),
                    fixed,
                    unit_cost + unit_km_cost * (dist or 0.0),
                    arrives,
                    late,
                )
            )
    want = tuple(demand[s] for s in skus)
    problem = Problem(
        skus, want, tuple(sites), profile.backorder_penalty, profile.fulfillment_limit
    )
    return problem, trace_candidates


def plan(
    request: SourcingRequest,
    candidates: Sequence[Candidate],
    profile: SourcingProfile,
    budget: SearchBudget = DEFAULT_BUDGET,
) -> SourcingResult:
    """Choose the least-cost fulfilment plan for one order. Never reserves; never drops a unit
    (what no plan ships is backordered)."""
    started = time.perf_counter()
    problem, trace_candidates = prepare(request, candidates, profile)
    demand = request.demand()
    best, ranked, stats, method = optimize(problem, budget)
    shown = [to_plan(problem, s, profile) for s in ranked]
    shown_dicts = [p.as_dict() for p in shown]
    # the best is ranked first: same set of sites, same plan
    if ranked and ranked[0].used == best.used:
        chosen, chosen_dict = shown[0], shown_dicts[0]
    else:
        chosen = to_plan(problem, best, profile)
        chosen_dict = chosen.as_dict()
    if stats.site_bounds:
        by_id = {
            s.location.id: i for i, s in enumerate(problem.sites) if i < len(stats.site_bounds)
        }
        limit = best.total + COST_TOLERANCE
        for entry in trace_candidates:
            i = by_id.get(entry["location_id"])
            if i is not None:
                entry["lower_bound"] = stats.site_bounds[i]
                if stats.site_bounds[i] > limit:
                    entry["excluded"] = "cost_bound"
                    # which bounds prove it: its plan alone, and every plan with others
                    entry["bound"] = {
                        "alone": stats.site_alone[i],
                        "with_others": stats.site_with_others[i],
                        "rule": stats.with_others_rule,
                    }
    trace: dict[str, Any] = {
        "profile": {"name": profile.name, "version": profile.version},
        "method": method,
        "demand": demand,
        "candidates_total": len(trace_candidates),
        "candidates": trace_candidates[:TRACE_CANDIDATE_LIMIT],
        "eligible": len(problem.sites),
        "search": {
            "screened_out": stats.screened_out,
            "nodes": stats.nodes,
            "pruned": stats.pruned,
        },
        "plans": shown_dicts,
        "chosen": chosen_dict,
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    return SourcingResult(chosen, trace)
