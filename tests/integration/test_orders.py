"""Order capture, reservation and cancellation against a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain import sourcing
from omniorder.domain.errors import Conflict, ValidationFailed
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Role, ServiceLevel
from omniorder.services import cancellation, catalog, orders
from omniorder.services.database import Database
from omniorder.services.events import feed
from tests.factories import CITIES, seed_network
from tests.integration.helpers import assert_books_balance

ADMIN = ApiKey("key_test", "test", Role.ADMIN, "test", None, None, True, utcnow())


def cmd(
    external_id: str, lines: dict[str, int], city: str = "NYC", **kw: object
) -> orders.PlaceOrder:
    lat, lon = CITIES[city]
    params: dict[str, object] = {
        "service_level": ServiceLevel.STANDARD,
        "ship_to": GeoPoint(lat, lon),
        **kw,
    }
    return orders.PlaceOrder(
        channel="web",
        external_id=external_id,
        lines=tuple(lines.items()),
        request_hash=f"hash-{external_id}-{sorted(lines.items())}",
        **params,  # type: ignore[arg-type]
    )


def place(db: Database, c: orders.PlaceOrder) -> tuple[object, bool]:
    return db.write(lambda uow: orders.place_order(uow, c))


def position(db: Database, loc: str, sku: str) -> tuple[int, int]:
    pos = db.read(lambda uow: uow.stock.get(loc, sku))
    assert pos is not None
    return pos.on_hand, pos.reserved


def test_placing_an_order_reserves_its_units_and_writes_the_ledger(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    order, created = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    assert created and order.status == "allocated"
    assert [f.location_id for f in order.fulfillments] == ["NEWARK"]
    assert position(db, "NEWARK", "A") == (5, 2)
    ledger, _ = db.read(lambda uow: uow.stock.ledger("NEWARK", "A", 50, None))
    assert [(e.reason, e.reserved_delta, e.reference) for e in ledger][-1] == (
        "reserve",
        2,
        order.id,
    )
    assert_books_balance(db)


def test_a_replayed_order_returns_the_first_capture_and_reserves_nothing_more(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    first, created1 = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    again, created2 = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    assert created1 and not created2
    assert again.id == first.id
    assert position(db, "NEWARK", "A") == (5, 2)


def test_the_same_external_id_with_another_body_is_a_conflict(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5})
    place(db, cmd("W1", {"A": 2}))
    with pytest.raises(Conflict):
        place(db, cmd("W1", {"A": 3}))
    assert position(db, "NEWARK", "A") == (5, 2)


def test_units_nobody_has_are_backordered_not_dropped(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 1, ("NEWARK", "B"): 0})
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 3, "B": 1})))
    assert order.status == "partially_allocated"
    assert [(ln.sku, ln.allocated, ln.backordered) for ln in order.lines] == [
        ("A", 1, 2),
        ("B", 0, 1),
    ]
    assert_books_balance(db)


def test_safety_stock_is_never_promised(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    db.write(lambda uow: uow.stock.set_many([("NEWARK", "A", 3, 2)], "set", None))
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    assert [(ln.allocated, ln.backordered) for ln in order.lines] == [(1, 1)]


def test_unknown_skus_are_all_named_and_nothing_is_stored(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    with pytest.raises(ValidationFailed) as err:
        place(db, cmd("W1", {"A": 1, "NOPE": 1, "NADA": 2}))
    assert {e.field for e in err.value.errors} == {"lines[1].sku", "lines[2].sku"}
    assert db.read(lambda uow: uow.orders.find_by_external_id("web", "W1")) is None
    assert position(db, "NEWARK", "A") == (3, 0)


def test_pickup_orders_reserve_only_at_the_pickup_store(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 1, ("NYC", "A"): 9}, stores=("NEWARK",))
    c = cmd(
        "P1", {"A": 2}, service_level=ServiceLevel.PICKUP, ship_to=None, pickup_location_id="NEWARK"
    )
    order, _ = db.write(lambda uow: orders.place_order(uow, c))
    assert [f.location_id for f in order.fulfillments] == ["NEWARK"]
    assert [(ln.allocated, ln.backordered) for ln in order.lines] == [(1, 1)]
    assert position(db, "NYC", "A") == (9, 0)


def test_a_lost_reservation_race_is_replanned_on_fresh_stock(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first plan is made on stale numbers (NEWARK looks stocked with 5 but holds 1): the
    conditional update refuses it, the order is planned again and goes to DALLAS, which alone
    can ship both units; the trace shows both rounds."""
    seed_network(db, {("NEWARK", "A"): 1, ("DALLAS", "A"): 4})
    real_plan = sourcing.plan
    calls = {"n": 0}

    def stale_first(request, candidates, profile):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            candidates = [
                sourcing.Candidate(
                    c.location, {"A": 5} if c.location.id == "NEWARK" else c.available
                )
                for c in candidates
            ]
        return real_plan(request, candidates, profile)

    monkeypatch.setattr(sourcing, "plan", stale_first)
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    assert [f.location_id for f in order.fulfillments] == ["DALLAS"]
    trace = db.read(lambda uow: orders.sourcing_trace(uow, order.id, ADMIN))
    attempts = trace["rounds"][0]["attempts"]
    assert attempts[0]["lost_race"] == {"location_id": "NEWARK", "sku": "A", "quantity": 2}
    assert [f["location_id"] for f in attempts[0]["planned"]] == ["NEWARK"]
    exact = trace["rounds"][0]["detail"]["chosen"]["cost"]["total"]
    assert attempts[1]["cost"] == pytest.approx(exact)
    assert attempts[1]["reserved"] == 1
    assert position(db, "NEWARK", "A") == (1, 0)
    assert position(db, "DALLAS", "A") == (4, 2)
    assert_books_balance(db)


def test_cancelling_an_order_releases_every_reservation(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 2, ("DALLAS", "A"): 5, ("DALLAS", "B"): 5})
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 4, "B": 1})))
    cancelled = db.write(lambda uow: cancellation.cancel_order(uow, order.id, ADMIN))
    assert cancelled.status == "cancelled"
    assert all(f.state == "cancelled" for f in cancelled.fulfillments)
    assert position(db, "NEWARK", "A") == (2, 0)
    assert position(db, "DALLAS", "A") == (5, 0)
    with pytest.raises(Conflict):
        db.write(lambda uow: cancellation.cancel_order(uow, order.id, ADMIN))
    assert_books_balance(db)


def test_cancelling_some_units_takes_backorders_first_then_reservations(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 5})))
    assert [(ln.allocated, ln.backordered) for ln in order.lines] == [(3, 2)]
    after = db.write(lambda uow: cancellation.cancel_order(uow, order.id, ADMIN, [("A", 3)]))
    assert [(ln.allocated, ln.backordered, ln.cancelled) for ln in after.lines] == [(2, 0, 3)]
    assert after.status == "allocated"
    assert [(f.state, f.lines[0].quantity) for f in after.fulfillments] == [("pending", 2)]
    assert position(db, "NEWARK", "A") == (3, 2)
    with pytest.raises(Conflict):
        db.write(lambda uow: cancellation.cancel_order(uow, order.id, ADMIN, [("A", 3)]))
    assert_books_balance(db)


def test_a_failed_capture_writes_no_event(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    before = feed(db, 0, 500)[-1].seq
    with pytest.raises(ValidationFailed):
        place(db, cmd("W1", {"NOPE": 1}))
    assert feed(db, before, 500) == []
    place(db, cmd("W2", {"A": 1}))
    events = feed(db, before, 50)
    assert [e.type for e in events] == ["order.created", "fulfillment.created", "inventory.updated"]
    reserved = events[-1].data
    assert (reserved["reserved"], reserved["reserved_delta"], reserved["reason"]) == (
        1,
        1,
        "reserve",
    )


def test_a_changed_location_is_sourced_as_it_is_now(db: Database) -> None:
    """Sourcing remembers location rows between orders; a change to a location (here it stops
    shipping) is seen by the very next order."""
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 5})
    first, _ = place(db, cmd("W1", {"A": 1}))
    assert [f.location_id for f in first.fulfillments] == ["NEWARK"]  # type: ignore[attr-defined]
    newark = db.read(lambda uow: uow.locations.get("NEWARK"))
    assert newark is not None
    newark.can_ship = False
    db.write(lambda uow: catalog.put_location(uow, newark))
    second, _ = place(db, cmd("W2", {"A": 1}))
    assert [f.location_id for f in second.fulfillments] == ["DALLAS"]  # type: ignore[attr-defined]


def test_a_plan_is_reserved_all_or_nothing(db: Database) -> None:
    """One reservation of a plan cannot be met (or has no position at all): none of the plan's
    reservations is kept, the one that failed is named, and the ledger records nothing. A plan
    that can be met is reserved whole, with a ledger row per position."""
    seed_network(db, {("NEWARK", "A"): 5, ("NEWARK", "B"): 1, ("DALLAS", "A"): 3})
    keys = [("NEWARK", "A"), ("NEWARK", "B"), ("DALLAS", "A")]

    def reserve(plan: list[tuple[str, str, int]]) -> tuple[str, str, int] | None:
        return db.write(lambda uow: uow.stock.reserve_all(plan, "ord_x"))

    def ledger() -> dict[tuple[str, str], int]:
        lg = t.ledger
        q = select(lg.c.location_id, lg.c.sku, lg.c.reserved_delta).where(lg.c.reference == "ord_x")
        rows = db.read(lambda uow: uow.conn.execute(q).all())
        return {(r.location_id, r.sku): r.reserved_delta for r in rows}

    lost = reserve([("NEWARK", "B", 2), ("DALLAS", "A", 1), ("NEWARK", "A", 2)])
    assert lost == ("NEWARK", "B", 2)
    assert reserve([("DALLAS", "A", 1), ("DALLAS", "B", 1)]) == ("DALLAS", "B", 1)
    assert [position(db, *key) for key in keys] == [(5, 0), (1, 0), (3, 0)]
    assert ledger() == {}
    whole = [("NEWARK", "B", 1), ("DALLAS", "A", 1), ("NEWARK", "A", 1), ("DALLAS", "A", 2)]
    assert reserve(whole) is None
    assert [position(db, *key) for key in keys] == [(5, 1), (1, 1), (3, 3)]
    assert ledger() == {("NEWARK", "A"): 1, ("NEWARK", "B"): 1, ("DALLAS", "A"): 3}
