"""Idempotency-Key on every creating POST, as a client sees it: the same key and the same
request replay the first answer and do nothing twice; the same key with another request is a
409 that changes nothing; keys are scoped to the API key that sent them; malformed keys are
refused before anything happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body

Json = dict[str, Any]
KEY = {"Idempotency-Key": "idem-1"}
SHIP = {"carrier": "UPS", "tracking_number": "1Z1"}
NEWARK_POINT = {"latitude": 40.7357, "longitude": -74.1724}


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    """Two warehouses with A, a pickup store with P."""
    api_location(client, "NEWARK", "NEWARK")
    api_location(client, "DALLAS", "DALLAS")
    api_location(client, "NYC", "NYC", type="store", can_pickup=True, can_ship=False)
    for sku in ("A", "P"):
        api_product(client, sku)
    api_stock(client, "NEWARK", "A", 10)
    api_stock(client, "DALLAS", "A", 10)
    api_stock(client, "NYC", "P", 5)
    return client


# --- reading the world through the API ---------------------------------------------------


def get(c: TestClient, url: str) -> Any:
    r = c.get(url)
    assert r.status_code == 200, (url, r.text)
    return r.json()


def everything(c: TestClient) -> Json:
    """All a client can observe: stock, orders and their fulfillments, supply, keys, events."""
    return {
        "inventory": get(c, "/v1/inventory?limit=500")["items"],
        "orders": get(c, "/v1/orders?limit=500")["items"],
        "incoming": get(c, "/v1/inventory/incoming?open=false&limit=500")["items"],
        "keys": get(c, "/v1/api-keys?limit=500")["items"],
        "events": get(c, "/v1/events?limit=500")["items"],
    }


def events(c: TestClient) -> int:
    return len(get(c, "/v1/events?limit=500")["items"])


def position(c: TestClient, loc: str = "NEWARK", sku: str = "A") -> tuple[int, int]:
    pos = get(c, f"/v1/inventory/{loc}/{sku}")
    return pos["on_hand"], pos["reserved"]


def reserved(c: TestClient, sku: str = "A") -> int:
    return sum(p["reserved"] for p in get(c, f"/v1/inventory?sku={sku}&limit=500")["items"])


def units(c: TestClient, field: str) -> int:
    """The units of all order lines in ``field`` (cancelled, shipped, returned…)."""
    orders = get(c, "/v1/orders?limit=500")["items"]
    return sum(line[field] for o in orders for line in o["lines"])


def fulfillments(c: TestClient) -> list[tuple[str, str, int]]:
    orders = get(c, "/v1/orders?limit=500")["items"]
    return sorted(
        (f["location_id"], f["state"], sum(ln["quantity"] for ln in f["lines"]))
        for o in orders
        for f in o["fulfillments"]
    )


def assert_problem(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status


# --- building the state a route needs ----------------------------------------------------


def ok(c: TestClient, url: str, body: Json | None = None) -> Json:
    r = c.post(url, json=body)
    assert r.status_code in (200, 201), (url, r.text)
    return dict(r.json())


def two_orders(
    c: TestClient, steps: tuple[str, ...] = (), pickup: bool = False, **extra: Any
) -> list[tuple[str, str]]:
    """Two orders (3 units of A shipped from NEWARK, or 1 of P collected at NYC), their
    fulfillment moved through ``steps``; returns [(order id, fulfillment id)] * 2."""
    made = []
    for n in (1, 2):
        if pickup:
            body = order_body(f"PU-{n}", [("P", 1)], service_level="pickup")
            body["pickup_location_id"] = "NYC"
        else:
            body = order_body(f"O-{n}", [("A", 3)], **extra)
        order = ok(c, "/v1/orders", body)
        fid = order["fulfillments"][0]["id"]
        for step in steps:
            ok(c, f"/v1/fulfillments/{fid}/{step}", SHIP if step == "ship" else None)
        made.append((order["id"], fid))
    return made


@dataclass(frozen=True)
class Plan:
    url: str
    body: Json | None
    other_url: str  # another resource, or the same one …
    other_body: Json | None  # … with another body: fine on its own, a 409 under the same key


@dataclass(frozen=True)
class Case:
    path: str  # as documented in /openapi.json
    prepare: Callable[[TestClient], Plan]
    probe: Callable[[TestClient], Any]  # what a second run would change


def same_path(url: str, body: Json | None, other: Json | None) -> Callable[[TestClient], Plan]:
    return lambda c: Plan(url, body, url, other)


def on_fulfillment(
    action: str, steps: tuple[str, ...], body: Json | None = None, pickup: bool = False
) -> Callable[[TestClient], Plan]:
    def prepare(c: TestClient) -> Plan:
        (_, one), (_, two) = two_orders(c, steps, pickup)
        url = "/v1/fulfillments/{}/" + action
        return Plan(url.format(one), body, url.format(two), body)

    return prepare


def on_order(
    action: str, body: Json | None, other: Json | None = None, **extra: Any
) -> Callable[[TestClient], Plan]:
    def prepare(c: TestClient) -> Plan:
        (one, _), (two, _) = two_orders(c, **extra)
        return Plan(f"/v1/orders/{one}/{action}", body, f"/v1/orders/{two}/{action}", other)

    return prepare


def receive(c: TestClient) -> Plan:
    ids = [ok(c, "/v1/inventory/incoming", {**INCOMING, "quantity": q})["id"] for q in (4, 6)]
    url = "/v1/inventory/incoming/{}/receive"
    return Plan(url.format(ids[0]), {"quantity": 4}, url.format(ids[1]), {"quantity": 4})


def a_line(quantity: int, sku: str = "A") -> list[Json]:
    return [{"sku": sku, "quantity": quantity}]


DUE = (date.today() + timedelta(days=30)).isoformat()
INCOMING = {"location_id": "NEWARK", "sku": "A", "quantity": 5, "expected_date": DUE}
KEY_BODY = {"name": "feed", "role": "integration"}
PROMISE = {"lines": a_line(2), "ship_to": NEWARK_POINT, "hold_seconds": 300}
RETURN = {"lines": a_line(1), "location_id": "NEWARK", "restock": True}
ADJUST = {"location_id": "NEWARK", "sku": "A", "delta": 3, "reason": "receipt"}
SNAP = {"items": [{"location_id": "NEWARK", "sku": "A", "on_hand": 7}]}
REJECT = {"reason": "damaged", "lines": a_line(1)}

CASES: dict[str, Case] = {
    "order": Case(
        "/v1/orders",
        same_path("/v1/orders", order_body("I-1", [("A", 2)]), order_body("I-2", [("A", 2)])),
        lambda c: (len(get(c, "/v1/orders?channel=web")["items"]), reserved(c)),
    ),
    "promise_hold": Case(
        "/v1/promises",
        same_path("/v1/promises", PROMISE, {**PROMISE, "lines": a_line(1)}),
        reserved,
    ),
    "api_key": Case(
        "/v1/api-keys",
        same_path("/v1/api-keys", KEY_BODY, {**KEY_BODY, "name": "f2"}),
        lambda c: len(get(c, "/v1/api-keys?limit=500")["items"]),
    ),
    "snapshot": Case(
        "/v1/inventory/snapshots",
        same_path("/v1/inventory/snapshots", SNAP, {"items": [{**SNAP["items"][0], "on_hand": 8}]}),
        lambda c: len(get(c, "/v1/inventory/NEWARK/A/ledger?limit=500")["items"]),
    ),
    "adjustment": Case(
        "/v1/inventory/adjustments",
        same_path("/v1/inventory/adjustments", ADJUST, {**ADJUST, "delta": 4}),
        position,
    ),
    "incoming": Case(
        "/v1/inventory/incoming",
        same_path("/v1/inventory/incoming", INCOMING, {**INCOMING, "quantity": 6}),
        lambda c: len(get(c, "/v1/inventory/incoming?limit=500")["items"]),
    ),
    "receive": Case("/v1/inventory/incoming/{incoming_id}/receive", receive, position),
    "return_restocked": Case(
        "/v1/orders/{order_id}/returns",
        on_order("returns", RETURN, {**RETURN, "restock": False}, steps=("accept", "ship")),
        lambda c: (position(c), units(c, "returned")),
    ),
    "order_cancel_lines": Case(
        "/v1/orders/{order_id}/cancel",
        on_order("cancel", {"lines": a_line(1)}, {"lines": a_line(2)}),
        lambda c: (units(c, "cancelled"), reserved(c)),
    ),
    "order_hold": Case(
        "/v1/orders/{order_id}/hold",
        on_order("hold", {"reason": "manual"}, {"reason": "fraud"}),
        events,
    ),
    "order_release": Case(
        "/v1/orders/{order_id}/release", on_order("release", None, hold_reason="payment"), events
    ),
    "accept": Case(
        "/v1/fulfillments/{fulfillment_id}/accept", on_fulfillment("accept", ()), events
    ),
    "pick": Case(
        "/v1/fulfillments/{fulfillment_id}/pick", on_fulfillment("pick", ("accept",)), events
    ),
    "reject_partially": Case(
        "/v1/fulfillments/{fulfillment_id}/reject",
        on_fulfillment("reject", (), REJECT),
        lambda c: (fulfillments(c), position(c), reserved(c)),
    ),
    "ship": Case(
        "/v1/fulfillments/{fulfillment_id}/ship",
        on_fulfillment("ship", ("accept",), SHIP),
        lambda c: (position(c), units(c, "shipped")),
    ),
    "ready_for_pickup": Case(
        "/v1/fulfillments/{fulfillment_id}/ready-for-pickup",
        on_fulfillment("ready-for-pickup", ("accept",), pickup=True),
        events,
    ),
    "picked_up": Case(
        "/v1/fulfillments/{fulfillment_id}/picked-up",
        on_fulfillment("picked-up", ("accept", "ready-for-pickup"), pickup=True),
        lambda c: position(c, "NYC", "P"),
    ),
    "fulfillment_cancel": Case(
        "/v1/fulfillments/{fulfillment_id}/cancel",
        on_fulfillment("cancel", (), {"reason": "customer"}),
        lambda c: (units(c, "cancelled"), reserved(c)),
    ),
}


def post_operations(c: TestClient) -> dict[str, Json]:
    schema = get(c, "/openapi.json")
    return {
        p: ops["post"]
        for p, ops in schema["paths"].items()
        if p.startswith("/v1/") and "post" in ops
    }


# --- the rules -----------------------------------------------------------------------------


def test_every_post_documents_the_idempotency_key_header_and_its_409(client: TestClient) -> None:
    missing = []
    for path, op in post_operations(client).items():
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        if "Idempotency-Key" not in headers or "409" not in op["responses"]:
            missing.append(path)
    assert missing == []


def test_every_post_has_a_replay_case_here(client: TestClient) -> None:
    assert set(post_operations(client)) == {case.path for case in CASES.values()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_replay_answers_the_first_answer_and_does_nothing_twice(
    shop: TestClient, name: str
) -> None:
    case = CASES[name]
    plan = case.prepare(shop)
    before = case.probe(shop)
    first = shop.post(plan.url, json=plan.body, headers=KEY)
    assert first.status_code in (200, 201), first.text
    assert "Idempotent-Replayed" not in first.headers
    done_once = case.probe(shop)
    assert done_once != before, "the probe must see the action"
    seen = everything(shop)

    again = shop.post(plan.url, json=plan.body, headers=KEY)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert case.probe(shop) == done_once
    assert everything(shop) == seen


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_key_with_another_request_is_a_409_that_changes_nothing(
    shop: TestClient, name: str
) -> None:
    plan = CASES[name].prepare(shop)
    first = shop.post(plan.url, json=plan.body, headers=KEY)
    assert first.status_code in (200, 201), first.text
    seen = everything(shop)

    other = shop.post(plan.other_url, json=plan.other_body, headers=KEY)
    assert_problem(other, 409)
    assert everything(shop) == seen
    fresh = shop.post(plan.other_url, json=plan.other_body, headers={"Idempotency-Key": "idem-2"})
    assert fresh.status_code in (200, 201), "the other request is fine under a key of its own"


def test_the_key_of_a_held_promise_reused_for_an_unheld_one_is_a_409(shop: TestClient) -> None:
    assert shop.post("/v1/promises", json=PROMISE, headers=KEY).status_code == 200
    unheld = {k: v for k, v in PROMISE.items() if k != "hold_seconds"}
    assert_problem(shop.post("/v1/promises", json=unheld, headers=KEY), 409)


def test_a_replayed_order_is_not_counted_as_created_again(shop: TestClient) -> None:
    def created() -> float:
        text = shop.get("/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith('omniorder_orders_created_total{channel="web"')
        )

    body = order_body("M-1", [("A", 1)])
    assert shop.post("/v1/orders", json=body, headers=KEY).status_code == 201
    once = created()
    replay = shop.post("/v1/orders", json=body, headers=KEY)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert created() == once


def test_two_api_keys_using_the_same_idempotency_key_each_get_their_own_answer(
    shop: TestClient,
) -> None:
    made = ok(shop, "/v1/api-keys", {"name": "web", "role": "channel", "channel": "web"})
    web = {"Authorization": f"Bearer {made['secret']}", **KEY}
    mine = shop.post("/v1/orders", json=order_body("K-1", [("A", 1)]), headers=KEY)
    theirs = shop.post("/v1/orders", json=order_body("K-2", [("A", 2)]), headers=web)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["external_id"] == "K-2"
    assert reserved(shop) == 3

    again = shop.post("/v1/orders", json=order_body("K-2", [("A", 2)]), headers=web)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == theirs.json()
    mine_again = shop.post("/v1/orders", json=order_body("K-1", [("A", 1)]), headers=KEY)
    assert mine_again.json() == mine.json()
    assert len(get(shop, "/v1/orders?channel=web")["items"]) == 2


BAD_KEYS: dict[str, str | bytes] = {
    "empty": "",
    "tab": "\t",
    "control": "k\x01",
    "nul": "k\x00",
    "delete": "k\x7f",
    "zero_width_space": "k\u200b".encode(),  # sent as UTF-8, read back as Latin-1: \x80
    "too_long": "x" * 256,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_malformed_idempotency_key_is_refused_and_changes_nothing(
    shop: TestClient, name: str
) -> None:
    plan = CASES[name].prepare(shop)
    seen = everything(shop)
    for label, bad in BAD_KEYS.items():
        r = shop.post(plan.url, json=plan.body, headers={"Idempotency-Key": bad})
        assert_problem(r, 422)
        assert everything(shop) == seen, label
    assert shop.post(plan.url, json=plan.body, headers={"Idempotency-Key": "x" * 255}).is_success
