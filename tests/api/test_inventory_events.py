"""Every change of availability is an event: a consumer that keeps the latest
``inventory.updated`` per position from the feed alone knows what GET /v1/inventory says,
through reservations, releases, rejects, shipments, promise holds and counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from omniorder.db.clock import utcnow
from omniorder.domain.policy import LifecyclePolicy
from omniorder.services.database import Database
from omniorder.services.worker import run_once
from tests.factories import api_location, api_product, api_stock, order_body

FIELDS = ("on_hand", "reserved", "safety_stock", "available")


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def positions_from_events(client: TestClient) -> dict[tuple[str, str], dict[str, int]]:
    seen: dict[tuple[str, str], dict[str, int]] = {}
    after = 0
    while items := client.get("/v1/events", params={"after": after, "limit": 500}).json()["items"]:
        for e in items:
            if e["type"] == "inventory.updated":
                d = e["data"]
                seen[(d["location_id"], d["sku"])] = {k: d[k] for k in FIELDS}
        after = items[-1]["seq"]
    return seen


def positions_now(client: TestClient) -> dict[tuple[str, str], dict[str, int]]:
    items = client.get("/v1/inventory", params={"limit": 500}).json()["items"]
    return {(p["location_id"], p["sku"]): {k: p[k] for k in FIELDS} for p in items}


def test_a_feed_of_inventory_events_alone_keeps_availability_right(
    client: TestClient, db: Database
) -> None:
    c = client
    for loc in ("NEWARK", "DALLAS"):
        api_location(c, loc, loc)
    api_product(c, "A")
    api_product(c, "B")
    api_stock(c, "NEWARK", "A", 6, safety=1)
    api_stock(c, "DALLAS", "A", 6)
    api_stock(c, "NEWARK", "B", 2)
    shipped = ok(c.post("/v1/orders", json=order_body("V-1", [("A", 2), ("B", 1)])))
    fid = shipped["fulfillments"][0]["id"]
    ok(c.post(f"/v1/fulfillments/{fid}/accept"))
    ok(c.post(f"/v1/fulfillments/{fid}/ship", json={"carrier": "UPS", "tracking_number": "1"}))
    bounced = ok(c.post("/v1/orders", json=order_body("V-2", [("A", 2)])))
    reject = {"reason": "out_of_stock", "lines": [{"sku": "A", "quantity": 1}]}
    ok(c.post(f"/v1/fulfillments/{bounced['fulfillments'][0]['id']}/reject", json=reject))
    ok(c.post(f"/v1/orders/{bounced['id']}/cancel", json={"lines": [{"sku": "A", "quantity": 1}]}))
    promise = {
        "lines": [{"sku": "B", "quantity": 1}],
        "ship_to": {"latitude": 40.7, "longitude": -74.0},
        "service_levels": ["standard"],
        "hold_seconds": 30,
    }
    ok(c.post("/v1/promises", json=promise))
    ok(c.put("/v1/inventory/DALLAS/A", json={"on_hand": 6, "safety_stock": 2}))  # safety only
    assert positions_from_events(c) == positions_now(c)
    run_once(db, LifecyclePolicy(), now=utcnow() + timedelta(minutes=5))  # the hold expires
    assert positions_from_events(c) == positions_now(c)
