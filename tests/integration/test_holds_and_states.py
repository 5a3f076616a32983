"""A hold holds (its timers wait and resume with the time they had left), a promise keeps its
date, and every state the contract names is reached: picked, partially_shipped, completed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.domain.errors import Conflict, ValidationFailed
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import ServiceLevel
from omniorder.services import fulfillments as svc
from omniorder.services import holds, orders, promises, stats
from omniorder.services.database import Database
from omniorder.services.worker import run_once
from tests.factories import CITIES, seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_lifecycle import POLICY, get, place, where
from tests.integration.test_orders import cmd, position


def hold(db: Database, order_id: str, reason: str = "fraud") -> None:
    db.write(lambda uow: holds.hold(uow, uow.orders.get(order_id, for_update=True), reason))


def release(db: Database, order_id: str) -> None:
    db.write(lambda uow: holds.release_hold(uow, uow.orders.get(order_id, for_update=True), POLICY))


def test_a_held_orders_accept_timer_waits_and_resumes_with_the_time_it_had_left(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    order = place(db, "W1", {"A": 1})
    due = order.fulfillments[0].accept_by
    assert due is not None
    hold(db, order.id)
    # long past the deadline: nothing is re-routed while the order is held
    assert run_once(db, POLICY, now=due + timedelta(days=3)).timed_out == 0
    assert where(get(db, order.id)) == {"NEWARK": "pending"}
    # the order was held two hours ago
    held_at = utcnow() - timedelta(hours=2)
    db.write(
        lambda uow: uow.conn.execute(
            t.orders.update().where(t.orders.c.id == order.id).values(held_at=held_at)
        )
    )
    release(db, order.id)
    after = get(db, order.id).fulfillments[0].accept_by
    assert after is not None
    assert timedelta(hours=2) <= after - due <= timedelta(hours=2, minutes=1)
    assert run_once(db, POLICY, now=due + timedelta(seconds=1)).timed_out == 0
    assert run_once(db, POLICY, now=after + timedelta(seconds=1)).timed_out == 1
    assert where(get(db, order.id)) == {"NEWARK": "rejected", "DALLAS": "pending"}
    assert_books_balance(db)


def test_a_held_pickup_does_not_expire_and_cannot_be_collected(db: Database) -> None:
    seed_network(db, {("NYC", "A"): 2}, stores=("NYC",))
    order = place(db, "P1", {"A": 1}, service_level=ServiceLevel.PICKUP, pickup_location_id="NYC")
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    ready = db.write(lambda uow: svc.ready_for_pickup(uow, fid, None, POLICY))
    expires = ready.fulfillment.expires_at
    assert expires is not None
    hold(db, order.id, "manual")
    with pytest.raises(Conflict):
        db.write(lambda uow: svc.picked_up(uow, fid, None))
    assert run_once(db, POLICY, now=expires + timedelta(hours=1)).expired == 0
    release(db, order.id)
    db.write(lambda uow: svc.picked_up(uow, fid, None))
    assert get(db, order.id).status == "completed"
    assert_books_balance(db)


def test_a_held_fulfillment_may_still_be_cancelled(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    order = place(db, "W1", {"A": 2}, hold_reason="payment")
    db.write(lambda uow: svc.cancel(uow, order.fulfillments[0].id, None, "customer gave up"))
    assert get(db, order.id).status == "cancelled"
    assert position(db, "NEWARK", "A") == (5, 0)
    assert_books_balance(db)


def test_picked_goods_ship_and_the_order_goes_partially_shipped_then_completed(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 1, ("DALLAS", "B"): 1})
    order = place(db, "W1", {"A": 1, "B": 1})
    by_loc = {f.location_id: f.id for f in order.fulfillments}
    with pytest.raises(Conflict):  # picking starts from accepted
        db.write(lambda uow: svc.pick(uow, by_loc["NEWARK"], None))
    for loc in ("NEWARK", "DALLAS"):
        db.write(lambda uow, loc=loc: svc.accept(uow, by_loc[loc], None))
    picked = db.write(lambda uow: svc.pick(uow, by_loc["NEWARK"], None))
    assert picked.fulfillment.state == "picked"
    with pytest.raises(Conflict):  # picked goods are not rejected
        db.write(lambda uow: svc.reject(uow, by_loc["NEWARK"], None, "damaged", policy=POLICY))
    db.write(lambda uow: svc.ship(uow, by_loc["NEWARK"], None, "UPS", "1Z1"))
    assert get(db, order.id).status == "partially_shipped"
    db.write(lambda uow: svc.ship(uow, by_loc["DALLAS"], None, "UPS", "1Z2"))  # from accepted
    assert get(db, order.id).status == "completed"
    assert_books_balance(db)


def test_a_picked_pickup_is_made_ready_for_the_customer(db: Database) -> None:
    seed_network(db, {("NYC", "A"): 2}, stores=("NYC",))
    order = place(db, "P1", {"A": 1}, service_level=ServiceLevel.PICKUP, pickup_location_id="NYC")
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.pick(uow, fid, None))
    ready = db.write(lambda uow: svc.ready_for_pickup(uow, fid, None, POLICY))
    assert ready.fulfillment.state == "ready_for_pickup"


def test_an_order_placed_with_a_promise_takes_the_promised_date_and_counts_on_time(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    nyc = GeoPoint(*CITIES["NYC"])
    held = db.write(
        lambda uow: promises.promise(uow, (("A", 1),), nyc, [ServiceLevel.STANDARD], 600, None)
    )
    promised = held["options"][held["held_option"]]["estimated_delivery_date"]
    other_day = date.fromisoformat(promised) + timedelta(days=2)
    with pytest.raises(ValidationFailed) as refused:
        c = cmd("W1", {"A": 1}, promise_id=held["promise_id"], promise_by=other_day)
        db.write(lambda uow: orders.place_order(uow, c, POLICY))
    assert [e.field for e in refused.value.errors] == ["promise_by"]
    c = cmd("W1", {"A": 1}, promise_id=held["promise_id"])
    order, _ = db.write(lambda uow: orders.place_order(uow, c, POLICY))
    assert order.promise_by is not None and order.promise_by.isoformat() == promised
    assert get(db, order.id).promise_by == order.promise_by
    kpis = db.read(lambda uow: stats.kpis(uow, None, None, None))
    assert kpis["orders_with_promise"] == 1 and kpis["on_time_rate"] == 1.0
