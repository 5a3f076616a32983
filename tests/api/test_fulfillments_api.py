"""The lifecycle through the HTTP API: a location works its own queue only; illegal moves are
409 problem+json; holds and returns as a channel sees them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body


@pytest.fixture
def shop(client: TestClient) -> dict[str, Any]:
    api_location(client, "NEWARK", "NEWARK")
    api_location(client, "DALLAS", "DALLAS")
    api_product(client, "A")
    api_stock(client, "NEWARK", "A", 5)
    api_stock(client, "DALLAS", "A", 5)
    keys = {}
    for name, loc in (("newark", "NEWARK"), ("dallas", "DALLAS")):
        r = client.post(
            "/v1/api-keys", json={"name": name, "role": "location", "location_ids": [loc]}
        )
        keys[name] = {"Authorization": f"Bearer {r.json()['secret']}"}
    return keys


def test_a_location_works_its_own_queue(client: TestClient, shop: dict[str, Any]) -> None:
    order = client.post("/v1/orders", json=order_body("W-1", [("A", 2)])).json()
    fid = order["fulfillments"][0]["id"]
    assert order["fulfillments"][0]["location_id"] == "NEWARK"
    queue = client.get("/v1/fulfillments?state=pending", headers=shop["newark"]).json()
    assert [f["id"] for f in queue["items"]] == [fid]
    assert (
        client.get("/v1/fulfillments?state=pending", headers=shop["dallas"]).json()["items"] == []
    )
    assert client.post(f"/v1/fulfillments/{fid}/accept", headers=shop["dallas"]).status_code == 403
    r = client.post(f"/v1/fulfillments/{fid}/accept", headers=shop["newark"])
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    assert r.json()["accept_by"] is None
    again = client.post(f"/v1/fulfillments/{fid}/accept", headers=shop["newark"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    shipped = client.post(
        f"/v1/fulfillments/{fid}/ship",
        json={"carrier": "UPS", "tracking_number": "1Z9"},
        headers=shop["newark"],
    ).json()
    assert shipped["state"] == "shipped" and shipped["tracking_number"] == "1Z9"
    assert client.get(f"/v1/orders/{order['id']}").json()["status"] == "completed"


def test_reject_re_routes_and_refuses_bad_lines(client: TestClient, shop: dict[str, Any]) -> None:
    order = client.post("/v1/orders", json=order_body("W-2", [("A", 2)])).json()
    fid = order["fulfillments"][0]["id"]
    bad = client.post(
        f"/v1/fulfillments/{fid}/reject",
        json={"reason": "damaged", "lines": [{"sku": "A", "quantity": 3}]},
        headers=shop["newark"],
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lines[0]"
    unknown = client.post(
        f"/v1/fulfillments/{fid}/reject", json={"reason": "tired"}, headers=shop["newark"]
    )
    assert unknown.status_code == 422
    r = client.post(
        f"/v1/fulfillments/{fid}/reject", json={"reason": "out_of_stock"}, headers=shop["newark"]
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    after = client.get(f"/v1/orders/{order['id']}").json()
    assert [(f["location_id"], f["state"]) for f in after["fulfillments"]] == [
        ("NEWARK", "rejected"),
        ("DALLAS", "pending"),
    ]
    assert after["reroutes"] == 1
    newark = client.get("/v1/inventory/NEWARK/A").json()
    assert (newark["on_hand"], newark["reserved"]) == (3, 0)


def test_hold_release_and_return(client: TestClient, shop: dict[str, Any]) -> None:
    body = order_body("W-3", [("A", 1)], hold_reason="fraud")
    order = client.post("/v1/orders", json=body).json()
    assert order["status"] == "on_hold" and order["hold_reason"] == "fraud"
    fid = order["fulfillments"][0]["id"]
    blocked = client.post(f"/v1/fulfillments/{fid}/accept", headers=shop["newark"])
    assert blocked.status_code == 409 and "on hold" in blocked.json()["detail"]
    queue = client.get("/v1/fulfillments", headers=shop["newark"]).json()["items"]
    assert fid not in [f["id"] for f in queue]
    admin_view = client.get(f"/v1/fulfillments/{fid}").json()
    assert admin_view["on_hold"] is True
    assert (
        client.post(f"/v1/orders/{order['id']}/hold", json={"reason": "manual"}).status_code == 409
    )
    released = client.post(f"/v1/orders/{order['id']}/release").json()
    assert released["status"] == "allocated" and released["hold_reason"] is None
    queue = client.get("/v1/fulfillments", headers=shop["newark"]).json()["items"]
    assert fid in [f["id"] for f in queue]
    assert client.post(f"/v1/fulfillments/{fid}/accept", headers=shop["newark"]).status_code == 200
    shipped = client.post(
        f"/v1/fulfillments/{fid}/ship",
        json={"carrier": "UPS", "tracking_number": "1"},
        headers=shop["newark"],
    )
    assert shipped.status_code == 200
    r = client.post(
        f"/v1/orders/{order['id']}/returns",
        json={"lines": [{"sku": "A", "quantity": 1}], "location_id": "DALLAS", "restock": True},
    )
    assert r.status_code == 201 and r.json()["location_id"] == "DALLAS"
    assert client.get(f"/v1/orders/{order['id']}").json()["lines"][0]["returned"] == 1
    assert client.get("/v1/inventory/DALLAS/A").json()["on_hand"] == 6


def test_promise_hold_and_order_through_the_api(client: TestClient, shop: dict[str, Any]) -> None:
    body = {
        "lines": [{"sku": "A", "quantity": 2}],
        "ship_to": {"latitude": 40.7128, "longitude": -74.006},
        "service_levels": ["standard", "express"],
        "hold_seconds": 300,
    }
    r = client.post("/v1/promises", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["promise_id"].startswith("prm_") and answer["held_option"] == 0
    assert [o["service_level"] for o in answer["options"]] == ["standard", "express"]
    assert client.get("/v1/inventory/NEWARK/A").json()["reserved"] == 2
    too_long = client.post("/v1/promises", json={**body, "hold_seconds": 901})
    assert too_long.status_code == 422
    order = client.post(
        "/v1/orders", json=order_body("P-1", [("A", 2)], promise_id=answer["promise_id"])
    )
    assert order.status_code == 201, order.text
    assert client.get("/v1/inventory/NEWARK/A").json()["reserved"] == 2
    again = client.post(
        "/v1/orders", json=order_body("P-2", [("A", 2)], promise_id=answer["promise_id"])
    )
    assert again.status_code == 409


def test_stats_through_the_api(client: TestClient, shop: dict[str, Any]) -> None:
    client.post("/v1/orders", json=order_body("S-1", [("A", 1)]))
    got = client.get("/v1/stats?from=2000-01-01T00:00:00Z").json()
    assert got["orders"] == 1 and got["split_rate"] == 0
    assert client.get("/v1/stats?from=2000-01-01T00:00:00").status_code == 422
    assert client.get("/v1/stats?to=12345").status_code == 422
    key = client.post("/v1/api-keys", json={"name": "app", "role": "channel", "channel": "app"})
    app = {"Authorization": f"Bearer {key.json()['secret']}"}
    assert client.get("/v1/stats", headers=app).json()["orders"] == 0  # its own channel only
    assert client.get("/v1/stats?channel=web", headers=app).status_code == 403


def test_a_count_below_what_is_reserved_re_sources_the_newest_orders_units(
    client: TestClient, shop: dict[str, Any]
) -> None:
    older = client.post("/v1/orders", json=order_body("S-1", [("A", 2)])).json()
    newer = client.post("/v1/orders", json=order_body("S-2", [("A", 2)])).json()
    assert {f["location_id"] for f in older["fulfillments"] + newer["fulfillments"]} == {"NEWARK"}
    counted = client.put("/v1/inventory/NEWARK/A", json={"on_hand": 3}, headers=shop["newark"])
    assert counted.status_code == 200
    newark = client.get("/v1/inventory/NEWARK/A").json()
    assert (newark["on_hand"], newark["reserved"]) == (3, 3)
    after = client.get(f"/v1/orders/{newer['id']}").json()
    assert sorted((f["location_id"], f["state"]) for f in after["fulfillments"]) == [
        ("DALLAS", "pending"),
        ("NEWARK", "pending"),
    ]
    short = next(f for f in after["fulfillments"] if f["location_id"] == "NEWARK")
    assert short["rejected_lines"] == [
        {"sku": "A", "name": None, "quantity": 1, "reason": "shortage"}
    ]
    untouched = client.get(f"/v1/orders/{older['id']}").json()
    assert [ln["allocated"] for ln in untouched["lines"]] == [2]
    trace = client.get(f"/v1/orders/{newer['id']}/sourcing").json()["rounds"]
    assert [r["cause"] for r in trace] == ["order.created", "inventory.shortage"]
    assert trace[1]["summary"].startswith("Re-routed after a shortage")
