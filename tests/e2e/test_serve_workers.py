"""The real `omniorder serve --workers 2` on PostgreSQL: it serves from both workers, a worker
killed with SIGKILL is replaced, and no order a client was told was captured is lost or
captured twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from omniorder.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]
KEY = "serve-workers-admin-key-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"resource_tracker" not in cmdline:
                out.append(int(child))
    return out


def _wait(what: Any, seconds: float, message: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(message)


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {
        **os.environ,
        "OMNIORDER_DATABASE_URL": settings.database_url,
        "OMNIORDER_ADMIN_KEY": KEY,
        "OMNIORDER_BACKGROUND_WORKER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "omniorder.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait(ready, 60, "omniorder serve did not become ready within 60 s")
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)


def _place(client: httpx.Client, n: int) -> dict[str, Any]:
    """POST the order until an answer comes (a killed worker drops its connections); the
    Idempotency-Key makes the retries safe."""
    body = {
        "channel": "web",
        "external_id": f"K-{n}",
        "lines": [{"sku": "A", "quantity": 1}],
        "ship_to": {"latitude": 40.71, "longitude": -74.0},
    }
    for _ in range(50):
        try:
            r = client.post("/v1/orders", json=body, headers={"Idempotency-Key": f"k-{n}"})
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert r.status_code in (200, 201), r.text
        return dict(r.json())
    raise AssertionError(f"order K-{n} got no answer")


def test_a_killed_worker_is_replaced_and_no_captured_order_is_lost(
    served: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, proc = served
    auth = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as admin:
        loc = {"name": "NYC", "type": "warehouse", "latitude": 40.7, "longitude": -74.0}
        assert admin.put("/v1/locations/NYC", json=loc).status_code in (200, 201)
        assert admin.put("/v1/products/A", json={"name": "A"}).status_code in (200, 201)
        assert admin.put("/v1/inventory/NYC/A", json={"on_hand": 1000}).status_code == 200
    workers = _wait(lambda: _children(proc.pid), 30, "no worker processes")
    assert len(workers) == 2
    clients = [httpx.Client(base_url=base, headers=auth, timeout=10) for _ in range(4)]
    try:
        placed = [_place(clients[n % 4], n) for n in range(40)]
        os.kill(workers[0], signal.SIGKILL)
        placed += [_place(clients[n % 4], n) for n in range(40, 120)]
        replaced = _wait(
            lambda: [w for w in _children(proc.pid) if w not in workers],
            30,
            "the killed worker was not replaced",
        )
        assert len(replaced) == 1 and len(_children(proc.pid)) == 2
        placed += [_place(clients[n % 4], n) for n in range(120, 160)]
    finally:
        for c in clients:
            c.close()
    with httpx.Client(base_url=base, headers=auth, timeout=10) as admin:
        ids = {o["id"] for o in placed}
        assert len(ids) == 160  # every order captured once, whatever the retries
        seen = set()
        cursor = None
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = admin.get("/v1/orders", params=params).json()
            seen |= {o["id"] for o in page["items"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == ids
        stock = admin.get("/v1/inventory/NYC/A").json()
        assert stock["reserved"] == 160
