"""Random sequences of lifecycle actions keep every invariant.

Hypothesis plays stores, warehouses, customer service and the worker against a few orders:
accepts, rejects (whole and partial), ships, pickups, cancellations, holds, stock arriving and
timers running out. After every step: the books balance (reservations equal what live
fulfillments hold, the ledger explains every position, every unit of every line is in exactly
one place), each line's allocated units are what its live fulfillments hold, and an action
the state does not allow is refused without changing anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from omniorder.db.clock import utcnow
from omniorder.domain.errors import Conflict, ValidationFailed
from omniorder.domain.model import ServiceLevel
from omniorder.domain.policy import LifecyclePolicy
from omniorder.domain.states import HOLDING_STATES
from omniorder.services import cancellation, holds, inventory, orders
from omniorder.services import fulfillments as svc
from omniorder.services.database import Database
from omniorder.services.worker import run_once
from tests.conftest import _clean
from tests.factories import seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_lifecycle import _admin, state_snapshot
from tests.integration.test_orders import cmd

POLICY = LifecyclePolicy(max_reroutes=2)
ACTIONS = (
    "accept",
    "reject",
    "reject_one",
    "ship",
    "ready",
    "picked_up",
    "cancel_fulfillment",
    "cancel_line",
    "hold",
    "release",
    "restock",
    "timers",
)


def check_lines(db: Database) -> None:
    def run(uow: Any) -> None:
        for order in uow.orders.list_page(500, None)[0]:
            held: dict[str, int] = {}
            for f in order.fulfillments:
                if f.state in {s.value for s in HOLDING_STATES}:
                    for ln in f.lines:
                        held[ln.sku] = held.get(ln.sku, 0) + ln.quantity
            for ln in order.lines:
                assert ln.allocated == held.get(ln.sku, 0), (order.id, ln)

    db.read(run)


def act(db: Database, name: str, pick: int, clock: list[Any]) -> None:
    all_orders = db.read(lambda uow: uow.orders.list_page(500, None)[0])
    order = all_orders[pick % len(all_orders)]
    fuls = order.fulfillments
    fid = fuls[pick % len(fuls)].id if fuls else None
    admin = _admin()
    if name in (
        "accept",
        "reject",
        "reject_one",
        "ship",
        "ready",
        "picked_up",
        "cancel_fulfillment",
    ):
        if fid is None:
            return
        f = next(x for x in fuls if x.id == fid)
        action = {
            "accept": lambda uow: svc.accept(uow, fid, None),
            "reject": lambda uow: svc.reject(uow, fid, None, "capacity", policy=POLICY),
            "reject_one": lambda uow: svc.reject(
                uow,
                fid,
                None,
                "out_of_stock",
                [(f.lines[0].sku, 1)] if f.lines else [],
                policy=POLICY,
            ),
            "ship": lambda uow: svc.ship(uow, fid, None, "UPS", "1"),
            "ready": lambda uow: svc.ready_for_pickup(uow, fid, None, POLICY),
            "picked_up": lambda uow: svc.picked_up(uow, fid, None),
            "cancel_fulfillment": lambda uow: svc.cancel(uow, fid, None),
        }[name]
    elif name == "cancel_line":
        first = [(order.lines[0].sku, 1)]
        action = lambda uow: cancellation.cancel_order(uow, order.id, admin, first)  # noqa: E731
    elif name == "hold":
        action = lambda uow: holds.hold(uow, uow.orders.get(order.id, for_update=True), "manual")  # noqa: E731
    elif name == "release":
        action = lambda uow: holds.release_hold(  # noqa: E731
            uow, uow.orders.get(order.id, for_update=True), POLICY
        )
    elif name == "restock":
        db.write(lambda uow: inventory.adjust(uow, "DALLAS", order.lines[0].sku, 2, "receipt"))
        run_once(db, POLICY, now=clock[0])
        return
    else:
        clock[0] += timedelta(hours=POLICY.pickup_hours + 1)
        run_once(db, POLICY, now=clock[0])
        return
    before = state_snapshot(db)
    try:
        db.write(action)
    except (Conflict, ValidationFailed):
        assert state_snapshot(db) == before, name


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50)), max_size=14))
def test_random_lifecycles_keep_the_books(engine: Engine, steps: list[tuple[str, int]]) -> None:
    _clean(engine)
    db = Database(engine)
    seed_network(
        db,
        {("NEWARK", "A"): 3, ("NEWARK", "B"): 2, ("DALLAS", "A"): 2, ("NYC", "B"): 2},
        stores=("NYC",),
    )
    db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2, "B": 1}), POLICY))
    db.write(lambda uow: orders.place_order(uow, cmd("W2", {"A": 3}), POLICY))
    db.write(
        lambda uow: orders.place_order(
            uow,
            cmd(
                "P1",
                {"B": 1},
                service_level=ServiceLevel.PICKUP,
                ship_to=None,
                pickup_location_id="NYC",
            ),
            POLICY,
        )
    )
    clock = [utcnow()]
    for name, pick in steps:
        act(db, name, pick, clock)
        assert_books_balance(db)
        check_lines(db)
