"""Orders a network can fulfil: the address, customer, prices and metadata of a real shop,
stored as given, and a location that works from its queue alone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body

SHIP_TO = {
    "name": "Ada Lovelace",
    "company": "Analytical Engines Ltd",
    "address_lines": ["350 Fifth Avenue", "Floor 21", "Suite 2100"],
    "city": "New York",
    "region": "NY",
    "postal_code": "10118",
    "country": "US",
    "phone": "+1 212 555 0100",
    "email": "ada@example.com",
}
CUSTOMER = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+1 212 555 0100"}


@pytest.fixture
def shop(client: TestClient) -> dict[str, Any]:
    api_location(client, "NEWARK", "NEWARK")
    api_location(client, "NYC", "NYC", type="store", can_pickup=True)
    for sku in ("TSHIRT-M", "CAP"):
        api_product(client, sku)
        api_stock(client, "NEWARK", sku, 10)
        api_stock(client, "NYC", sku, 10)
    keys = {}
    for name, loc in (("newark", "NEWARK"), ("nyc", "NYC")):
        r = client.post(
            "/v1/api-keys", json={"name": name, "role": "location", "location_ids": [loc]}
        )
        keys[name] = {"Authorization": f"Bearer {r.json()['secret']}"}
    return keys


def full_order(external_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "web",
        "external_id": external_id,
        "lines": [
            {
                "sku": "TSHIRT-M",
                "quantity": 2,
                "name": "T-shirt, medium, navy",
                "unit_price": "19.90",
                "metadata": {"shopify_line_id": "11875"},
            },
            {"sku": "CAP", "quantity": 1, "name": "Cap", "unit_price": "12.00"},
        ],
        "ship_to": SHIP_TO,
        "customer": CUSTOMER,
        "currency": "USD",
        "metadata": {"gift_message": "Happy birthday!", "shop_order_name": "#1001"},
        "sourcing_profile": "default",
        **overrides,
    }


def test_the_order_keeps_its_address_customer_prices_and_metadata_as_given(
    client: TestClient, shop: dict[str, Any]
) -> None:
    r = client.post("/v1/orders", json=full_order("W-1"))
    assert r.status_code == 201, r.text
    order = r.json()
    for read in (order, client.get(f"/v1/orders/{order['id']}").json()):
        assert {k: read["ship_to"][k] for k in SHIP_TO} == SHIP_TO
        assert read["ship_to"]["latitude"] == pytest.approx(40.75, abs=0.05)  # ZIP 10118
        assert read["customer"] == CUSTOMER and read["currency"] == "USD"
        assert read["metadata"] == {"gift_message": "Happy birthday!", "shop_order_name": "#1001"}
        first, second = read["lines"]
        assert (first["name"], first["unit_price"], first["metadata"]) == (
            "T-shirt, medium, navy",
            "19.90",
            {"shopify_line_id": "11875"},
        )
        assert (second["unit_price"], second["metadata"]) == ("12.00", {})
    created = client.get("/v1/events?type=order.created").json()["items"][-1]["data"]
    assert created["ship_to"]["address_lines"] == SHIP_TO["address_lines"]
    assert created["lines"][0]["unit_price"] == "19.90"


def test_a_location_key_ships_from_its_queue_alone(
    client: TestClient, shop: dict[str, Any]
) -> None:
    order = client.post("/v1/orders", json=full_order("W-2")).json()
    (f,) = order["fulfillments"]
    queue = client.get("/v1/fulfillments?state=pending", headers=shop[f["location_id"].lower()])
    (item,) = [x for x in queue.json()["items"] if x["id"] == f["id"]]
    assert item["order_external_id"] == "W-2" and item["channel"] == "web"
    assert {k: item["ship_to"][k] for k in SHIP_TO} == SHIP_TO
    assert item["customer"] == CUSTOMER
    assert item["metadata"]["gift_message"] == "Happy birthday!"
    assert item["service_level"] == "standard" and item["on_hold"] is False
    assert item["accept_by"] is not None
    assert sorted((ln["sku"], ln["name"], ln["quantity"]) for ln in item["lines"]) == [
        ("CAP", "Cap", 1),
        ("TSHIRT-M", "T-shirt, medium, navy", 2),
    ]
    assert item["rejected_lines"] == []
    # the order itself is not the location's to read
    assert client.get(f"/v1/orders/{order['id']}", headers=shop["newark"]).status_code == 403


def test_a_partial_reject_stays_visible_on_the_fulfillment(
    client: TestClient, shop: dict[str, Any]
) -> None:
    order = client.post("/v1/orders", json=full_order("W-3")).json()
    (f,) = order["fulfillments"]
    key = shop[f["location_id"].lower()]
    r = client.post(
        f"/v1/fulfillments/{f['id']}/reject",
        json={"reason": "damaged", "lines": [{"sku": "TSHIRT-M", "quantity": 1}]},
        headers=key,
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["rejected_lines"] == [
        {"sku": "TSHIRT-M", "name": "T-shirt, medium, navy", "quantity": 1, "reason": "damaged"}
    ]
    assert sorted((ln["sku"], ln["quantity"]) for ln in after["lines"]) == [
        ("CAP", 1),
        ("TSHIRT-M", 1),
    ]


def test_a_store_sees_who_collects_a_pickup(client: TestClient, shop: dict[str, Any]) -> None:
    body = full_order(
        "P-1", service_level="pickup", pickup_location_id="NYC", ship_to=None, currency=None
    )
    order = client.post("/v1/orders", json=body).json()
    (f,) = order["fulfillments"]
    seen = client.get(f"/v1/fulfillments/{f['id']}", headers=shop["nyc"]).json()
    assert seen["service_level"] == "pickup"
    assert {k: seen["ship_to"][k] for k in ("name", "email", "phone")} == CUSTOMER


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "usd"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"metadata": {"note": "x" * 501}}, "metadata.note"),
        ({"metadata": {"count": 3}}, "metadata.count"),
        ({"ship_to": {**SHIP_TO, "address_lines": ["a", "b", "c", "d"]}}, "ship_to.address_lines"),
        ({"ship_to": {**SHIP_TO, "name": "n" * 201}}, "ship_to.name"),
        ({"ship_to": {**SHIP_TO, "email": "not-an-email"}}, "ship_to.email"),
        ({"ship_to": {**SHIP_TO, "phone": "call me"}}, "ship_to.phone"),
        ({"customer": {"email": "a@"}}, "customer.email"),
        (
            {"lines": [{"sku": "CAP", "quantity": 1, "unit_price": 12.5}]},
            "lines[0].unit_price",
        ),
        (
            {"lines": [{"sku": "CAP", "quantity": 1, "unit_price": "-1"}]},
            "lines[0].unit_price",
        ),
        ({"lines": [{"sku": "CAP", "quantity": 1, "name": ""}]}, "lines[0].name"),
    ],
)
def test_bad_details_are_a_422_naming_the_field_and_nothing_is_captured(
    client: TestClient, shop: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    r = client.post("/v1/orders", json=full_order("BAD", **change))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert client.get("/v1/orders?external_id=BAD").json()["items"] == []


def test_a_postal_code_outside_the_us_needs_coordinates_and_says_so(
    client: TestClient, shop: dict[str, Any]
) -> None:
    german = {"name": "Max", "postal_code": "10115", "country": "DE", "city": "Berlin"}
    r = client.post("/v1/orders", json=order_body("DE-1", [("CAP", 1)], ship_to=german))
    assert r.status_code == 422
    problem = r.json()
    assert "ship_to.latitude and ship_to.longitude" in problem["detail"]
    assert "US" in problem["detail"]
    with_point = {**german, "latitude": 52.53, "longitude": 13.38}
    ok = client.post("/v1/orders", json=order_body("DE-1", [("CAP", 1)], ship_to=with_point))
    assert ok.status_code == 201 and ok.json()["ship_to"]["city"] == "Berlin"
