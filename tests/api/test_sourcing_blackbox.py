"""Routing as a client sees it: orders placed through the API on a realistic network, each
decision checked against an optimum computed from the contract alone.

The client loads the demo network (warehouses and stores in real US cities, scarce store
stock, Zipf demand) through the API and places orders one after the other. For every order it
reads the decision trace (`GET /v1/orders/{id}/sourcing`), which lists what each eligible
location could supply and its distance at planning time, and prices every possible plan
itself with the profile's formula: the optimum it gets from HiGHS on that data must equal the
chosen plan's cost. On the same data it also routes each order line by line to the nearest
location, and expects omniorder to cost less in total and to split far fewer orders.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from omniorder.demo.network import build_network, generate_orders
from omniorder.domain.model import Location, LocationType
from omniorder.domain.sourcing import Problem, Site, SourcingProfile
from omniorder.domain.sourcing_mip import solve_mip

PROFILE = SourcingProfile()  # the contract's default numbers
ORDERS = 120


@pytest.fixture
def demo(client: TestClient) -> dict[str, dict[str, Any]]:
    net = build_network(seed=3)
    for loc in net.locations:
        r = client.put(f"/v1/locations/{loc.id}", json=loc.as_payload())
        assert r.status_code == 201, r.text
    for p in net.products:
        assert client.put(f"/v1/products/{p.sku}", json=p.as_payload()).status_code == 201
    items = [
        {"location_id": s.location_id, "sku": s.sku, "on_hand": s.on_hand, "safety_stock": 0}
        for s in net.stock
    ]
    r = client.post("/v1/inventory/snapshots", json={"items": items})
    assert r.status_code == 200, r.text
    return {loc.id: loc.as_payload() for loc in net.locations}


def problem_from_trace(trace: dict[str, Any], locations: dict[str, dict[str, Any]]) -> Problem:
    """The order's instance rebuilt from the trace and the location list alone."""
    demand = trace["demand"]
    skus = tuple(sorted(demand))
    sites = []
    for c in trace["candidates"]:
        if c["excluded"] not in (None, "cost_bound"):
            continue
        loc = locations[c["location_id"]]
        km = c["distance_km"] or 0.0
        sites.append(
            Site(
                Location(
                    id=c["location_id"],
                    name=str(loc["name"]),
                    type=LocationType(loc["type"]),
                    latitude=float(loc["latitude"]),
                    longitude=float(loc["longitude"]),
                    handling_cost=float(loc["handling_cost"]),
                    priority=int(loc["priority"]),
                ),
                km,
                tuple(int(c["supplies"].get(s, 0)) for s in skus),
                PROFILE.shipment_cost + float(loc["handling_cost"]),
                PROFILE.unit_cost + PROFILE.unit_km_cost * km,
            )
        )
    return Problem(
        skus,
        tuple(int(demand[s]) for s in skus),
        tuple(sites),
        PROFILE.backorder_penalty,
        PROFILE.fulfillment_limit,
    )


def nearest_per_line(problem: Problem) -> tuple[float, int]:
    """(cost, parcels) of routing each line to the nearest location with stock, then the
    next nearest."""
    by_km = sorted(problem.sites, key=lambda s: s.km)
    used: dict[str, float] = {}
    cost = 0.0
    for j, need in enumerate(problem.demand):
        for site in by_km:
            give = min(need, site.supply[j])
            if give:
                used[site.location.id] = site.fixed
                cost += give * site.unit
                need -= give
        cost += need * problem.penalty
    return cost + sum(used.values()), len(used)


def test_every_decision_is_the_optimum_a_client_computes(
    demo: dict[str, dict[str, Any]], client: TestClient
) -> None:
    net = build_network(seed=3)
    total = greedy_total = 0.0
    splits = greedy_splits = 0
    for o in generate_orders(net, ORDERS, seed=5, pickup_share=0.0):
        r = client.post("/v1/orders", json=o.as_payload())
        assert r.status_code == 201, r.text
        order = r.json()
        trace = client.get(f"/v1/orders/{order['id']}/sourcing").json()["rounds"][0]["detail"]
        chosen = trace["chosen"]["cost"]["total"]
        problem = problem_from_trace(trace, demo)
        optimum, gap, _ = solve_mip(problem, None, 30.0)
        assert gap <= 1e-9
        assert chosen == pytest.approx(optimum.total, abs=1e-5), order["external_id"]
        # the order's fulfillments are the chosen plan
        assert sorted(f["location_id"] for f in order["fulfillments"]) == sorted(
            f["location_id"] for f in trace["chosen"]["fulfillments"]
        )
        g_cost, g_parcels = nearest_per_line(problem)
        total += chosen
        greedy_total += g_cost
        splits += len(order["fulfillments"]) > 1
        greedy_splits += g_parcels > 1
    assert total < greedy_total
    assert splits < greedy_splits / 2
