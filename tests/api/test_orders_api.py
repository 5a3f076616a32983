"""The HTTP contract for orders, inventory feeds and errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body


@pytest.fixture
def network(client: TestClient) -> TestClient:
    api_location(client, "NEWARK", "NEWARK")
    api_location(client, "DALLAS", "DALLAS")
    api_location(client, "NYC", "NYC", type="store", can_pickup=True)
    for sku in ("A", "B"):
        api_product(client, sku)
    api_stock(client, "NEWARK", "A", 5)
    api_stock(client, "DALLAS", "A", 10)
    api_stock(client, "DALLAS", "B", 3)
    api_stock(client, "NYC", "B", 1)
    return client


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["status"] == status and body["title"] and body["type"] and "detail" in body
    return body


def test_an_order_is_created_with_201_and_its_fulfillments(network: TestClient) -> None:
    r = network.post("/v1/orders", json=order_body("W-1", [("A", 2)]))
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "allocated" and body["id"].startswith("ord_")
    assert body["lines"] == [
        {
            "sku": "A",
            "name": None,
            "quantity": 2,
            "unit_price": None,
            "metadata": {},
            "allocated": 2,
            "backordered": 0,
            "cancelled": 0,
            "shipped": 0,
            "returned": 0,
            "backorder_expected_date": None,
        }
    ]
    (f,) = body["fulfillments"]
    assert f["location_id"] == "NEWARK" and f["state"] == "pending"
    assert f["estimated_delivery_date"] > body["created_at"][:10]
    assert network.get(f"/v1/orders/{body['id']}").json() == body


def test_the_same_order_posted_again_returns_200_and_another_body_409(network: TestClient) -> None:
    first = network.post("/v1/orders", json=order_body("W-1", [("A", 2)]))
    again = network.post("/v1/orders", json=order_body("W-1", [("A", 2)]))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert_problem(network.post("/v1/orders", json=order_body("W-1", [("A", 1)])), 409)
    assert network.get("/v1/inventory/NEWARK/A").json()["reserved"] == 2


def test_an_idempotency_key_replays_the_first_answer(network: TestClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    receipt = {"location_id": "NEWARK", "sku": "A", "delta": 3, "reason": "receipt"}
    first = network.post("/v1/inventory/adjustments", headers=headers, json=receipt)
    again = network.post("/v1/inventory/adjustments", headers=headers, json=receipt)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert network.get("/v1/inventory/NEWARK/A").json()["on_hand"] == 8
    other = network.post("/v1/inventory/adjustments", headers=headers, json={**receipt, "delta": 4})
    assert_problem(other, 409)
    assert network.get("/v1/inventory/NEWARK/A").json()["on_hand"] == 8


def test_ship_to_by_us_zip_code_is_resolved_offline(network: TestClient) -> None:
    body = order_body("W-Z", [("A", 1)])
    body["ship_to"] = {"postal_code": "75201", "country": "US"}  # Dallas
    r = network.post("/v1/orders", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["fulfillments"][0]["location_id"] == "DALLAS"


def test_an_unknown_zip_code_is_a_422_not_a_guess(network: TestClient) -> None:
    body = order_body("W-Z", [("A", 1)])
    body["ship_to"] = {"postal_code": "00000", "country": "US"}
    problem = assert_problem(network.post("/v1/orders", json=body), 422)
    assert problem["errors"][0]["field"] == "ship_to.postal_code"


def test_every_unknown_sku_is_named(network: TestClient) -> None:
    body = order_body("W-U", [("A", 1), ("X1", 1), ("X2", 1)])
    problem = assert_problem(network.post("/v1/orders", json=body), 422)
    assert {e["field"] for e in problem["errors"]} == {"lines[1].sku", "lines[2].sku"}
    assert network.get("/v1/orders").json()["items"] == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["lines"][0].update(quantity=0), "lines[0].quantity"),
        (lambda b: b["lines"][0].update(quantity=1_000_001), "lines[0].quantity"),
        (lambda b: b.update(lines=[]), "lines"),
        (lambda b: b.update(lines=[{"sku": "A", "quantity": 1}] * 501), "lines"),
        (lambda b: b.update(channel="bad channel!"), "channel"),
        (lambda b: b.update(external_id="x" * 65), "external_id"),
        (lambda b: b.update(ship_to={"latitude": 91, "longitude": 0}), "ship_to.latitude"),
        (lambda b: b.update(service_level="teleport"), "service_level"),
        (lambda b: b.pop("ship_to"), "ship_to"),
        (lambda b: b.update(sourcing_profile="nope"), "sourcing_profile"),
    ],
)
def test_out_of_range_input_is_a_422_naming_the_field(
    network: TestClient, mutate: Any, field: str
) -> None:
    body = order_body("W-V", [("A", 1)])
    mutate(body)
    problem = assert_problem(network.post("/v1/orders", json=body), 422)
    assert field in {e["field"] for e in problem["errors"]}, problem


def test_pickup_needs_a_location_that_offers_pickup(network: TestClient) -> None:
    body = order_body("P-1", [("B", 1)], service_level="pickup", pickup_location_id="NEWARK")
    problem = assert_problem(network.post("/v1/orders", json=body), 422)
    assert problem["errors"][0]["field"] == "pickup_location_id"
    body = order_body("P-2", [("B", 2)], service_level="pickup", pickup_location_id="NYC")
    body.pop("ship_to")
    r = network.post("/v1/orders", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "partially_allocated"
    assert [f["location_id"] for f in r.json()["fulfillments"]] == ["NYC"]


def test_malformed_json_is_a_422_problem(network: TestClient) -> None:
    r = network.post(
        "/v1/orders", content=b'{"channel": "web",', headers={"Content-Type": "application/json"}
    )
    assert assert_problem(r, 422)["errors"][0]["field"] == "body"


def test_bodies_over_one_mebibyte_are_refused_with_413(network: TestClient) -> None:
    big = b'{"items": [' + b" " * (1024 * 1024 + 10) + b"]}"
    r = network.post(
        "/v1/inventory/snapshots", content=big, headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 413)


def test_missing_and_unknown_keys_get_401(network: TestClient) -> None:
    r = network.get("/v1/orders", headers={"Authorization": ""})
    assert_problem(r, 401)
    r = network.get("/v1/orders", headers={"Authorization": "Bearer nope"})
    assert_problem(r, 401)


def test_unknown_routes_and_ids_are_404_problems(network: TestClient) -> None:
    assert_problem(network.get("/v1/nothing-here"), 404)
    assert_problem(network.get("/v1/orders/ord_0000000000aaaaaaaaaaaaaaaa"), 404)
    assert_problem(network.get("/v1/orders/W-1001"), 404)
    assert_problem(network.post("/v1/orders/nope/cancel"), 404)
    assert_problem(network.get("/v1/locations/NOPE"), 404)


def test_orders_list_pages_newest_first_with_a_cursor(network: TestClient) -> None:
    ids = [
        network.post("/v1/orders", json=order_body(f"W-{i}", [("A", 1)])).json()["id"]
        for i in range(5)
    ]
    page1 = network.get("/v1/orders?limit=3").json()
    page2 = network.get(f"/v1/orders?limit=3&cursor={page1['next_cursor']}").json()
    assert [o["id"] for o in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None
    one = network.get("/v1/orders?external_id=W-2").json()["items"]
    assert [o["id"] for o in one] == [ids[2]]
    assert_problem(network.get("/v1/orders?cursor=%%%"), 422)


def test_availability_lists_locations_nearest_first(network: TestClient) -> None:
    r = network.get("/v1/availability?sku=A&sku=B&latitude=40.71&longitude=-74.0")
    assert r.status_code == 200, r.text
    items = {i["sku"]: i for i in r.json()["items"]}
    assert items["A"]["available"] == 15
    assert [x["location_id"] for x in items["A"]["locations"]] == ["NEWARK", "DALLAS"]
    assert items["B"]["locations"][0]["location_id"] == "NYC"
    assert_problem(network.get("/v1/availability?sku=ZZZ"), 422)


def test_snapshot_sequences_refuse_stale_feeds_over_http(network: TestClient) -> None:
    body = {"items": [{"location_id": "NEWARK", "sku": "A", "on_hand": 9}], "sequence": 5}
    assert network.post("/v1/inventory/snapshots", json=body).json()["changed"] == 1
    body["sequence"] = 4
    assert_problem(network.post("/v1/inventory/snapshots", json=body), 409)
    full = {"items": [], "mode": "full", "location_id": "DALLAS", "sequence": 1}
    assert network.post("/v1/inventory/snapshots", json=full).json()["zeroed"] == 2
    assert network.get("/v1/inventory/DALLAS/B").json()["on_hand"] == 0


def test_the_event_feed_tells_the_story_in_order(network: TestClient) -> None:
    start = network.get("/v1/events?limit=500").json()["next_after"]
    order = network.post("/v1/orders", json=order_body("W-E", [("A", 1)])).json()
    network.post(f"/v1/orders/{order['id']}/cancel")
    feed = network.get(f"/v1/events?after={start}").json()
    assert [e["type"] for e in feed["items"]] == [
        "order.created",
        "fulfillment.created",
        "inventory.updated",  # the reservation
        "fulfillment.cancelled",
        "order.cancelled",
        "inventory.updated",  # its release
    ]
    seqs = [e["seq"] for e in feed["items"]]
    assert seqs == sorted(seqs) and feed["next_after"] == seqs[-1]
    assert network.get(f"/v1/events?after={seqs[-1]}").json() == {
        "items": [],
        "next_after": seqs[-1],
    }


def test_the_sourcing_trace_explains_the_choice(network: TestClient) -> None:
    order = network.post("/v1/orders", json=order_body("W-T", [("A", 1), ("B", 1)])).json()
    trace = network.get(f"/v1/orders/{order['id']}/sourcing").json()
    (round1,) = trace["rounds"]
    assert round1["profile"] == {"name": "default", "version": 0}
    chosen = round1["chosen"]
    assert [f["location_id"] for f in chosen["fulfillments"]] == ["DALLAS"]
    # NEWARK and NYC each hold one of the two SKUs: any plan using them costs more than the
    # chosen one, and the trace says by how much at least.
    excluded = {c["location_id"]: c["excluded"] for c in round1["candidates"]}
    assert excluded == {"DALLAS": None, "NEWARK": "cost_bound", "NYC": "cost_bound"}
    for c in round1["candidates"]:
        assert c["lower_bound"] >= chosen["cost"]["total"] - 1e-6
    assert round1["method"] == {"name": "branch-and-bound", "gap": 0.0}
    totals = [p["cost"]["total"] for p in round1["plans"]]
    assert totals == sorted(totals) and totals[0] == chosen["cost"]["total"]


def test_sourcing_profiles_are_versioned(network: TestClient) -> None:
    assert network.get("/v1/sourcing-profiles/default").json()["version"] == 0
    r = network.put("/v1/sourcing-profiles/no-stores", json={"location_types": ["warehouse"]})
    assert r.status_code == 201 and r.json()["version"] == 1
    r = network.put(
        "/v1/sourcing-profiles/no-stores",
        json={"location_types": ["warehouse"], "allow_split": False},
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    body = order_body("W-S", [("B", 1)], sourcing_profile="no-stores")
    order = network.post("/v1/orders", json=body).json()
    assert [f["location_id"] for f in order["fulfillments"]] == ["DALLAS"]
    trace = network.get(f"/v1/orders/{order['id']}/sourcing").json()["rounds"][0]
    assert trace["profile"] == {"name": "no-stores", "version": 2}


def test_metrics_count_captured_orders_and_replays(network: TestClient) -> None:
    def value(name: str) -> float:
        for line in network.get("/metrics").text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    # parcels that cost nothing: A from NEWARK and B from the NYC store, the nearest of each
    network.put("/v1/sourcing-profiles/cheap-parcels", json={"shipment_cost": 0.0})
    splits = value("omniorder_split_orders_total")
    split = order_body("W-S2", [("A", 1), ("B", 1)], sourcing_profile="cheap-parcels")
    order = network.post("/v1/orders", json=split).json()
    assert sorted(f["location_id"] for f in order["fulfillments"]) == ["NEWARK", "NYC"]
    assert value("omniorder_split_orders_total") == splits + 1
    created = 'omniorder_orders_created_total{channel="web",status="partially_allocated"}'
    planned = 'omniorder_sourcing_seconds_count{method="branch-and-bound"}'
    before, replays = value(created), value("omniorder_order_replays_total")
    plans = value(planned)
    body = order_body("W-M", [("A", 1), ("B", 9)])
    network.post("/v1/orders", json=body)
    network.post("/v1/orders", json=body)
    assert value(created) == before + 1
    assert value("omniorder_order_replays_total") == replays + 1
    assert value(planned) == plans + 1


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
    assert "omniorder_request_seconds" in client.get("/metrics").text


def _state(client: TestClient) -> tuple[Any, ...]:
    positions = client.get("/v1/inventory?limit=500").json()["items"]
    orders = client.get("/v1/orders?limit=500").json()["items"]
    events = client.get("/v1/events?limit=500").json()["next_after"]
    ledger = client.get("/v1/inventory/NEWARK/A/ledger?limit=500").json()["items"]
    return positions, orders, events, ledger


def test_failed_requests_change_nothing(network: TestClient) -> None:
    network.post("/v1/orders", json=order_body("W-K", [("A", 1)]))
    network.post(
        "/v1/inventory/snapshots",
        json={"items": [], "sequence": 9, "mode": "full", "location_id": "NYC"},
    )
    before = _state(network)
    bad: list[tuple[str, str, Any, int]] = [
        ("POST", "/v1/orders", order_body("W-X", [("A", 1), ("NOPE", 1)]), 422),
        ("POST", "/v1/orders", order_body("W-K", [("A", 2)]), 409),
        (
            "POST",
            "/v1/orders",
            {**order_body("W-Y", [("A", 1)]), "ship_to": {"postal_code": "00000"}},
            422,
        ),
        (
            "POST",
            "/v1/inventory/snapshots",
            {
                "items": [
                    {"location_id": "NEWARK", "sku": "A", "on_hand": 1},
                    {"location_id": "NEWARK", "sku": "NOPE", "on_hand": 1},
                ]
            },
            422,
        ),
        (
            "POST",
            "/v1/inventory/snapshots",
            {"items": [{"location_id": "NYC", "sku": "A", "on_hand": 1}], "sequence": 8},
            409,
        ),
        (
            "POST",
            "/v1/inventory/adjustments",
            {"location_id": "NEWARK", "sku": "A", "delta": -100, "reason": "count"},
            409,
        ),
        ("PUT", "/v1/inventory/NEWARK/A", {"on_hand": -1}, 422),
        ("PUT", "/v1/inventory/NEWARK/A", {"on_hand": "5"}, 422),
        (
            "PUT",
            "/v1/locations/NEWARK",
            {"name": "x", "type": "moon", "latitude": 0, "longitude": 0},
            422,
        ),
        ("POST", "/v1/orders/ord_0000000000aaaaaaaaaaaaaaaa/cancel", None, 404),
        ("GET", "/v1/orders?staus=allocated", None, 422),
    ]
    for method, path, body, status in bad:
        assert_problem(network.request(method, path, json=body), status)
    big = b'{"items": [' + b" " * (1024 * 1024) + b"]}"
    assert_problem(
        network.post(
            "/v1/inventory/snapshots", content=big, headers={"Content-Type": "application/json"}
        ),
        413,
    )
    assert _state(network) == before
