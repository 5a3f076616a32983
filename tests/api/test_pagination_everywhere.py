"""Pagination everywhere: every list answers pages of at most `limit` items that, walked by
their cursors, give every item exactly once; a forged cursor or a bad limit is a 422."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import api_location, api_product, api_stock, order_body

#: Every list route, with the fields that name one of its items.
IDENTITY: dict[str, tuple[str, ...]] = {
    "/v1/locations": ("id",),
    "/v1/products": ("sku",),
    "/v1/sourcing-profiles": ("name",),
    "/v1/channels": ("id",),
    "/v1/inventory": ("location_id", "sku"),
    "/v1/inventory/{location_id}/{sku}/ledger": ("id",),
    "/v1/inventory/incoming": ("id",),
    "/v1/orders": ("id",),
    "/v1/fulfillments": ("id",),
    "/v1/api-keys": ("id",),
}
LIST_ROUTES = sorted(IDENTITY)
WALKS = [(path, {}) for path in LIST_ROUTES] + [
    ("/v1/inventory/incoming", {"open": "true"}),
    ("/v1/inventory/incoming", {"open": "false"}),
]
PAGE = 2


def url_of(path: str) -> str:
    return path.replace("{location_id}", "NEWARK").replace("{sku}", "A")


def forge(value: Any) -> str:
    """A cursor built the way the app builds its own: base64url, unpadded, compact JSON."""
    raw = json.dumps(value, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def unforge(cursor: str) -> list[Any]:
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert isinstance(decoded, list)
    return decoded


def key_of(path: str, item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item[field] for field in IDENTITY[path])


def get_page(
    client: TestClient, path: str, limit: int, cursor: str | None = None, **params: str
) -> dict[str, Any]:
    query: dict[str, Any] = {**params, "limit": limit}
    if cursor is not None:
        query["cursor"] = cursor
    r = client.get(url_of(path), params=query)
    assert r.status_code == 200, (path, query, r.text)
    body = r.json()
    assert set(body) == {"items", "next_cursor"}, body
    return dict(body)


def walk(client: TestClient, path: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a list, page by page, following next_cursor to its end."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        body = get_page(client, path, PAGE, cursor, **params)
        assert len(body["items"]) <= PAGE, (path, cursor, body["items"])
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path}: next_cursor never ran out")


def first_cursor(client: TestClient, path: str) -> str:
    cursor = get_page(client, path, PAGE)["next_cursor"]
    assert isinstance(cursor, str), f"{path} has fewer than {PAGE + 1} items"
    return cursor


def field_errors(r: Any) -> set[str]:
    return {e["field"] for e in r.json().get("errors", [])}


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    """More than one page of everything each list shows."""

    def ok(r: Any) -> dict[str, Any]:
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    for city in ("NYC", "NEWARK", "CHICAGO", "DALLAS", "DENVER"):
        api_location(client, city, city)
    for sku in "ABCDE":
        api_product(client, sku)
    for loc in ("NEWARK", "DALLAS"):
        for sku in "ABC":
            api_stock(client, loc, sku, 100)
    for on_hand in (90, 80, 95, 85):  # ledger entries of NEWARK/A
        api_stock(client, "NEWARK", "A", on_hand)
    # Stored names on both sides of the built-in default and fastest, and "default" itself.
    for name in ("alpha", "default", "eco", "zeta"):
        ok(client.put(f"/v1/sourcing-profiles/{name}", json={}))
    for channel in ("app", "kiosk", "marketplace", "phone", "web"):
        ok(client.put(f"/v1/channels/{channel}", json={"sourcing_profile": "default"}))
    for n in range(5):
        ok(client.post("/v1/orders", json=order_body(f"PAGE-{n}", [("A", 1), ("B", 1)])))
    for n in range(5):
        ok(client.post("/v1/api-keys", json={"name": f"key {n}", "role": "integration"}))
    # Three rows on one date: the cursor must tell them apart by more than the date.
    incoming = [
        ok(client.post("/v1/inventory/incoming", json=body))
        for body in (
            {"location_id": "NEWARK", "sku": "A", "quantity": 5, "expected_date": day}
            for day in ("2026-12-01", "2026-11-15", "2026-12-01", "2026-12-20", "2026-12-01")
        )
    ]
    received = incoming[1]["id"]
    ok(client.post(f"/v1/inventory/incoming/{received}/receive"))
    return {"received": received}


def test_every_collection_in_the_openapi_schema_pages_by_limit_and_cursor(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    found: dict[str, dict[str, Any]] = {}
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        body = resolve(content.get("application/json", {}).get("schema", {}))
        if {"items", "next_cursor"} <= set(body.get("properties", {})):
            found[path] = {p["name"]: p for p in get.get("parameters", []) if p["in"] == "query"}
    assert sorted(found) == LIST_ROUTES
    for path, params in found.items():
        assert {"limit", "cursor"} <= set(params), path
        limit = resolve(params["limit"]["schema"])
        assert (limit.get("minimum"), limit.get("maximum"), limit.get("default")) == (
            1,
            500,
            50,
        ), path


@pytest.mark.parametrize(("path", "params"), WALKS)
def test_walking_a_list_by_its_cursors_gives_every_item_exactly_once(
    client: TestClient, world: dict[str, Any], path: str, params: dict[str, str]
) -> None:
    walked = [key_of(path, item) for item in walk(client, path, **params)]
    full = get_page(client, path, 500, **params)
    assert full["next_cursor"] is None
    everything = [key_of(path, item) for item in full["items"]]
    assert len(everything) > PAGE, "the world must fill more than one page"
    assert len(walked) == len(set(walked)), f"an item appears twice: {walked}"
    assert walked == everything
    if path == "/v1/inventory/incoming":
        shows_received = (world["received"],) in set(walked)
        assert shows_received == (params.get("open") == "false")


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_a_cursor_the_api_did_not_give_for_this_list_is_a_422_naming_cursor(
    client: TestClient, world: dict[str, Any], path: str
) -> None:
    del world
    real = first_cursor(client, path)
    other = LIST_ROUTES[(LIST_ROUTES.index(path) + 1) % len(LIST_ROUTES)]
    foreign = first_cursor(client, other)
    second_page = get_page(client, path, PAGE, real)
    kind, *key = unforge(real)
    bad: list[str] = [
        "²",
        "9" * 30,
        "not-base64!!",
        "A" * 600,
        real + "!",
        forge({"list": kind, "key": key}),
        forge(kind),
        forge(7),
        forge(None),
        forge([]),
        forge([kind]),
        forge([kind, *key, "extra"]),
        foreign,
        forge([unforge(foreign)[0], *key]),
        forge([kind.upper(), *key]),
    ]
    wrong_int = [str(key[0]), 2**63, -1, 1.5, True, None, [1]]
    wrong_str = [7, "", "a b", "a/b", "é", "a\x00b", "x'--", "a" * 65, None, ["x"], {"x": 1}]
    for i, value in enumerate(key):
        for wrong in wrong_int if isinstance(value, int) else wrong_str:
            bad.append(forge([kind, *key[:i], wrong, *key[i + 1 :]]))
    if path == "/v1/inventory/incoming":  # (expected_date, id): a date that is no date
        bad += [forge([kind, day, *key[1:]]) for day in ("2026-13-45", "yesterday", "0")]
    for cursor in bad:
        r = client.get(url_of(path), params={"limit": PAGE, "cursor": cursor})
        assert r.status_code == 422, (path, cursor, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "cursor" in field_errors(r), (path, cursor, r.text)
        # The next good request on the same client still works (no poisoned connection).
        assert get_page(client, path, PAGE, real) == second_page, (path, cursor)


@pytest.mark.parametrize("path", [*LIST_ROUTES, "/v1/events"])
def test_a_limit_outside_1_to_500_is_a_422_naming_limit(client: TestClient, path: str) -> None:
    api_location(client, "NEWARK", "NEWARK")
    api_product(client, "A")
    for limit in ("0", "501", "x", "-1", "1.5"):
        r = client.get(url_of(path), params={"limit": limit})
        assert r.status_code == 422, (path, limit, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "limit" in field_errors(r), (path, limit, r.text)
    for limit in ("1", "500"):
        assert client.get(url_of(path), params={"limit": limit}).status_code == 200


def test_the_events_feed_walked_by_next_after_gives_every_event_once_in_order(
    client: TestClient, world: dict[str, Any]
) -> None:
    del world
    seqs: list[int] = []
    after = 0
    for _ in range(1000):
        r = client.get("/v1/events", params={"after": after, "limit": PAGE})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_after"}
        assert len(body["items"]) <= PAGE
        if not body["items"]:
            assert body["next_after"] == after
            break
        seqs += [event["seq"] for event in body["items"]]
        assert body["next_after"] == seqs[-1]
        after = body["next_after"]
    else:
        raise AssertionError("the events feed never ran out")
    assert len(seqs) > PAGE, "the world must make more than one page of events"
    assert seqs == sorted(set(seqs)), "seqs must be unique and increasing"
    everything = client.get("/v1/events", params={"after": 0, "limit": 500}).json()["items"]
    assert seqs == [event["seq"] for event in everything]
