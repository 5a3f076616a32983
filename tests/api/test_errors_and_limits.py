"""Errors stay honest: counts never overflow (a 422 naming the field), a bug is a 500 problem
that keeps the connection, /healthz answers while every request thread is busy, and a
channel key names its channel."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from omniorder.api.app import create_app
from omniorder.api.middleware import Errors
from omniorder.config import Settings
from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.model import Role
from omniorder.services import inventory
from omniorder.services.database import Database
from omniorder.services.keys import hash_secret
from tests.conftest import ADMIN_KEY
from tests.factories import api_location, api_product, api_stock

MAX = 2_147_483_647


@pytest.fixture
def stocked(client: TestClient) -> TestClient:
    api_location(client, "NEWARK", "NEWARK")
    api_product(client, "A")
    api_stock(client, "NEWARK", "A", 0)
    return client


def on_hand(client: TestClient) -> int:
    return int(client.get("/v1/inventory/NEWARK/A").json()["on_hand"])


def test_adjustments_that_would_overflow_a_count_are_a_422_naming_delta(
    stocked: TestClient,
) -> None:
    adjust = {"location_id": "NEWARK", "sku": "A", "delta": 1_000_000_000, "reason": "receipt"}
    for _ in range(2):
        assert stocked.post("/v1/inventory/adjustments", json=adjust).status_code == 200
    r = stocked.post("/v1/inventory/adjustments", json=adjust)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["delta"]
    assert "2,147,483,647" in r.json()["errors"][0]["message"]
    assert on_hand(stocked) == 2_000_000_000
    ledger = stocked.get("/v1/inventory/NEWARK/A/ledger").json()["items"]
    assert sum(e["on_hand_delta"] for e in ledger) == 2_000_000_000


def test_a_count_above_the_largest_is_refused_everywhere_it_can_be_set(
    stocked: TestClient,
) -> None:
    too_big = MAX + 1
    assert stocked.put("/v1/inventory/NEWARK/A", json={"on_hand": too_big}).status_code == 422
    snap = {"items": [{"location_id": "NEWARK", "sku": "A", "on_hand": too_big}]}
    assert stocked.post("/v1/inventory/snapshots", json=snap).status_code == 422
    assert stocked.put("/v1/inventory/NEWARK/A", json={"on_hand": MAX}).status_code == 200
    incoming = stocked.post(
        "/v1/inventory/incoming",
        json={"location_id": "NEWARK", "sku": "A", "quantity": 5, "expected_date": "2027-01-04"},
    ).json()
    r = stocked.post(f"/v1/inventory/incoming/{incoming['id']}/receive")
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["quantity"]
    assert on_hand(stocked) == MAX
    still_open = stocked.get("/v1/inventory/incoming").json()["items"]
    assert [x["id"] for x in still_open] == [incoming["id"]]


def test_a_bug_is_a_500_problem_and_the_connection_stays_open() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    # no exception reaches the server: it has no reason to close the connection
    anyio.run(Errors(broken), scope, receive, send)
    assert sent[0]["status"] == 500
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert b'"status": 500' in sent[1]["body"]


def test_healthz_answers_while_every_request_thread_is_busy(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, leave = threading.Event(), threading.Event()
    real = inventory.adjust

    def stuck(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        leave.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(inventory, "adjust", stuck)
    app = create_app(settings.model_copy(update={"request_threads": 1}))
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        api_location(c, "NEWARK", "NEWARK")
        api_product(c, "A")
        body = {"location_id": "NEWARK", "sku": "A", "delta": 1, "reason": "count"}
        busy = threading.Thread(target=lambda: c.post("/v1/inventory/adjustments", json=body))
        busy.start()
        assert entered.wait(10)  # the only request thread is taken
        answers: list[int] = []
        probe = threading.Thread(target=lambda: answers.append(c.get("/healthz").status_code))
        probe.start()
        probe.join(10)
        done_while_busy = not probe.is_alive() and busy.is_alive()
        leave.set()
        busy.join(10)
        probe.join(10)
    assert done_while_busy and answers == [200]


def test_a_channel_key_must_name_its_channel(client: TestClient) -> None:
    r = client.post("/v1/api-keys", json={"name": "web", "role": "channel"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["channel"]
    r = client.post("/v1/api-keys", json={"name": "erp", "role": "integration", "channel": "web"})
    assert r.status_code == 422
    listed = client.get("/v1/api-keys").json()["items"]
    assert [k["name"] for k in listed] == ["admin (OMNIORDER_ADMIN_KEY)"]


def test_a_stored_channel_key_without_a_channel_is_refused_and_told_why(
    client: TestClient, db: Database
) -> None:
    secret = "oo_legacy_channel_key_without_a_channel_0123456789"
    key = ApiKey("key_legacy", "legacy", Role.CHANNEL, "legacy", None, None, True, utcnow())
    db.write(lambda uow: uow.keys.add(key, hash_secret(secret)))
    r = client.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403
    assert "names no channel" in r.json()["detail"]


def test_an_unreachable_database_is_a_503_with_retry_after_never_a_500() -> None:
    down = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
        background_worker=False,
    )
    with TestClient(create_app(down, check_migrations=False)) as c:
        r = c.get("/v1/orders", headers={"Authorization": "Bearer some-key"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "1"
        assert c.get("/healthz").status_code == 200
