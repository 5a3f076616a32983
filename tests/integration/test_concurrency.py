"""Many clients at once: stock is never oversold and a replay never double-reserves."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from omniorder.services import cancellation, orders
from omniorder.services.database import Database
from tests.factories import seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_orders import cmd

CLIENTS = 16


def run_together(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Start ``n`` calls at the same instant, each on its own thread and connection."""
    barrier = threading.Barrier(n)

    def call(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_concurrent_orders_for_a_hot_sku_never_oversell(db: Database) -> None:
    hot_stock = {"NEWARK": 7, "DALLAS": 5, "LA": 3}
    total = sum(hot_stock.values())
    seed_network(db, {(loc, "HOT"): q for loc, q in hot_stock.items()} | {("CHICAGO", "COLD"): 99})
    rng = random.Random(42)
    quantities = [rng.randint(1, 3) for _ in range(CLIENTS * 4)]

    def client(i: int) -> list[tuple[int, int]]:
        got = []
        for j in range(4):
            qty = quantities[i * 4 + j]
            c = cmd(f"C{i}-{j}", {"HOT": qty, "COLD": 1}, city="NYC")
            order, _ = db.write(lambda uow, c=c: orders.place_order(uow, c))
            line = next(ln for ln in order.lines if ln.sku == "HOT")
            got.append((line.allocated, line.backordered))
        return got

    results = [r for per_client in run_together(CLIENTS, client) for r in per_client]
    allocated = sum(a for a, _ in results)
    backordered = sum(b for _, b in results)
    assert allocated == total
    assert allocated + backordered == sum(quantities)
    for loc, q in hot_stock.items():
        pos = db.read(lambda uow, loc=loc: uow.stock.get(loc, "HOT"))
        assert pos is not None and (pos.on_hand, pos.reserved) == (q, q)
    assert_books_balance(db)


def test_the_same_order_sent_by_many_clients_at_once_is_captured_once(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 50})
    c = cmd("DUP-1", {"A": 3})
    results = run_together(CLIENTS, lambda _: db.write(lambda uow: orders.place_order(uow, c)))
    assert len({order.id for order, _ in results}) == 1
    assert sum(1 for _, created in results if created) == 1
    pos = db.read(lambda uow: uow.stock.get("NEWARK", "A"))
    assert pos is not None and pos.reserved == 3
    assert_books_balance(db)


def test_concurrent_cancels_release_each_unit_once(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 10})
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 8})))
    from tests.integration.test_orders import ADMIN

    def cancel_two(_: int) -> str:
        try:
            db.write(lambda uow: cancellation.cancel_order(uow, order.id, ADMIN, [("A", 2)]))
            return "ok"
        except Exception as exc:
            return type(exc).__name__

    outcomes = run_together(8, cancel_two)
    assert outcomes.count("ok") == 4
    assert set(outcomes) == {"ok", "Conflict"}
    pos = db.read(lambda uow: uow.stock.get("NEWARK", "A"))
    assert pos is not None and pos.reserved == 0
    assert_books_balance(db)


def test_workers_running_at_once_handle_each_due_timer_once(db: Database) -> None:
    """Four workers over the same due timers: every fulfillment times out exactly once (on
    PostgreSQL each skips the orders another holds; on SQLite they take turns), and the
    re-routed work is consistent."""
    from datetime import timedelta

    from omniorder.db.clock import utcnow
    from omniorder.domain.policy import LifecyclePolicy
    from omniorder.services.worker import run_once

    # the warehouse has an hour to accept, the store ten: only the warehouse's work is due
    policy = LifecyclePolicy(accept_minutes={"warehouse": 60, "store": 600}, max_reroutes=5)
    seed_network(db, {("NEWARK", "A"): 40, ("DALLAS", "A"): 40}, stores=("DALLAS",))
    for n in range(12):
        db.write(lambda uow, n=n: orders.place_order(uow, cmd(f"T{n}", {"A": 1}), policy))
    later = utcnow() + timedelta(hours=2)

    passes = run_together(4, lambda _: run_once(db, policy, now=later))
    assert sum(p.timed_out for p in passes) == 12
    placed = db.read(lambda uow: uow.orders.list_page(100, None)[0])
    for order in placed:
        states = sorted(f.state for f in order.fulfillments)
        # rejected once at NEWARK, re-routed to the DALLAS store (its window is not due)
        assert states == ["pending", "rejected"], (order.id, states)
    assert_books_balance(db)
