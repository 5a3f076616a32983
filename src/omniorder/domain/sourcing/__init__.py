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
  and the trace records the method and the optimality gap HiGHS proves."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.geo import distances_from
from omniorder.domain.model import ServiceLevel
from omniorder.domain.sourcing.model import (
    ALL_LOCATION_TYPES,
    COST_TOLERANCE,
    DEFAULT_BUDGET,
    PROFILE_RULES,
    TRACE_CANDIDATE_LIMIT,
    TRACE_PLAN_LIMIT,
    Allocation,
    Candidate,
    CostTerms,
    Plan,
    SearchBudget,
    SourcingProfile,
    SourcingRequest,
    SourcingResult,
    cost_of,
)
from omniorder.domain.sourcing.problem import (
    Problem,
    Site,
    Solution,
    build_problem,
    evaluate,
    fill,
)
from omniorder.domain.sourcing.search import (
    SearchStats,
    Solver,
    cheapest_per_sku,
    optimize,
    screen_bounds,
)

__all__ = [
    "ALL_LOCATION_TYPES",
    "COST_TOLERANCE",
    "DEFAULT_BUDGET",
    "PROFILE_RULES",
    "TRACE_CANDIDATE_LIMIT",
    "TRACE_PLAN_LIMIT",
    "Allocation",
    "Candidate",
    "CostTerms",
    "Plan",
    "Problem",
    "SearchBudget",
    "SearchStats",
    "Site",
    "Solution",
    "Solver",
    "SourcingProfile",
    "SourcingRequest",
    "SourcingResult",
    "build_problem",
    "cheapest_per_sku",
    "cost_of",
    "evaluate",
    "fill",
    "optimize",
    "plan",
    "plan_from",
    "prepare",
    "screen_bounds",
    "to_plan",
]

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
