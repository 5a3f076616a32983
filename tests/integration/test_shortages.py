"""Shortages: a count below what is reserved makes the newest unpicked fulfillments there give
units up, which are sourced again elsewhere or backordered; picked goods are left alone. And an
out-of-stock reject lowers the count without ever undercutting a reservation made meanwhile."""

from __future__ import annotations

from omniorder.domain.order import Order
from omniorder.services import fulfillments as svc
from omniorder.services import holds, inventory
from omniorder.services.database import Database
from omniorder.services.events import feed
from omniorder.services.inventory import SnapshotRow
from tests.factories import seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_concurrency import run_together
from tests.integration.test_lifecycle import POLICY, get, place, where
from tests.integration.test_orders import position


def count_to(db: Database, location_id: str, sku: str, on_hand: int) -> None:
    db.write(
        lambda uow: inventory.apply_snapshot(uow, [SnapshotRow(location_id, sku, on_hand)], None)
    )


def units_at(order: Order, location_id: str, sku: str) -> int:
    return sum(
        ln.quantity
        for f in order.fulfillments
        if f.location_id == location_id and f.state in ("pending", "accepted", "picked")
        for ln in f.lines
        if ln.sku == sku
    )


def test_a_count_below_what_is_reserved_takes_units_from_the_newest_order_first(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    older = place(db, "W1", {"A": 2})
    newer = place(db, "W2", {"A": 2})
    assert where(older) == where(newer) == {"NEWARK": "pending"}
    count_to(db, "NEWARK", "A", 3)  # 4 reserved, 3 on the shelf
    assert position(db, "NEWARK", "A") == (3, 3)
    assert units_at(get(db, older.id), "NEWARK", "A") == 2
    after = get(db, newer.id)
    assert units_at(after, "NEWARK", "A") == 1
    assert units_at(after, "DALLAS", "A") == 1  # sourced again among the other locations
    short = next(f for f in after.fulfillments if f.location_id == "NEWARK")
    assert [(r.sku, r.quantity, r.reason) for r in short.rejected_lines] == [("A", 1, "shortage")]
    assert after.status == "allocated" and after.reroutes == 1
    types = [e.type for e in feed(db, 0, 500)]
    assert types.count("inventory.shortage") == 1
    assert "fulfillment.partially_rejected" in types
    assert_books_balance(db)


def test_picked_goods_are_left_alone_and_an_older_order_gives_up_instead(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 4, ("DALLAS", "A"): 5})
    older = place(db, "W1", {"A": 2})
    newer = place(db, "W2", {"A": 2})
    fid = newer.fulfillments[0].id
    db.write(lambda uow: svc.accept(uow, fid, None))
    db.write(lambda uow: svc.pick(uow, fid, None))
    count_to(db, "NEWARK", "A", 2)
    assert where(get(db, newer.id)) == {"NEWARK": "picked"}
    before = get(db, older.id)
    assert where(before) == {"NEWARK": "rejected", "DALLAS": "pending"}
    assert before.fulfillments[0].rejection_reason == "shortage"
    assert position(db, "NEWARK", "A") == (2, 2)
    assert_books_balance(db)


def test_units_no_other_location_holds_are_backordered(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    order = place(db, "W1", {"A": 3})
    db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", -2, "damaged in the aisle"))
    after = get(db, order.id)
    assert (after.lines[0].allocated, after.lines[0].backordered) == (1, 2)
    assert after.status == "partially_allocated"
    assert position(db, "NEWARK", "A") == (1, 1)
    assert_books_balance(db)


def test_a_held_order_gives_units_up_and_waits_for_its_release_to_source_them(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 2, ("DALLAS", "A"): 5})
    order = place(db, "W1", {"A": 2}, hold_reason="fraud")
    count_to(db, "NEWARK", "A", 0)
    held = get(db, order.id)
    assert held.status == "on_hold" and held.lines[0].backordered == 2
    assert units_at(held, "DALLAS", "A") == 0 and held.reroutes == 0
    released = db.write(
        lambda uow: holds.release_hold(uow, uow.orders.get(order.id, for_update=True), POLICY)
    )
    assert units_at(released, "DALLAS", "A") == 2 and released.status == "allocated"
    assert_books_balance(db)


def test_two_shortages_racing_on_one_position_leave_the_books_balanced(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 10, ("DALLAS", "A"): 3})
    placed = [place(db, f"W{i}", {"A": 2}) for i in range(5)]
    assert all(where(o) == {"NEWARK": "pending"} for o in placed)
    counts = [4, 7]
    run_together(2, lambda i: count_to(db, "NEWARK", "A", counts[i]))
    on_hand, reserved = position(db, "NEWARK", "A")
    assert on_hand in counts and reserved <= on_hand
    orders = [get(db, o.id) for o in placed]
    at_newark = sum(units_at(o, "NEWARK", "A") for o in orders)
    assert at_newark == reserved
    # every unit taken from NEWARK went to DALLAS (3 there) or waits, none lost
    for o in orders:
        line = o.lines[0]
        assert line.allocated + line.backordered == 2
    assert sum(units_at(o, "DALLAS", "A") for o in orders) == position(db, "DALLAS", "A")[1]
    assert_books_balance(db)


def test_an_out_of_stock_reject_never_undercuts_reservations_made_meanwhile(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 12, ("DALLAS", "A"): 40})
    first = place(db, "R0", {"A": 4})
    fid = first.fulfillments[0].id

    def act(i: int) -> object:
        if i == 0:
            return db.write(lambda uow: svc.reject(uow, fid, None, "out_of_stock", policy=POLICY))
        return place(db, f"R{i}", {"A": 2})

    run_together(6, act)
    on_hand, reserved = position(db, "NEWARK", "A")
    assert reserved <= on_hand
    assert "inventory.shortage" not in [e.type for e in feed(db, 0, 1000)]
    assert_books_balance(db)
