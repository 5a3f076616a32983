"""The fulfillment lifecycle against a real database: actions, rejection and re-routing, holds,
time-outs and pickups expiring (the worker, with the clock moved forward), backorders
sourced when stock comes back. After every step the books balance."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.domain.errors import Conflict, ValidationFailed
from omniorder.domain.model import ServiceLevel
from omniorder.domain.order import Order
from omniorder.domain.policy import LifecyclePolicy
from omniorder.services import fulfillments as svc
from omniorder.services import holds, inventory, orders, supply
from omniorder.services.database import Database
from omniorder.services.events import feed
from omniorder.services.worker import run_once
from tests.factories import seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_orders import cmd, position

POLICY = LifecyclePolicy(max_reroutes=2)


def place(db: Database, external_id: str, lines: dict[str, int], **kw: Any) -> Order:
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd(external_id, lines, **kw), POLICY))
    assert isinstance(order, Order)
    return order


def get(db: Database, order_id: str) -> Order:
    found = db.read(lambda uow: uow.orders.get(order_id))
    assert found is not None
    return found


def where(order: Order) -> dict[str, str]:
    return {f.location_id: f.state for f in order.fulfillments}


def state_snapshot(db: Database) -> Any:
    def run(uow: Any) -> Any:
        c = uow.conn
        return (
            [
                tuple(r)
                for r in c.execute(select(t.stock).order_by(t.stock.c.location_id, t.stock.c.sku))
            ],
            [tuple(r) for r in c.execute(select(t.fulfillments).order_by(t.fulfillments.c.id))],
            [tuple(r) for r in c.execute(select(t.order_lines).order_by(t.order_lines.c.order_id))],
            c.execute(select(t.ledger.c.id)).all(),
        )

    return db.read(run)


def test_accept_then_ship_takes_the_units_out_of_stock(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    order = place(db, "W1", {"A": 2})
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.ship(uow, fid, None, "UPS", "1Z999"))
    assert position(db, "NEWARK", "A") == (3, 0)
    after = get(db, order.id)
    assert after.status == "completed"
    assert (after.lines[0].shipped, after.lines[0].allocated) == (2, 0)
    assert after.fulfillments[0].carrier == "UPS"
    assert_books_balance(db)


def test_a_rejected_fulfillment_is_sourced_again_elsewhere(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    order = place(db, "W1", {"A": 2})
    assert where(order) == {"NEWARK": "pending"}
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.reject(uow, fid, None, "damaged", policy=POLICY))
    after = get(db, order.id)
    assert where(after) == {"NEWARK": "rejected", "DALLAS": "pending"}
    assert after.status == "allocated" and after.reroutes == 1
    assert position(db, "NEWARK", "A") == (5, 0)  # 'damaged' keeps the count
    assert position(db, "DALLAS", "A") == (5, 2)
    trace = db.read(lambda uow: orders.sourcing_trace(uow, order.id, _admin()))
    assert [r["round"] for r in trace["rounds"]] == [1, 2]
    second = trace["rounds"][1]
    assert second["cause"] == "fulfillment.damaged"
    assert {c["location_id"]: c["excluded"] for c in second["candidates"]}["NEWARK"] == (
        "excluded_for_order"
    )
    assert_books_balance(db)


def test_out_of_stock_lowers_the_count_and_a_partial_reject_keeps_the_rest(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("NEWARK", "B"): 5, ("DALLAS", "A"): 9})
    order = place(db, "W1", {"A": 3, "B": 1})
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.reject(uow, fid, None, "out_of_stock", [("A", 2)], policy=POLICY))
    after = get(db, order.id)
    newark = next(f for f in after.fulfillments if f.location_id == "NEWARK")
    assert newark.state == "pending"
    assert {ln.sku: ln.quantity for ln in newark.lines} == {"A": 1, "B": 1}
    dallas = next(f for f in after.fulfillments if f.location_id == "DALLAS")
    assert {ln.sku: ln.quantity for ln in dallas.lines} == {"A": 2}
    # NEWARK said two of its A are not there: on_hand 5 -> 3, one A still reserved
    assert position(db, "NEWARK", "A") == (3, 1)
    with pytest.raises(ValidationFailed):
        db.write(lambda uow: svc.reject(uow, fid, None, "damaged", [("A", 5)], policy=POLICY))
    assert_books_balance(db)


def test_an_order_that_bounces_too_often_goes_on_hold(db: Database) -> None:
    seed_network(
        db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5, ("CHICAGO", "A"): 5, ("DENVER", "A"): 5}
    )
    order = place(db, "W1", {"A": 1})
    for _ in range(POLICY.max_reroutes):
        live = next(f for f in get(db, order.id).fulfillments if f.state == "pending")
        db.write(lambda uow, fid=live.id: svc.reject(uow, fid, None, "capacity", policy=POLICY))
    live = next(f for f in get(db, order.id).fulfillments if f.state == "pending")
    db.write(lambda uow: svc.reject(uow, live.id, None, "capacity", policy=POLICY))
    held = get(db, order.id)
    assert held.status == "on_hold" and held.hold_reason == "too_many_reroutes"
    assert held.lines[0].backordered == 1
    assert not [f for f in held.fulfillments if f.state == "pending"]
    # released by a person: sourced again, with a fresh count
    released = db.write(
        lambda uow: holds.release_hold(uow, uow.orders.get(order.id, for_update=True), POLICY)
    )
    assert released.status == "allocated" and released.reroutes == 0
    assert where(released)["DENVER"] == "pending"
    assert_books_balance(db)


def test_illegal_moves_are_conflicts_that_change_nothing(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5}, stores=("NYC",))
    order = place(db, "W1", {"A": 1})
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.ship(uow, fid, None, "UPS", "1"))
    before = state_snapshot(db)
    for action in (
        lambda uow: svc.accept(uow, fid, None),
        lambda uow: svc.ship(uow, fid, None, "UPS", "2"),
        lambda uow: svc.reject(uow, fid, None, "damaged", policy=POLICY),
        lambda uow: svc.cancel(uow, fid, None),
        lambda uow: svc.picked_up(uow, fid, None),
        lambda uow: svc.ready_for_pickup(uow, fid, None, POLICY),
    ):
        with pytest.raises(Conflict):
            db.write(action)
        assert state_snapshot(db) == before


def test_a_shipped_order_cannot_be_picked_up_and_a_pickup_cannot_ship(db: Database) -> None:
    seed_network(db, {("NYC", "A"): 5}, stores=("NYC",))
    pickup = place(
        db,
        "P1",
        {"A": 1},
        service_level=ServiceLevel.PICKUP,
        ship_to=None,
        pickup_location_id="NYC",
    )
    fid = pickup.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    with pytest.raises(Conflict):
        db.write(lambda uow: svc.ship(uow, fid, None, "UPS", "1"))
    db.write(lambda uow: svc.ready_for_pickup(uow, fid, None, POLICY))
    db.write(lambda uow: svc.picked_up(uow, fid, None))
    assert get(db, pickup.id).status == "completed"
    assert position(db, "NYC", "A") == (4, 0)
    assert_books_balance(db)


def test_the_worker_expires_uncollected_pickups_and_reroutes_unaccepted_work(
    db: Database,
) -> None:
    seed_network(db, {("NYC", "A"): 5, ("NEWARK", "B"): 5, ("DALLAS", "B"): 5}, stores=("NYC",))
    pickup = place(
        db,
        "P1",
        {"A": 2},
        service_level=ServiceLevel.PICKUP,
        ship_to=None,
        pickup_location_id="NYC",
    )
    pid = pickup.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, pid, None))
    db.write(lambda uow: svc.ready_for_pickup(uow, pid, None, POLICY))
    shipped = place(db, "W1", {"B": 1})
    assert where(shipped) == {"NEWARK": "pending"}

    first = run_once(db, POLICY)  # nothing due yet (the seeded stock's wake-ups find no orders)
    assert (first.timed_out, first.expired, first.backorders_served) == (0, 0, 0)
    later = utcnow() + timedelta(hours=POLICY.pickup_hours + 1)
    done = run_once(db, POLICY, now=later)
    assert (done.expired, done.timed_out) == (1, 1)
    assert get(db, pickup.id).status == "cancelled"
    assert position(db, "NYC", "A") == (5, 0)
    rerouted = get(db, shipped.id)
    assert where(rerouted) == {"NEWARK": "rejected", "DALLAS": "pending"}
    assert rerouted.fulfillments[0].rejection_reason == "not_accepted"
    # DALLAS did not accept by then either; the pickup does not expire twice
    again = run_once(db, POLICY, now=later)
    assert (again.timed_out, again.expired) == (1, 0)
    assert get(db, shipped.id).status == "backordered"  # nobody else holds B
    last = run_once(db, POLICY, now=later)
    assert (last.timed_out, last.expired) == (0, 0)
    assert_books_balance(db)


def test_a_held_order_keeps_its_units_and_its_fulfillments_wait_for_release(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    order = place(db, "W1", {"A": 2}, hold_reason="payment")
    assert order.status == "on_hold"
    assert position(db, "NEWARK", "A") == (5, 2)
    fid = order.fulfillments[0].id
    for action in (
        lambda uow: svc.accept(uow, fid, None),
        lambda uow: svc.reject(uow, fid, None, "damaged", policy=POLICY),
        lambda uow: svc.ship(uow, fid, None, "UPS", "1"),
    ):
        with pytest.raises(Conflict):
            db.write(action)
    assert position(db, "NEWARK", "A") == (5, 2)
    released = db.write(
        lambda uow: holds.release_hold(uow, uow.orders.get(order.id, for_update=True), POLICY)
    )
    assert released.status == "allocated"
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.ship(uow, fid, None, "UPS", "1"))
    assert get(db, order.id).status == "completed"
    assert_books_balance(db)


def test_backorders_are_sourced_when_stock_arrives_oldest_first(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 0, ("NEWARK", "B"): 3})
    first = place(db, "W1", {"A": 2})
    second = place(db, "W2", {"A": 2, "B": 1})
    held = place(db, "W3", {"A": 1}, hold_reason="fraud")
    assert first.status == "backordered" and second.status == "partially_allocated"
    run_once(db, POLICY)  # the seeded stock's wake-ups: nothing to source yet
    db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", 3, "receipt"))
    done = run_once(db, POLICY)
    assert done.backorder_skus == 1 and done.backorders_served == 2
    assert get(db, first.id).status == "allocated"
    after = get(db, second.id)
    assert after.status == "partially_allocated"
    assert next(ln for ln in after.lines if ln.sku == "A").allocated == 1
    assert get(db, held.id).lines[0].backordered == 1  # held orders wait for release
    assert position(db, "NEWARK", "A") == (3, 3)
    assert run_once(db, POLICY).busy is False
    assert_books_balance(db)


def test_the_event_feed_tells_the_story_of_an_order(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    start = max([e.seq for e in feed(db, 0, 10_000)], default=0)
    order = place(db, "W1", {"A": 1})
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.reject(uow, fid, None, "damaged", policy=POLICY))
    new = next(f for f in get(db, order.id).fulfillments if f.state == "pending")
    db.write(lambda uow: svc.accept(uow, new.id, None))
    db.write(lambda uow: svc.ship(uow, new.id, None, "DHL", "9"))
    story = [e.type for e in feed(db, start, 100) if e.aggregate_id == order.id]
    assert story == [
        "order.created",
        "fulfillment.created",
        "fulfillment.rejected",
        "fulfillment.created",
        "order.updated",
        "fulfillment.accepted",
        "fulfillment.shipped",
        "order.updated",
    ]


def _admin() -> Any:
    from omniorder.db.repositories.keys import ApiKey
    from omniorder.domain.model import Role

    return ApiKey("key_test", "test", Role.ADMIN, "test", None, None, True, utcnow())


def test_returns_restock_and_serve_a_waiting_backorder(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 2})
    order = place(db, "W1", {"A": 2})
    fid = order.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.ship(uow, fid, None, "UPS", "1"))
    waiting = place(db, "W2", {"A": 1})
    assert waiting.status == "backordered"
    run_once(db, POLICY)
    admin = _admin()
    with pytest.raises(Conflict):  # more than was shipped
        db.write(
            lambda uow: supply.record_return(uow, order.id, admin, [("A", 3)], "NEWARK", True, None)
        )
    ret = db.write(
        lambda uow: supply.record_return(uow, order.id, admin, [("A", 1)], "NEWARK", True, "size")
    )
    assert ret.lines == (("A", 1),)
    assert get(db, order.id).lines[0].returned == 1
    assert position(db, "NEWARK", "A") == (1, 0)
    assert run_once(db, POLICY).backorders_served == 1
    assert get(db, waiting.id).status == "allocated"
    # a return that is not restocked leaves the shelf as it is
    db.write(
        lambda uow: supply.record_return(uow, order.id, admin, [("A", 1)], "NEWARK", False, None)
    )
    assert position(db, "NEWARK", "A") == (1, 1)
    assert_books_balance(db)


def test_incoming_supply_is_received_into_stock_and_serves_backorders(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 0})
    waiting = place(db, "W1", {"A": 4})
    run_once(db, POLICY)
    admin = _admin()
    due = date.today() + timedelta(days=5)
    po = db.write(lambda uow: supply.expect(uow, admin, "NEWARK", "A", 10, due, "PO-7"))
    listed, _ = db.read(lambda uow: supply.list_incoming(uow, admin, "A", None, True, 10, None))
    assert [x.id for x in listed] == [po.id]
    (seen,) = db.read(lambda uow: inventory.availability(uow, ["A"], None))
    assert (seen.available, [(x.location_id, x.quantity) for x in seen.incoming]) == (
        0,
        [("NEWARK", 10)],
    )
    # promised against the supply on its way: W1's 4 units come with the purchase order
    assert (
        db.read(lambda uow: orders.get_order(uow, waiting.id, admin))
        .lines[0]
        .backorder_expected_date
        == due
    )
    later = place(db, "W2", {"A": 7})  # 4 ahead of it + 7 > 10 expected: no date
    assert later.lines[0].backorder_expected_date is None
    got = db.write(lambda uow: supply.receive(uow, admin, po.id, 6))
    assert got.received_quantity == 6
    with pytest.raises(Conflict):
        db.write(lambda uow: supply.receive(uow, admin, po.id, None))
    assert db.read(lambda uow: supply.list_incoming(uow, admin, "A", None, True, 10, None)) == (
        [],
        None,
    )
    assert db.read(lambda uow: inventory.availability(uow, ["A"], None))[0].incoming == []
    assert position(db, "NEWARK", "A") == (6, 0)
    run_once(db, POLICY)
    assert get(db, waiting.id).status == "allocated"
    assert get(db, later.id).status == "partially_allocated"  # the 2 left went to W2
    assert position(db, "NEWARK", "A") == (6, 6)
    assert_books_balance(db)
