"""`omniorder bench sourcing`: the sourcing engine in-process, next to a greedy and HiGHS.

Instances come from the demo generator: real US cities, about one warehouse for every ten
locations (broad, deep stock) and stores with scarce stock of the popular SKUs, orders with
Zipf-popular SKUs shipped to population-weighted points. Every location is a candidate.
For each instance the engine, the nearest-location-per-line greedy and HiGHS (the MIP of
:mod:`omniorder.domain.sourcing_mip`, no time pressure) solve the same order on the same stock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from omniorder.bench.common import percentile
from omniorder.demo.network import DemoNetwork, build_network, sample_ship_to
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import ServiceLevel
from omniorder.domain.sourcing import (
    Candidate,
    SourcingProfile,
    SourcingRequest,
    plan,
    prepare,
)
from omniorder.domain.sourcing_mip import solve_mip
from omniorder.domain.strategies import nearest_per_line

HIGHS_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Instance:
    request: SourcingRequest
    candidates: tuple[Candidate, ...]


def network(locations: int, seed: int) -> DemoNetwork:
    warehouses = max(1, round(locations / 10))
    return build_network(
        seed=seed, warehouses=warehouses, stores=locations - warehouses, products=300
    )


def candidates_of(net: DemoNetwork) -> tuple[Candidate, ...]:
    available: dict[str, dict[str, int]] = {loc.id: {} for loc in net.locations}
    for s in net.stock:
        if s.on_hand - s.safety_stock > 0:
            available[s.location_id][s.sku] = s.on_hand - s.safety_stock
    return tuple(
        Candidate(
            loc.to_location(capacities=False),
            available[loc.id],
        )
        for loc in net.locations
    )


def instances(net: DemoNetwork, lines: int, count: int, seed: int) -> list[Instance]:
    """``count`` orders of exactly ``lines`` distinct SKUs over the network's candidates."""
    rng = random.Random(seed)
    skus = [p.sku for p in net.products]
    weights = [p.popularity for p in net.products]
    candidates = candidates_of(net)
    out = []
    for _ in range(count):
        chosen: list[str] = []
        while len(chosen) < lines:
            sku = rng.choices(skus, weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        demand = tuple((s, rng.choices([1, 2, 3], weights=[80, 15, 5])[0]) for s in chosen)
        point = GeoPoint(*sample_ship_to(rng, net.country))
        out.append(Instance(SourcingRequest(demand, ServiceLevel.STANDARD, point), candidates))
    return out


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    total = sum(seconds)
    return {
        "plans_per_second": round(len(ms) / total, 1) if total else 0.0,
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(ms[-1], 3) if ms else 0.0,
    }


def run_cell(
    items: Sequence[Instance],
    profile: SourcingProfile,
    highs_count: int,
    advance: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Solve every instance with the engine and the greedy; the first ``highs_count`` also
    with HiGHS. Costs compare on the same instance."""
    exact_s: list[float] = []
    greedy_s: list[float] = []
    highs_s: list[float] = []
    exact_cost = greedy_cost = 0.0
    greedy_gaps: list[float] = []
    exact_splits = greedy_splits = 0
    methods: dict[str, int] = {}
    worst_gap = 0.0
    mismatches = 0
    compared = 0
    for n, item in enumerate(items):
        started = time.perf_counter()
        result = plan(item.request, item.candidates, profile)
        exact_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        greedy = nearest_per_line(item.request, item.candidates, profile)
        greedy_s.append(time.perf_counter() - started)
        opt = result.plan.cost.total
        exact_cost += opt
        greedy_cost += greedy.cost.total
        greedy_gaps.append((greedy.cost.total - opt) / opt if opt else 0.0)
        exact_splits += len(result.plan.allocations) > 1
        greedy_splits += len(greedy.allocations) > 1
        name = result.trace["method"]["name"]
        methods[name] = methods.get(name, 0) + 1
        worst_gap = max(worst_gap, float(result.trace["method"].get("gap", 0.0)))
        if n < highs_count:

            def solve(item: Instance = item) -> float:
                problem, _ = prepare(item.request, item.candidates, profile)
                sol, _, _ = solve_mip(problem, None, HIGHS_SECONDS)
                return sol.total

            started = time.perf_counter()
            highs_total = solve()
            highs_s.append(time.perf_counter() - started)
            compared += 1
            if abs(highs_total - opt) > 1e-6 * max(1.0, abs(opt)):
                mismatches += 1
        advance()
    count = len(items)
    return {
        "orders": count,
        "omniorder": _latency(exact_s),
        "greedy": _latency(greedy_s),
        "highs": {**_latency(highs_s), "orders": compared},
        "methods": methods,
        "worst_reported_gap": worst_gap,
        "highs_cost_mismatches": mismatches,
        "cost": {
            "omniorder": round(exact_cost, 3),
            "greedy": round(greedy_cost, 3),
            "greedy_gap_pct": round(100 * (greedy_cost - exact_cost) / exact_cost, 3)
            if exact_cost
            else 0.0,
            "greedy_worst_order_gap_pct": round(100 * max(greedy_gaps, default=0.0), 3),
        },
        "split_rate": {
            "omniorder": round(exact_splits / count, 4) if count else 0.0,
            "greedy": round(greedy_splits / count, 4) if count else 0.0,
        },
    }
