"""Sourcing profiles (versions kept), channel defaults, and the engine's choices through the
API: the order's profile decides, and its trace names the version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body


@pytest.fixture
def network(client: TestClient) -> TestClient:
    # A near store and a far warehouse both hold A and B; under the default profile the store
    # (handling 0.5) beats the warehouse (0.74 of per-km cost for a unit from Dallas to NYC).
    api_location(client, "NYC", "NYC", type="store", can_pickup=True, handling_cost=0.5)
    api_location(client, "DALLAS", "DALLAS", priority=10)
    for sku in ("A", "B"):
        api_product(client, sku)
        api_stock(client, "NYC", sku, 5)
        api_stock(client, "DALLAS", sku, 50)
    return client


def test_every_version_of_a_profile_is_kept(network: TestClient) -> None:
    network.put("/v1/sourcing-profiles/eu", json={"shipment_cost": 5.0})
    network.put("/v1/sourcing-profiles/eu", json={"shipment_cost": 6.5, "allow_split": False})
    v1 = network.get("/v1/sourcing-profiles/eu/versions/1").json()
    v2 = network.get("/v1/sourcing-profiles/eu/versions/2").json()
    assert (v1["version"], v1["shipment_cost"], v1["allow_split"]) == (1, 5.0, True)
    assert (v2["version"], v2["shipment_cost"], v2["allow_split"]) == (2, 6.5, False)
    assert v1["created_at"] <= v2["created_at"]
    builtin = network.get("/v1/sourcing-profiles/default/versions/0").json()
    assert builtin["version"] == 0 and builtin["created_at"] is None
    assert network.get("/v1/sourcing-profiles/eu/versions/3").status_code == 404
    names = [p["name"] for p in network.get("/v1/sourcing-profiles").json()["items"]]
    assert names == ["default", "eu", "fastest"]


def test_an_order_without_a_profile_uses_its_channels_default(network: TestClient) -> None:
    network.put("/v1/sourcing-profiles/warehouses-only", json={"location_types": ["warehouse"]})
    r = network.put("/v1/channels/marketplace", json={"sourcing_profile": "warehouses-only"})
    assert r.status_code == 201 and r.json()["sourcing_profile"] == "warehouses-only"
    assert network.get("/v1/channels/marketplace").json()["sourcing_profile"] == "warehouses-only"

    web = network.post("/v1/orders", json=order_body("W-1", [("A", 1)])).json()
    market = network.post(
        "/v1/orders", json=order_body("M-1", [("A", 1)], channel="marketplace")
    ).json()
    assert web["sourcing_profile"] == "default"
    assert [f["location_id"] for f in web["fulfillments"]] == ["NYC"]
    assert market["sourcing_profile"] == "warehouses-only"
    assert [f["location_id"] for f in market["fulfillments"]] == ["DALLAS"]
    trace = network.get(f"/v1/orders/{market['id']}/sourcing").json()["rounds"][0]
    assert trace["profile"] == {"name": "warehouses-only", "version": 1}
    excluded = {c["location_id"]: c["excluded"] for c in trace["candidates"]}
    assert excluded["NYC"] == "profile_rule"

    # An order naming a profile overrides the channel's.
    named = network.post(
        "/v1/orders",
        json=order_body("M-2", [("A", 1)], channel="marketplace", sourcing_profile="default"),
    ).json()
    assert [f["location_id"] for f in named["fulfillments"]] == ["NYC"]


def test_a_channel_needs_an_existing_profile(network: TestClient) -> None:
    r = network.put("/v1/channels/app", json={"sourcing_profile": "nope"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sourcing_profile"
    assert network.get("/v1/channels/app").status_code == 404
    assert network.get("/v1/channels").json()["items"] == []


def test_the_profile_changes_the_plan_and_the_trace_compares_plans(network: TestClient) -> None:
    """With a high per-km cost the near store wins; without a per-km cost the far warehouse
    (no handling cost) wins."""
    network.put("/v1/sourcing-profiles/km", json={"unit_km_cost": 0.05})
    network.put("/v1/sourcing-profiles/flat", json={"unit_km_cost": 0.0})
    near = network.post(
        "/v1/orders", json=order_body("K-1", [("A", 2), ("B", 1)], sourcing_profile="km")
    ).json()
    far = network.post(
        "/v1/orders", json=order_body("F-1", [("A", 2), ("B", 1)], sourcing_profile="flat")
    ).json()
    assert [f["location_id"] for f in near["fulfillments"]] == ["NYC"]
    assert [f["location_id"] for f in far["fulfillments"]] == ["DALLAS"]
    trace = network.get(f"/v1/orders/{far['id']}/sourcing").json()["rounds"][0]
    plans = trace["plans"]
    assert plans[0] == trace["chosen"]
    assert {p["fulfillments"][0]["location_id"] for p in plans if p["fulfillments"]} >= {"DALLAS"}
    terms = trace["chosen"]["cost"]
    assert terms["total"] == pytest.approx(
        terms["shipments"] + terms["handling"] + terms["units"] + terms["distance"]
    )
    assert trace["method"]["name"] == "branch-and-bound" and trace["elapsed_ms"] >= 0


def test_locations_carry_a_shipping_calendar(client: TestClient) -> None:
    bad = client.put(
        "/v1/locations/X",
        json={"name": "X", "type": "store", "latitude": 1, "longitude": 1, "timezone": "Mars/Base"},
    )
    assert bad.status_code == 422
    assert (
        client.put(
            "/v1/locations/X",
            json={"name": "X", "type": "store", "latitude": 1, "longitude": 1, "cutoff": "25:00"},
        ).status_code
        == 422
    )
    body = api_location(
        client,
        "CHI",
        "CHICAGO",
        timezone="America/Chicago",
        cutoff="16:30",
        working_days=["mon", "tue", "wed", "thu", "fri", "sat"],
        closed_dates=["2026-12-25"],
        handling_days=2,
    )
    assert (body["timezone"], body["cutoff"], body["handling_days"]) == (
        "America/Chicago",
        "16:30",
        2,
    )
    got = client.get("/v1/locations/CHI").json()
    assert got["working_days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert got["closed_dates"] == ["2026-12-25"]


def test_an_order_promise_date_is_kept_and_weighed(network: TestClient) -> None:
    # The NYC store needs 15 handling days (3 weeks or more to arrive); from DALLAS a parcel
    # arrives within 10 calendar days whatever the day and hour (handling from the next working
    # day at worst, one handling day, four carrier days), so a date 11 days out is kept only
    # from DALLAS.
    api_location(
        network, "NYC", "NYC", type="store", can_pickup=True, handling_cost=0.5, handling_days=15
    )
    network.put("/v1/sourcing-profiles/on-time", json={"late_day_cost": 20.0})
    from datetime import date, timedelta

    promise = (date.today() + timedelta(days=11)).isoformat()
    plain = network.post(
        "/v1/orders", json=order_body("D-1", [("A", 1)], promise_by=promise)
    ).json()
    assert plain["promise_by"] == promise
    assert [f["location_id"] for f in plain["fulfillments"]] == ["NYC"]
    timely = network.post(
        "/v1/orders",
        json=order_body("D-2", [("A", 1)], promise_by=promise, sourcing_profile="on-time"),
    ).json()
    trace = network.get(f"/v1/orders/{timely['id']}/sourcing").json()["rounds"][0]
    dates = {c["location_id"]: c["delivery_date"] for c in trace["candidates"]}
    assert dates["NYC"] > promise >= dates["DALLAS"]
    assert [f["location_id"] for f in timely["fulfillments"]] == ["DALLAS"]
    assert trace["chosen"]["cost"]["lateness"] == 0
