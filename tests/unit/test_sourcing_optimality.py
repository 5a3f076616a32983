"""The sourcing engine finds the exact least-cost plan.

Two independent references:

* a brute-force oracle on small instances, written without the engine's code (no ``evaluate``,
  ``fill`` or ``optimize``; only the eligible sites ``prepare`` builds): every set of
  locations the profile allows, and for each SKU every integer split of its demand across that
  set within supply, plus backorder;
* the HiGHS MIP (``sourcing_mip.solve_mip``) on realistic instances of 50 locations.

Every plan is also checked to be feasible, priced by the profile formula and deterministic.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniorder.domain import sourcing
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import Location, LocationType, ServiceLevel
from omniorder.domain.sourcing import (
    Candidate,
    Plan,
    Problem,
    SourcingProfile,
    SourcingRequest,
)
from omniorder.domain.sourcing_mip import solve_mip

# -- the brute-force oracle ------------------------------------------------------------------


def _cheapest_split(need: int, options: Sequence[tuple[float, int]], penalty: float) -> float:
    """Least cost of ``need`` units over every integer split across ``options`` (unit cost,
    supply) plus backorder at ``penalty``, by enumerating all splits."""
    best = math.inf

    def split(k: int, left: int, acc: float) -> None:
        nonlocal best
        if k == len(options):
            best = min(best, acc + left * penalty)
            return
        unit, cap = options[k]
        for x in range(min(cap, left) + 1):
            split(k + 1, left - x, acc + x * unit)

    split(0, need, 0.0)
    return best


def oracle_cost(problem: Problem) -> float:
    """Least cost of any plan for ``problem``, by exhaustive enumeration.

    Every set S of at most ``limit`` sites is tried; for S, each SKU's demand is split across
    the sites of S in every possible way (within their supply, the rest backordered) and the
    cheapest split is kept; the fixed cost of every site of S is added. A set in which some
    site ships nothing costs more than the set of the sites that ship, which is enumerated too,
    so the minimum over all sets is the cost of the best plan with the fixed cost charged
    exactly for the locations that ship."""
    sites = problem.sites
    n = len(sites)
    limit = n if problem.limit is None else min(problem.limit, n)
    memo: dict[tuple[int, tuple[int, ...]], float] = {}

    def sku_cost(j: int, subset: tuple[int, ...]) -> float:
        holders = tuple(i for i in subset if sites[i].supply[j] > 0)
        key = (j, holders)
        if key not in memo:
            options = [(sites[i].unit, sites[i].supply[j]) for i in holders]
            memo[key] = _cheapest_split(problem.demand[j], options, problem.penalty)
        return memo[key]

    best = math.inf
    for size in range(limit + 1):
        for subset in combinations(range(n), size):
            total = sum(sites[i].fixed for i in subset)
            total += sum(sku_cost(j, subset) for j in range(len(problem.skus)))
            best = min(best, total)
    return best


def test_oracle_on_hand_computed_instances() -> None:
    # Demand 3: one unit at 1.0 from a site holding 1, the rest at 2.0 from a site holding 5.
    assert _cheapest_split(3, [(1.0, 1), (2.0, 5)], 10.0) == pytest.approx(5.0)
    # Units dearer than the penalty are backordered.
    assert _cheapest_split(2, [(7.0, 2)], 5.0) == pytest.approx(10.0)
    assert _cheapest_split(2, [], 5.0) == pytest.approx(10.0)


# -- checks shared by both tests -------------------------------------------------------------


def check_plan(
    got: Plan,
    request: SourcingRequest,
    candidates: Sequence[Candidate],
    profile: SourcingProfile,
) -> None:
    """Feasible (never more than a location has, every unit allocated or backordered, within
    the fulfillment limit) and priced by the profile's formula."""
    demand = request.demand()
    by_id = {c.location.id: c for c in candidates}
    ids = [a.location_id for a in got.allocations]
    assert len(ids) == len(set(ids))
    limit = profile.fulfillment_limit
    assert limit is None or len(ids) <= limit
    given_units: dict[str, int] = {}
    expected = 0.0
    assert request.ship_to is not None
    for a in got.allocations:
        c = by_id[a.location_id]
        km = haversine_km(request.ship_to, c.location.point)
        assert a.units > 0
        expected += profile.shipment_cost + c.location.handling_cost
        for sku, qty in a.lines:
            assert sku in demand
            assert 0 < qty <= c.available.get(sku, 0)
            given_units[sku] = given_units.get(sku, 0) + qty
            expected += qty * (profile.unit_cost + profile.unit_km_cost * km)
    back = dict(got.backordered)
    assert all(q > 0 for q in back.values())
    for sku, qty in demand.items():
        assert given_units.get(sku, 0) + back.get(sku, 0) == qty
    assert set(given_units) | set(back) <= set(demand)
    expected += profile.backorder_penalty * sum(back.values())
    assert got.cost.total == pytest.approx(expected, abs=1e-6)


def check_sites(problem: Problem, request: SourcingRequest, profile: SourcingProfile) -> None:
    """The sites the oracle reads carry the profile's cost model."""
    assert request.ship_to is not None
    for s in problem.sites:
        km = haversine_km(request.ship_to, s.location.point)
        assert s.fixed == pytest.approx(profile.shipment_cost + s.location.handling_cost)
        assert s.unit == pytest.approx(profile.unit_cost + profile.unit_km_cost * km)


# -- small random instances against the oracle -----------------------------------------------

SKUS = ("A", "B", "C", "D")
lat = st.floats(25.0, 49.0)
lon = st.floats(-124.0, -67.0)
# Stock is often zero.
stock_qty = st.sampled_from((0, 0, 0, 0, 1, 2, 3, 4, 5))


@st.composite
def instances(
    draw: st.DrawFn,
) -> tuple[SourcingRequest, list[Candidate], SourcingProfile]:
    n_lines = draw(st.integers(1, 4))
    skus = SKUS[:n_lines]
    lines = tuple((s, draw(st.integers(1, 4))) for s in skus)
    ship_to = GeoPoint(draw(lat), draw(lon))
    candidates = []
    for k in range(draw(st.integers(0, 8))):
        location = Location(
            id=f"L{k}",
            name=f"L{k}",
            type=draw(st.sampled_from((LocationType.WAREHOUSE, LocationType.STORE))),
            latitude=draw(lat),
            longitude=draw(lon),
            handling_cost=draw(st.floats(0.0, 5.0)),
            priority=draw(st.integers(0, 3)),
        )
        stock = {s: draw(stock_qty) for s in skus}
        candidates.append(Candidate(location, stock))
    profile = SourcingProfile(
        shipment_cost=draw(st.floats(0.0, 20.0)),
        unit_cost=draw(st.floats(0.0, 2.0)),
        unit_km_cost=draw(st.floats(0.0, 0.01)),
        backorder_penalty=draw(st.floats(0.0, 60.0)),
        allow_split=draw(st.booleans()),
        max_fulfillments=draw(st.none() | st.integers(1, 3)),
    )
    request = SourcingRequest(lines=lines, service_level=ServiceLevel.STANDARD, ship_to=ship_to)
    return request, candidates, profile


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances())
def test_engine_cost_equals_the_brute_force_optimum(
    instance: tuple[SourcingRequest, list[Candidate], SourcingProfile],
) -> None:
    request, candidates, profile = instance
    problem, _ = sourcing.prepare(request, candidates, profile)
    check_sites(problem, request, profile)
    best = oracle_cost(problem)

    result = sourcing.plan(request, candidates, profile)

    check_plan(result.plan, request, candidates, profile)
    assert result.plan.cost.total == pytest.approx(best, abs=1e-6)
    assert sourcing.plan(request, candidates, profile).plan == result.plan  # deterministic


# -- realistic instances against HiGHS -------------------------------------------------------

NETWORK_SKUS = ("SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5")


def network(seed: int) -> tuple[SourcingRequest, list[Candidate], SourcingProfile]:
    """50 locations (4 warehouses with broad stock, 46 stores with scarce stock) and an order
    of 5 lines, under a profile drawn around the default."""
    rng = random.Random(seed)

    def point() -> tuple[float, float]:
        return rng.uniform(25.0, 49.0), rng.uniform(-124.0, -67.0)

    candidates = []
    for k in range(50):
        warehouse = k < 4
        la, lo = point()
        location = Location(
            id=f"{'W' if warehouse else 'S'}{k:02d}",
            name=f"location {k}",
            type=LocationType.WAREHOUSE if warehouse else LocationType.STORE,
            latitude=la,
            longitude=lo,
            handling_cost=rng.uniform(0.5, 2.0) if warehouse else rng.uniform(1.0, 4.0),
            priority=rng.randint(0, 3),
        )
        if warehouse:
            stock = {s: rng.randint(1, 30) for s in NETWORK_SKUS if rng.random() < 0.7}
        else:
            stock = {s: rng.randint(1, 3) for s in NETWORK_SKUS if rng.random() < 0.25}
        candidates.append(Candidate(location, stock))
    lines = tuple((s, rng.randint(1, 4)) for s in NETWORK_SKUS)
    profile = SourcingProfile(
        shipment_cost=rng.uniform(2.0, 12.0),
        unit_cost=rng.uniform(0.2, 1.0),
        unit_km_cost=rng.uniform(0.0002, 0.003),
        backorder_penalty=rng.uniform(20.0, 60.0),
        max_fulfillments=rng.choice((None, None, 2, 3)),
    )
    request = SourcingRequest(
        lines=lines, service_level=ServiceLevel.STANDARD, ship_to=GeoPoint(*point())
    )
    return request, candidates, profile


def highs_optimum(problem: Problem) -> float:
    sol, gap, status = solve_mip(problem, None, 30.0)
    assert gap <= 1e-9 or status == "Optimal", (gap, status)
    return sol.total


@pytest.mark.parametrize("seed", range(20))
def test_engine_cost_equals_the_highs_optimum_on_50_locations(seed: int) -> None:
    request, candidates, profile = network(seed)
    problem, _ = sourcing.prepare(request, candidates, profile)
    assert len(problem.sites) >= 10

    result = sourcing.plan(request, candidates, profile)

    check_plan(result.plan, request, candidates, profile)
    assert result.plan.cost.total == pytest.approx(highs_optimum(problem), abs=1e-6)
    assert sourcing.plan(request, candidates, profile).plan == result.plan


def test_engine_falls_back_to_highs_when_the_search_budget_runs_out() -> None:
    # An instance whose search needs more than one node.
    for seed in range(20):
        request, candidates, profile = network(seed)
        if sourcing.plan(request, candidates, profile).trace["search"]["nodes"] > 1:
            break
    else:
        pytest.fail("no instance needs more than one search node")
    problem, _ = sourcing.prepare(request, candidates, profile)

    result = sourcing.plan(request, candidates, profile, sourcing.SearchBudget(max_nodes=1))

    method = result.trace["method"]
    assert method["name"] == "highs"
    assert isinstance(method["gap"], float)
    assert method["gap"] >= 0.0
    check_plan(result.plan, request, candidates, profile)
    assert result.plan.cost.total == pytest.approx(highs_optimum(problem), abs=1e-6)


def test_the_same_order_gets_the_same_plan_however_slow_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The search budget is counted in nodes: a machine on which every clock reading is a
    second later searches exactly as far and answers exactly the same plan."""
    for seed in range(40):
        request, candidates, profile = network(seed)
        if sourcing.plan(request, candidates, profile).trace["search"]["nodes"] > 50:
            break
    else:
        pytest.fail("no instance needs more than 50 search nodes")
    budget = sourcing.SearchBudget(max_nodes=50)
    fast = sourcing.plan(request, candidates, profile, budget)
    ticks = iter(range(10**9))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    slow = sourcing.plan(request, candidates, profile, budget)
    assert slow.plan == fast.plan
    assert slow.trace["search"] == fast.trace["search"]
    assert slow.trace["method"]["name"] == fast.trace["method"]["name"] == "highs"
