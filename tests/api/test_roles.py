"""Role by route: every route admits exactly the roles the contract gives it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body

ALL = {"admin", "channel", "location", "integration"}
PUBLIC = "public"
EXPECTED: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/v1/locations"): ALL,
    ("GET", "/v1/locations/{location_id}"): ALL,
    ("PUT", "/v1/locations/{location_id}"): {"admin", "integration"},
    ("GET", "/v1/products"): ALL,
    ("GET", "/v1/products/{sku}"): ALL,
    ("PUT", "/v1/products/{sku}"): {"admin", "integration"},
    ("GET", "/v1/sourcing-profiles/{name}"): ALL,
    ("PUT", "/v1/sourcing-profiles/{name}"): {"admin"},
    ("GET", "/v1/sourcing-profiles"): ALL,
    ("GET", "/v1/sourcing-profiles/{name}/versions/{version}"): ALL,
    ("GET", "/v1/channels"): ALL,
    ("GET", "/v1/channels/{channel}"): ALL,
    ("PUT", "/v1/channels/{channel}"): {"admin"},
    ("GET", "/v1/inventory"): {"admin", "integration", "location"},
    ("GET", "/v1/inventory/{location_id}/{sku}"): {"admin", "integration", "location"},
    ("PUT", "/v1/inventory/{location_id}/{sku}"): {"admin", "integration", "location"},
    ("GET", "/v1/inventory/{location_id}/{sku}/ledger"): {"admin", "integration", "location"},
    ("POST", "/v1/inventory/snapshots"): {"admin", "integration", "location"},
    ("POST", "/v1/inventory/adjustments"): {"admin", "integration", "location"},
    ("GET", "/v1/availability"): {"admin", "channel", "integration"},
    ("POST", "/v1/orders"): {"admin", "channel"},
    ("GET", "/v1/orders"): {"admin", "channel"},
    ("GET", "/v1/orders/{order_id}"): {"admin", "channel"},
    ("GET", "/v1/orders/{order_id}/sourcing"): {"admin", "channel"},
    ("POST", "/v1/orders/{order_id}/cancel"): {"admin", "channel"},
    ("GET", "/v1/events"): {"admin", "integration"},
    ("GET", "/v1/api-keys"): {"admin"},
    ("POST", "/v1/api-keys"): {"admin"},
    ("GET", "/v1/fulfillments"): {"admin", "location"},
    ("GET", "/v1/fulfillments/{fulfillment_id}"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/accept"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/pick"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/reject"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/ship"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/ready-for-pickup"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/picked-up"): {"admin", "location"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/cancel"): {"admin", "location"},
    ("POST", "/v1/orders/{order_id}/hold"): {"admin", "channel"},
    ("POST", "/v1/orders/{order_id}/release"): {"admin", "channel"},
    ("POST", "/v1/orders/{order_id}/returns"): {"admin", "channel", "location"},
    ("POST", "/v1/inventory/incoming"): {"admin", "integration", "location"},
    ("GET", "/v1/inventory/incoming"): {"admin", "integration", "location"},
    ("POST", "/v1/inventory/incoming/{incoming_id}/receive"): {"admin", "integration", "location"},
    ("POST", "/v1/promises"): {"admin", "channel"},
    ("GET", "/v1/stats"): {"admin", "channel", "integration"},
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
}


def app_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every operation the app serves, as documented in its OpenAPI schema."""
    schema = client.get("/openapi.json").json()
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}


def test_every_route_has_an_entry_in_the_role_table(client: TestClient) -> None:
    assert app_routes(client) == set(EXPECTED)


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    api_location(client, "NEWARK", "NEWARK")
    api_product(client, "A")
    api_stock(client, "NEWARK", "A", 50)
    order = client.post("/v1/orders", json=order_body("R-0", [("A", 1)])).json()
    keys = {"admin": None}
    for role, extra in (
        ("channel", {"channel": "web"}),
        ("location", {"location_ids": ["NEWARK"]}),
        ("integration", {}),
    ):
        r = client.post("/v1/api-keys", json={"name": role, "role": role, **extra})
        assert r.status_code == 201, r.text
        keys[role] = r.json()["secret"]
    return {
        "keys": keys,
        "order_id": order["id"],
        "fulfillment_id": order["fulfillments"][0]["id"],
    }


def request_for(
    method: str, path: str, world: dict[str, Any], n: int
) -> tuple[str, dict[str, Any] | None]:
    order_id = world["order_id"]
    url = (
        path.replace("{location_id}", "NEWARK")
        .replace("{sku}", "A")
        .replace("{order_id}", order_id)
        .replace("{fulfillment_id}", world["fulfillment_id"])
        .replace("{incoming_id}", "inc_unknown")
        .replace("{name}", "default")
        .replace("{version}", "0")
        .replace("{channel}", "web")
    )
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PUT", "/v1/locations/{location_id}"): {
            "name": "N",
            "type": "warehouse",
            "latitude": 40.73,
            "longitude": -74.17,
        },
        ("PUT", "/v1/products/{sku}"): {"name": "A"},
        ("PUT", "/v1/sourcing-profiles/{name}"): {},
        ("PUT", "/v1/channels/{channel}"): {"sourcing_profile": "default"},
        ("PUT", "/v1/inventory/{location_id}/{sku}"): {"on_hand": 50},
        ("POST", "/v1/inventory/snapshots"): {
            "items": [{"location_id": "NEWARK", "sku": "A", "on_hand": 50}]
        },
        ("POST", "/v1/inventory/adjustments"): {
            "location_id": "NEWARK",
            "sku": "A",
            "delta": 1,
            "reason": "count",
        },
        ("POST", "/v1/orders"): order_body(f"R-{n}", [("A", 1)]),
        ("POST", "/v1/api-keys"): {"name": "k", "role": "integration"},
        ("POST", "/v1/fulfillments/{fulfillment_id}/reject"): {"reason": "damaged"},
        ("POST", "/v1/fulfillments/{fulfillment_id}/ship"): {
            "carrier": "UPS",
            "tracking_number": "1Z",
        },
        ("POST", "/v1/orders/{order_id}/hold"): {"reason": "manual"},
        ("POST", "/v1/promises"): {
            "lines": [{"sku": "A", "quantity": 1}],
            "ship_to": {"latitude": 40.7, "longitude": -74.0},
        },
        ("POST", "/v1/orders/{order_id}/returns"): {
            "lines": [{"sku": "A", "quantity": 1}],
            "location_id": "NEWARK",
            "restock": True,
        },
        ("POST", "/v1/inventory/incoming"): {
            "location_id": "NEWARK",
            "sku": "A",
            "quantity": 5,
            "expected_date": "2026-12-01",
        },
    }
    if path == "/v1/availability":
        url += "?sku=A"
    return url, bodies.get((method, path))


@pytest.mark.parametrize("who", ["admin", "channel", "location", "integration", "none", "wrong"])
def test_roles_are_enforced_on_every_route(
    client: TestClient, world: dict[str, Any], who: str
) -> None:
    failures = []
    for n, (method, path) in enumerate(sorted(EXPECTED)):
        allowed = EXPECTED[(method, path)]
        url, body = request_for(method, path, world, n)
        if who == "none":
            headers = {"Authorization": ""}
        elif who == "wrong":
            headers = {"Authorization": "Bearer not-a-key"}
        else:
            secret = world["keys"][who]
            headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
        r = client.request(method, url, json=body, headers=headers)
        if allowed == PUBLIC:
            expected_ok = True
        elif who in ("none", "wrong"):
            expected_ok = False
            if r.status_code != 401:
                failures.append((method, path, who, r.status_code, "expected 401"))
            continue
        else:
            expected_ok = who in allowed
        if expected_ok and r.status_code in (401, 403):
            failures.append((method, path, who, r.status_code, r.text[:120]))
        if not expected_ok and r.status_code != 403:
            failures.append((method, path, who, r.status_code, "expected 403"))
        if r.status_code in (401, 403):
            assert r.headers["content-type"].startswith("application/problem+json")
        assert r.status_code < 500, (method, path, who, r.text)
    assert failures == []


def test_a_location_key_acts_only_on_its_own_locations(
    client: TestClient, world: dict[str, Any]
) -> None:
    api_location(client, "DALLAS", "DALLAS")
    own = {"Authorization": f"Bearer {world['keys']['location']}"}
    assert client.put("/v1/inventory/NEWARK/A", json={"on_hand": 3}, headers=own).status_code == 200
    assert client.put("/v1/inventory/DALLAS/A", json={"on_hand": 3}, headers=own).status_code == 403
    listed = client.get("/v1/inventory", headers=own).json()["items"]
    assert {p["location_id"] for p in listed} == {"NEWARK"}
    assert client.get("/v1/inventory?location_id=DALLAS", headers=own).status_code == 403
    snap = {"items": [{"location_id": "DALLAS", "sku": "A", "on_hand": 1}]}
    assert client.post("/v1/inventory/snapshots", json=snap, headers=own).status_code == 403
    assert client.get("/v1/inventory/DALLAS/A", headers=own).status_code == 403


def test_a_channel_key_sees_and_places_only_its_channels_orders(
    client: TestClient, world: dict[str, Any]
) -> None:
    client.post("/v1/orders", json={**order_body("APP-1", [("A", 1)]), "channel": "app"})
    web = {"Authorization": f"Bearer {world['keys']['channel']}"}
    foreign = {**order_body("APP-2", [("A", 1)]), "channel": "app"}
    assert client.post("/v1/orders", json=foreign, headers=web).status_code == 403
    listed = client.get("/v1/orders", headers=web).json()["items"]
    assert {o["channel"] for o in listed} == {"web"}
    app_order = client.get("/v1/orders?channel=app").json()["items"][0]
    assert client.get(f"/v1/orders/{app_order['id']}", headers=web).status_code == 403
    assert client.post(f"/v1/orders/{app_order['id']}/cancel", headers=web).status_code == 403


def test_key_secrets_are_shown_once_and_stored_hashed(
    client: TestClient, world: dict[str, Any]
) -> None:
    listed = client.get("/v1/api-keys").json()["items"]
    assert all("secret" not in k for k in listed)
    from sqlalchemy import select

    from omniorder.db import tables as t

    db = client.app.state.db  # type: ignore[attr-defined]
    hashes = db.read(lambda uow: list(uow.conn.execute(select(t.api_keys.c.key_hash)).scalars()))
    for secret in world["keys"].values():
        if secret is not None:
            assert secret not in hashes
