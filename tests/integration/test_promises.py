"""Promises before checkout: options per service level, holds that reserve and expire by
themselves, and orders that consume exactly their hold, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omniorder.db.clock import utcnow
from omniorder.domain.errors import Conflict, ValidationFailed
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import ServiceLevel
from omniorder.domain.policy import LifecyclePolicy
from omniorder.services import orders, promises
from omniorder.services.database import Database
from omniorder.services.worker import run_once
from tests.factories import CITIES, seed_network
from tests.integration.helpers import assert_books_balance
from tests.integration.test_concurrency import run_together
from tests.integration.test_orders import cmd, position

NYC = GeoPoint(*CITIES["NYC"])
LEVELS = [ServiceLevel.STANDARD, ServiceLevel.EXPRESS, ServiceLevel.PICKUP]
POLICY = LifecyclePolicy()


def ask(db: Database, lines: dict[str, int], hold: int | None = None) -> dict:  # type: ignore[type-arg]
    items = tuple(lines.items())
    if hold:
        return db.write(lambda uow: promises.promise(uow, items, NYC, LEVELS, hold, None))
    return db.read(lambda uow: promises.promise(uow, items, NYC, LEVELS, None, None))


def test_options_per_service_level(db: Database) -> None:
    seed_network(
        db, {("DALLAS", "A"): 5, ("NEWARK", "A"): 1, ("NYC", "A"): 3}, stores=("NYC", "NEWARK")
    )
    answer = ask(db, {"A": 2})
    assert answer["promise_id"] is None
    by_level: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for o in answer["options"]:
        by_level.setdefault(o["service_level"], []).append(o)
    (standard,) = by_level["standard"]
    (express,) = by_level["express"]
    assert standard["complete"] and express["complete"]
    assert express["estimated_delivery_date"] <= standard["estimated_delivery_date"]
    # pickup only where a store holds both units: NYC (NEWARK has one)
    assert [o["pickup_location_id"] for o in by_level["pickup"]] == ["NYC"]
    assert by_level["pickup"][0]["pickup_ready_at"] is not None
    assert position(db, "NYC", "A") == (3, 0)  # asking reserves nothing


def test_a_hold_reserves_expires_by_itself_and_never_oversells(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 2})
    held = ask(db, {"A": 2}, hold=600)
    assert held["promise_id"] and held["expires_at"]
    assert position(db, "NEWARK", "A") == (2, 2)
    assert_books_balance(db)
    # the held units are not there for anybody else
    order, _ = db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 1}), POLICY))
    assert order.status == "backordered"
    with pytest.raises(Conflict):
        ask(db, {"A": 1}, hold=60)
    done = run_once(db, POLICY, now=utcnow() + timedelta(seconds=601))
    assert done.promises_expired == 1
    # the released units went to the waiting order in the same pass
    assert position(db, "NEWARK", "A") == (2, 1)
    assert_books_balance(db)


def test_an_order_consumes_exactly_its_hold_once(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3, ("DALLAS", "A"): 9})
    held = ask(db, {"A": 2}, hold=600)
    pid = held["promise_id"]
    place = orders.place_order
    with pytest.raises(Conflict):  # other lines than promised: nothing taken
        db.write(lambda uow: place(uow, cmd("W0", {"A": 3}, promise_id=pid), POLICY))
    order, _ = db.write(lambda uow: place(uow, cmd("W1", {"A": 2}, promise_id=pid), POLICY))
    assert order.status == "allocated"
    assert [(f.location_id, f.lines[0].quantity) for f in order.fulfillments] == [("NEWARK", 2)]
    assert position(db, "NEWARK", "A") == (3, 2)  # the hold's reservation, not a second one
    with pytest.raises(Conflict):
        db.write(lambda uow: place(uow, cmd("W2", {"A": 2}, promise_id=pid), POLICY))
    with pytest.raises(ValidationFailed):
        db.write(lambda uow: place(uow, cmd("W3", {"A": 2}, promise_id="prm_nope"), POLICY))
    assert run_once(db, POLICY, now=utcnow() + timedelta(hours=1)).promises_expired == 0
    assert_books_balance(db)


def test_an_expired_hold_cannot_be_used(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 3})
    pid = ask(db, {"A": 1}, hold=1)["promise_id"]
    run_once(db, POLICY, now=utcnow() + timedelta(seconds=5))
    with pytest.raises(Conflict):
        db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 1}, promise_id=pid), POLICY))
    assert position(db, "NEWARK", "A") == (3, 0)


def test_concurrent_holds_never_oversell(db: Database) -> None:
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 3})

    def client(i: int) -> str | None:
        try:
            return str(ask(db, {"A": 1 + i % 2}, hold=300)["promise_id"])
        except Conflict:
            return None

    held = [p for p in run_together(12, client) if p]
    assert held
    for loc in ("NEWARK", "DALLAS"):
        on_hand, reserved = position(db, loc, "A")
        assert reserved <= on_hand
    assert_books_balance(db)


def test_holds_that_lose_a_race_are_worked_out_again_until_the_stock_is_gone(
    db: Database,
) -> None:
    """Twelve shoppers ask at once for one unit each of a SKU with eight units: a hold that
    finds its units taken by another is planned again on fresh stock, so exactly eight are
    held (none refused while a unit is left) and the rest hear that nothing can be held."""
    seed_network(db, {("NEWARK", "A"): 5, ("DALLAS", "A"): 3})

    def client(_: int) -> str:
        try:
            return str(ask(db, {"A": 1}, hold=300)["promise_id"])
        except Conflict as exc:
            return str(exc)

    answers = run_together(12, client)
    held = [a for a in answers if a.startswith("prm_")]
    refused = [a for a in answers if not a.startswith("prm_")]
    assert len(held) == 8
    assert all("nothing to hold" in a for a in refused)
    assert position(db, "NEWARK", "A") == (5, 5)
    assert position(db, "DALLAS", "A") == (3, 3)
    assert_books_balance(db)
