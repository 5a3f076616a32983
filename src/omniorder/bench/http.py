"""`omniorder bench http`: a real server process under M concurrent clients placing orders.

The database gets a fresh schema (PostgreSQL) or file (SQLite) with the demo network; the
warehouses' stock is multiplied so that a run measures order capture, not an empty network.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import make_url

from omniorder.bench.common import percentile
from omniorder.bench.loadgen import Connection
from omniorder.db.admin import recreate_schema
from omniorder.db.engine import make_engine
from omniorder.db.migrate import upgrade
from omniorder.demo.loader import store_network
from omniorder.demo.network import DemoNetwork, build_network, generate_orders
from omniorder.services.database import Database

BENCH_SCHEMA = "omniorder_bench"
WAREHOUSE_STOCK_FACTOR = 100


@dataclass(slots=True)
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0

    @property
    def errors(self) -> int:
        return self.transport_errors + sum(n for s, n in self.statuses.items() if s >= 300)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "orders_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": {
                "p50": round(percentile(lat, 50), 2),
                "p95": round(percentile(lat, 95), 2),
                "p99": round(percentile(lat, 99), 2),
                "max": round(lat[-1], 2) if lat else 0.0,
            },
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
        }


def bench_database_url(url: str) -> str:
    """A URL for an isolated, empty database: a fresh schema on PostgreSQL, or a new SQLite
    file in a new temporary folder (a file named in ``url`` is never touched)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='omniorder-bench-')) / 'bench.db'}"
    admin = make_engine(url)
    try:
        recreate_schema(admin, BENCH_SCHEMA)
    finally:
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{BENCH_SCHEMA}"


def load_network(url: str, seed: int) -> DemoNetwork:
    engine = make_engine(url)
    try:
        upgrade(engine)
        db = Database(engine)
        net = build_network(seed=seed)
        store_network(db, net, WAREHOUSE_STOCK_FACTOR, capacities=False)
        return net
    finally:
        engine.dispose()


def order_statuses(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return Database(engine).read(lambda uow: uow.orders.count_by_status())
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`omniorder serve` in a child process."""

    def __init__(self, url: str, workers: int, port: int) -> None:
        self.key = secrets.token_urlsafe(24)
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "OMNIORDER_DATABASE_URL": url,
            "OMNIORDER_ADMIN_KEY": self.key,
            "OMNIORDER_LOG_LEVEL": "warning",
        }
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "omniorder.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def order_pool(net: DemoNetwork, size: int, seed: int) -> list[dict[str, Any]]:
    return [o.as_payload() for o in generate_orders(net, size, seed=seed, pickup_share=0.05)]


ENDPOINTS = ("orders", "promises", "availability")


def request_line(endpoint: str) -> str:
    """What the clients send for ``endpoint``, as a method and a path."""
    return "GET /v1/availability" if endpoint == "availability" else f"POST /v1/{endpoint}"


def availability_path(order: dict[str, Any]) -> str:
    """``GET /v1/availability`` for the SKUs of ``order``, nearest first to its ship-to point
    when it has one: what a storefront asks on a product or cart page."""
    query: list[tuple[str, object]] = [("sku", line["sku"]) for line in order["lines"]]
    ship_to = order.get("ship_to")
    if ship_to:
        query += [("latitude", ship_to["latitude"]), ("longitude", ship_to["longitude"])]
    return "/v1/availability?" + urlencode(query)


async def drive(
    base: str,
    key: str,
    pool: list[dict[str, Any]],
    clients: int,
    warmup: float,
    duration: float,
    progress: Progress | None = None,
    endpoint: str = "orders",
) -> LoadResult:
    """M clients, each on its own keep-alive connection, POST orders back to back; with
    ``endpoint`` 'promises' they ask for delivery promises of the same baskets (nothing held),
    with 'availability' they read the available units of the baskets' SKUs near their ship-to
    points. Requests that start during the warm-up are not counted."""
    result = LoadResult()
    counter = iter(range(10**9))
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + duration
    run_id = secrets.token_hex(3)

    host, port = base.removeprefix("http://").split(":")

    async def client() -> None:
        conn = Connection(host, int(port), f"Bearer {key}")
        try:
            while (now := time.monotonic()) < stop_at:
                n = next(counter)
                order = pool[n % len(pool)]
                body: dict[str, Any] | None = None
                if endpoint == "availability":
                    path = availability_path(order)
                elif endpoint == "promises":
                    path, body = (
                        "/v1/promises",
                        {"lines": order["lines"], "ship_to": order.get("ship_to")},
                    )
                else:
                    path, body = "/v1/orders", {**order, "external_id": f"B{run_id}-{n}"}
                began = time.perf_counter()
                try:
                    if body is None:
                        status, _ = await conn.get(path)
                    else:
                        status, _ = await conn.post(path, json.dumps(body).encode())
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    status = -1
                    await conn.close()
                    conn = Connection(host, int(port), f"Bearer {key}")
                elapsed = (time.perf_counter() - began) * 1000
                if now >= measure_from and time.monotonic() <= stop_at:
                    result.requests += 1
                    if status < 0:
                        result.transport_errors += 1
                    else:
                        result.statuses[status] += 1
                        result.latencies_ms.append(elapsed)
        finally:
            await conn.close()

    async def tick() -> None:
        if progress is None:
            return
        task = progress.add_task(request_line(endpoint), total=warmup + duration)
        while (now := time.monotonic()) < stop_at:
            progress.update(task, completed=now - start)
            await asyncio.sleep(0.25)
        progress.update(task, completed=warmup + duration)

    await asyncio.gather(tick(), *(client() for _ in range(clients)))
    result.seconds = duration
    return result


def new_progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
