"""Inventory feeds: snapshots, sequences, adjustments, the ledger."""

from __future__ import annotations

import pytest

from omniorder.domain.errors import Conflict, StaleSequence, ValidationFailed
from omniorder.services import inventory, orders
from omniorder.services.database import Database
from omniorder.services.events import feed
from omniorder.services.inventory import SnapshotRow
from tests.factories import seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_orders import cmd


def on_hand(db: Database, loc: str, sku: str) -> int | None:
    pos = db.read(lambda uow: uow.stock.get(loc, sku))
    return None if pos is None else pos.on_hand


def snapshot(
    db: Database, rows: list[SnapshotRow], seq: int | None, full: str | None = None
) -> inventory.SnapshotResult:
    return db.write(lambda uow: inventory.apply_snapshot(uow, rows, seq, full))


def test_a_snapshot_older_than_the_last_applied_one_is_refused_whole(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 1, ("DALLAS", "A"): 1})
    snapshot(db, [SnapshotRow("NEWARK", "A", 10)], 17)
    with pytest.raises(StaleSequence):
        snapshot(db, [SnapshotRow("DALLAS", "A", 3), SnapshotRow("NEWARK", "A", 2)], 16)
    assert (on_hand(db, "NEWARK", "A"), on_hand(db, "DALLAS", "A")) == (10, 1)
    snapshot(db, [SnapshotRow("NEWARK", "A", 12)], 17)  # the same sequence again is accepted
    assert on_hand(db, "NEWARK", "A") == 12


def test_sequences_are_kept_per_location(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 1, ("DALLAS", "A"): 1})
    snapshot(db, [SnapshotRow("NEWARK", "A", 5)], 100)
    snapshot(db, [SnapshotRow("DALLAS", "A", 6)], 3)
    assert (on_hand(db, "NEWARK", "A"), on_hand(db, "DALLAS", "A")) == (5, 6)


def test_a_full_snapshot_zeroes_unlisted_skus_of_its_location_only(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 4, ("NEWARK", "B"): 4, ("DALLAS", "B"): 4})
    result = snapshot(db, [SnapshotRow("NEWARK", "A", 7)], None, full="NEWARK")
    assert (result.applied, result.zeroed) == (1, 1)
    assert (on_hand(db, "NEWARK", "A"), on_hand(db, "NEWARK", "B")) == (7, 0)
    assert on_hand(db, "DALLAS", "B") == 4


def test_a_snapshot_with_one_bad_row_applies_nothing(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 4})
    with pytest.raises(ValidationFailed) as err:
        snapshot(
            db,
            [
                SnapshotRow("NEWARK", "A", 9),
                SnapshotRow("NEWARK", "NOPE", 1),
                SnapshotRow("NOWHERE", "A", 1),
            ],
            5,
        )
    assert {e.field for e in err.value.errors} == {"items[1].sku", "items[2].location_id"}
    assert on_hand(db, "NEWARK", "A") == 4
    assert db.read(lambda uow: uow.locations.last_sequence("NEWARK")) is None


def test_duplicate_rows_in_a_snapshot_are_refused(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 4})
    with pytest.raises(ValidationFailed):
        snapshot(db, [SnapshotRow("NEWARK", "A", 1), SnapshotRow("NEWARK", "A", 2)], None)


def test_a_snapshot_below_what_is_reserved_is_a_shortage_the_order_gives_up(
    db: Database,
) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 4})))
    snapshot(db, [SnapshotRow("NEWARK", "A", 2)], None)
    pos = db.read(lambda uow: uow.stock.get("NEWARK", "A"))
    assert pos is not None and (pos.on_hand, pos.reserved, pos.available) == (2, 2, 0)
    after = db.read(lambda uow: uow.orders.get(order.id))
    assert after is not None
    assert (after.lines[0].allocated, after.lines[0].backordered) == (2, 2)
    types = [e.type for e in feed(db, 0, 500)]
    assert "inventory.shortage" in types and "fulfillment.partially_rejected" in types
    assert_books_balance(db)


def test_adjustments_change_on_hand_relative_and_never_below_zero(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", 3, "receipt"))
    db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", -2, "damage"))
    assert on_hand(db, "NEWARK", "A") == 6
    with pytest.raises(Conflict):
        db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", -7, "count"))
    assert on_hand(db, "NEWARK", "A") == 6
    ledger, _ = db.read(lambda uow: uow.stock.ledger("NEWARK", "A", 50, None))
    assert [(e.on_hand_delta, e.on_hand_after, e.reference) for e in ledger] == [
        (5, 5, None),
        (3, 8, "receipt"),
        (-2, 6, "damage"),
    ]
    assert_books_balance(db)


def test_an_adjustment_creates_a_missing_position(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "B"): 1})
    db.write(lambda uow: inventory.adjust(uow, "DALLAS", "A", 4, "receipt"))
    assert on_hand(db, "DALLAS", "A") == 4


def test_the_ledger_pages_with_a_cursor(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 1})
    for _ in range(4):
        db.write(lambda uow: inventory.adjust(uow, "NEWARK", "A", 1, "receipt"))
    first, cursor = db.read(lambda uow: uow.stock.ledger("NEWARK", "A", 3, None))
    rest, end = db.read(lambda uow: uow.stock.ledger("NEWARK", "A", 3, cursor))
    assert len(first) == 3 and len(rest) == 2 and end is None
    assert [e.on_hand_after for e in first + rest] == [1, 2, 3, 4, 5]


def test_a_product_seen_only_by_a_rolled_back_transaction_is_not_remembered(db: Database) -> None:
    from omniorder.domain.model import Product
    from omniorder.services import catalog

    def create_then_fail(uow: object) -> None:
        from omniorder.db.uow import UnitOfWork

        assert isinstance(uow, UnitOfWork)
        catalog.put_product(uow, Product("GHOST", "ghost"))
        assert uow.products.existing_skus(["GHOST"]) == {"GHOST"}
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        db.write(create_then_fail)
    assert db.read(lambda uow: uow.products.existing_skus(["GHOST"])) == set()
    with pytest.raises(ValidationFailed):
        db.write(lambda uow: inventory.put_position(uow, "NOWHERE", "GHOST", 1, None))
