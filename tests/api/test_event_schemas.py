"""Every event omniorder emits has a declared type whose schema its data matches: a scenario
walks every kind of change and checks each event of the feed, and that the scenario met every
declared type (so the list and the code cannot drift apart)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from omniorder.api.schemas.events import EVENT_TYPES
from omniorder.db.clock import utcnow
from omniorder.domain.policy import LifecyclePolicy
from omniorder.services.database import Database
from omniorder.services.worker import run_once
from tests import contract
from tests.factories import api_location, api_product, api_stock, order_body


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def test_every_event_matches_its_declared_schema(client: TestClient, db: Database) -> None:
    c = client
    api_location(c, "NEWARK", "NEWARK")
    api_location(c, "NEWARK", "NEWARK", priority=1)  # location.updated
    api_location(c, "DALLAS", "DALLAS")
    api_location(c, "NYC", "NYC", type="store", can_pickup=True)
    api_product(c, "A")
    api_product(c, "A")  # product.updated
    api_product(c, "B")
    for loc in ("NEWARK", "DALLAS", "NYC"):
        api_stock(c, loc, "A", 10)
        api_stock(c, loc, "B", 10)
    ok(c.put("/v1/sourcing-profiles/eu", json={"shipment_cost": 5.0}))
    ok(c.put("/v1/channels/web", json={"sourcing_profile": "default"}))
    ok(c.post("/v1/api-keys", json={"name": "erp", "role": "integration"}))
    snapshot = {"items": [{"location_id": "DALLAS", "sku": "B", "on_hand": 9}], "sequence": 1}
    ok(c.post("/v1/inventory/snapshots", json=snapshot))

    # an order shipped, partly returned
    shipped = ok(c.post("/v1/orders", json=order_body("E-1", [("A", 2)])))
    fid = shipped["fulfillments"][0]["id"]
    ok(c.post(f"/v1/fulfillments/{fid}/accept"))
    ok(c.post(f"/v1/fulfillments/{fid}/pick"))
    ok(c.post(f"/v1/fulfillments/{fid}/ship", json={"carrier": "UPS", "tracking_number": "1Z"}))
    back = {"lines": [{"sku": "A", "quantity": 1}], "location_id": "NEWARK", "restock": True}
    ok(c.post(f"/v1/orders/{shipped['id']}/returns", json=back))

    # rejects, whole and partial; a hold and its release; cancels of lines and of everything
    bounced = ok(c.post("/v1/orders", json=order_body("E-2", [("A", 2), ("B", 1)])))
    fid = bounced["fulfillments"][0]["id"]
    part = {"reason": "damaged", "lines": [{"sku": "A", "quantity": 1}]}
    ok(c.post(f"/v1/fulfillments/{fid}/reject", json=part))
    ok(c.post(f"/v1/fulfillments/{fid}/reject", json={"reason": "out_of_stock"}))
    ok(c.post(f"/v1/orders/{bounced['id']}/hold", json={"reason": "fraud"}))
    ok(c.post(f"/v1/orders/{bounced['id']}/release"))
    ok(c.post(f"/v1/orders/{bounced['id']}/cancel", json={"lines": [{"sku": "A", "quantity": 1}]}))
    ok(c.post(f"/v1/orders/{bounced['id']}/cancel"))
    dropped = ok(c.post("/v1/orders", json=order_body("E-3", [("B", 1)])))
    ok(c.post(f"/v1/fulfillments/{dropped['fulfillments'][0]['id']}/cancel", json={}))

    # pickups: one collected, one left to expire
    for ext in ("P-1", "P-2"):
        body = order_body(ext, [("A", 1)], service_level="pickup", pickup_location_id="NYC")
        fid = ok(c.post("/v1/orders", json=body))["fulfillments"][0]["id"]
        ok(c.post(f"/v1/fulfillments/{fid}/accept"))
        ok(c.post(f"/v1/fulfillments/{fid}/ready-for-pickup"))
        if ext == "P-1":
            ok(c.post(f"/v1/fulfillments/{fid}/picked-up"))

    # supply, a promise left to expire, a shortage
    incoming = {"location_id": "DALLAS", "sku": "A", "quantity": 5, "expected_date": "2030-01-07"}
    inc = ok(c.post("/v1/inventory/incoming", json=incoming))
    ok(c.post(f"/v1/inventory/incoming/{inc['id']}/receive"))
    promise = {
        "lines": [{"sku": "B", "quantity": 1}],
        "ship_to": {"latitude": 40.7, "longitude": -74.0},
        "service_levels": ["standard"],
        "hold_seconds": 60,
    }
    ok(c.post("/v1/promises", json=promise))
    short = ok(c.post("/v1/orders", json=order_body("E-4", [("B", 3)])))
    where = short["fulfillments"][0]["location_id"]
    ok(c.put(f"/v1/inventory/{where}/B", json={"on_hand": 0}))
    run_once(db, LifecyclePolicy(), now=utcnow() + timedelta(days=4))

    events: list[dict[str, Any]] = []
    after = 0
    while page := c.get("/v1/events", params={"after": after, "limit": 500}).json()["items"]:
        events += page
        after = page[-1]["seq"]
    for event in events:
        contract.check_event(event)
    assert {e["type"] for e in events} == set(EVENT_TYPES)


def test_every_event_type_is_listed_in_the_openapi_document(client: TestClient) -> None:
    webhooks = client.get("/openapi.json").json()["webhooks"]
    assert set(webhooks) == set(EVENT_TYPES)
    body = webhooks["order.created"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("OrderCreatedEvent")
