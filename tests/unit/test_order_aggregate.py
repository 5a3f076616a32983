"""The order aggregate's rules, without a database: every unit accounted for, moves that say
what the stock must do, events recorded, the hold and the state table enforced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniorder.domain.errors import Conflict, IllegalTransition, ValidationFailed
from omniorder.domain.fulfillment import Fulfillment, FulfillmentLine
from omniorder.domain.model import ServiceLevel
from omniorder.domain.order import Order, OrderLine
from omniorder.domain.states import HOLDING_STATES, FulfillmentState

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def order(lines: dict[str, int], level: ServiceLevel = ServiceLevel.STANDARD) -> Order:
    o = Order(
        id="ord_1",
        channel="web",
        external_id="W-1",
        status="",
        service_level=level,
        lines=[OrderLine(sku, q, backordered=q) for sku, q in lines.items()],
        created_at=NOW,
        updated_at=NOW,
    )
    o.refresh_status()
    return o


def ship_from(o: Order, fid: str, location: str, units: dict[str, int]) -> Fulfillment:
    f = Fulfillment(
        id=fid,
        order_id=o.id,
        location_id=location,
        state="pending",
        lines=[FulfillmentLine(s, q) for s, q in units.items()],
        distance_km=10.0,
        estimated_delivery_date=None,
        created_at=NOW,
        updated_at=NOW,
        accept_by=NOW + timedelta(hours=2),
    )
    o.add_fulfillment(f)
    return f


def assert_books(o: Order) -> None:
    for ln in o.lines:
        assert ln.allocated + ln.backordered + ln.cancelled + ln.shipped == ln.quantity
        assert min(ln.allocated, ln.backordered, ln.cancelled, ln.shipped) >= 0
        held = sum(
            fl.quantity
            for f in o.fulfillments
            if FulfillmentState(f.state) in HOLDING_STATES
            for fl in f.lines
            if fl.sku == ln.sku
        )
        assert held == ln.allocated


def test_a_fulfillment_takes_backordered_units_and_is_recorded() -> None:
    o = order({"A": 3, "B": 1})
    ship_from(o, "f1", "NEWARK", {"A": 2, "B": 1})
    assert [(ln.allocated, ln.backordered) for ln in o.lines] == [(2, 1), (1, 0)]
    assert o.status == "partially_allocated"
    assert [e.type for e in o.pull_events()] == ["fulfillment.created"]
    with pytest.raises(ValueError):
        ship_from(o, "f2", "DALLAS", {"A": 2})  # only 1 waits
    assert_books(o)


def test_a_partial_reject_gives_units_back_and_the_rest_stays() -> None:
    o = order({"A": 3})
    ship_from(o, "f1", "NEWARK", {"A": 3})
    units, moves = o.reject("f1", "damaged", [("A", 1)], note="torn")
    assert units == {"A": 1}
    assert [(m.location_id, m.sku, m.quantity) for m in moves] == [("NEWARK", "A", 1)]
    f = o.fulfillment("f1")
    assert f.state == "pending" and f.units() == {"A": 2}
    assert [(r.sku, r.quantity, r.reason) for r in f.rejected_lines] == [("A", 1, "damaged")]
    assert (o.lines[0].allocated, o.lines[0].backordered) == (2, 1)
    (event,) = [e for e in o.pull_events() if e.type.startswith("fulfillment.partially")]
    assert event.extra == {
        "reason": "damaged",
        "note": "torn",
        "rejected": [{"sku": "A", "quantity": 1}],
    }
    with pytest.raises(ValidationFailed):
        o.reject("f1", "damaged", [("A", 3)])
    o.reject("f1", "out_of_stock")
    assert o.fulfillment("f1").state == "rejected"
    assert o.excluded_locations() == frozenset({"NEWARK"})
    assert_books(o)


def test_cancel_takes_backorders_first_then_the_newest_fulfillment() -> None:
    o = order({"A": 5})
    ship_from(o, "f1", "NEWARK", {"A": 2})
    ship_from(o, "f2", "DALLAS", {"A": 2})
    cancelled, moves = o.cancel([("A", 2)], "changed my mind")
    assert cancelled == {"A": 2}
    assert [(m.location_id, m.quantity) for m in moves] == [("DALLAS", 1)]
    assert o.fulfillment("f2").units() == {"A": 1}
    assert (o.lines[0].backordered, o.lines[0].cancelled) == (0, 2)
    with pytest.raises(Conflict):
        o.cancel([("A", 4)])
    with pytest.raises(ValidationFailed):
        o.cancel([("Z", 1)])
    _, moves = o.cancel(None)
    assert sorted((m.location_id, m.quantity) for m in moves) == [("DALLAS", 1), ("NEWARK", 2)]
    assert o.status == "cancelled"
    assert o.pull_events()[-1].type == "order.cancelled"
    assert_books(o)


def test_shipping_delivers_units_and_a_pickup_cannot_ship() -> None:
    o = order({"A": 1, "B": 1})
    ship_from(o, "f1", "NEWARK", {"A": 1})
    ship_from(o, "f2", "DALLAS", {"B": 1})
    o.accept("f1")
    o.pick("f1")
    moves = o.ship("f1", "UPS", "1Z")
    assert [(m.sku, m.quantity) for m in moves] == [("A", 1)]
    assert o.status == "partially_shipped"
    o.accept("f2")
    o.ship("f2", "UPS", "1Z2")
    assert o.status == "completed"
    with pytest.raises(Conflict):
        o.take_back([("A", 2)])
    assert o.take_back([("A", 1)]) == {"A": 1}
    pickup = order({"A": 1}, ServiceLevel.PICKUP)
    ship_from(pickup, "p1", "NYC", {"A": 1})
    pickup.accept("p1")
    with pytest.raises(Conflict):
        pickup.ship("p1", "UPS", "1Z")
    assert_books(o)


def test_a_hold_allows_only_a_cancel_and_release_resumes_the_timer() -> None:
    o = order({"A": 2})
    f = ship_from(o, "f1", "NEWARK", {"A": 2})
    due = f.accept_by
    assert due is not None
    o.hold("fraud", NOW)
    assert o.status == "on_hold"
    with pytest.raises(IllegalTransition):
        o.accept("f1")
    with pytest.raises(IllegalTransition):
        o.reject("f1", "damaged")
    with pytest.raises(Conflict):
        o.hold("manual", NOW)
    o.release(NOW + timedelta(minutes=30))
    assert f.accept_by == due + timedelta(minutes=30)
    assert o.status == "allocated" and "f1" in o.changed
    assert [e.type for e in o.pull_events()][-2:] == ["order.held", "order.released"]


def test_bouncing_too_often_puts_the_order_on_hold() -> None:
    o = order({"A": 1})
    assert o.bounce(2, NOW, "fulfillment.damaged") and o.bounce(2, NOW, "fulfillment.damaged")
    assert not o.bounce(2, NOW, "fulfillment.damaged")
    assert o.hold_reason == "too_many_reroutes" and o.status == "on_hold"
    o.release(NOW)
    assert o.reroutes == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "reject", "cancel", "ship", "drop"]),
            st.integers(0, 3),
            st.integers(1, 3),
        ),
        max_size=25,
    )
)
def test_any_sequence_of_changes_keeps_every_unit_accounted_for(
    steps: list[tuple[str, int, int]],
) -> None:
    o = order({"A": 6, "B": 4})
    made = 0
    for kind, pick, qty in steps:
        live = o.live()
        try:
            if kind == "add":
                sku = "A" if pick % 2 == 0 else "B"
                if o.line(sku).backordered:
                    made += 1
                    ship_from(o, f"f{made}", f"L{pick}", {sku: min(qty, o.line(sku).backordered)})
            elif live and kind == "reject":
                f = live[pick % len(live)]
                sku, have = next(iter(f.units().items()))
                o.reject(f.id, "damaged", [(sku, min(qty, have))])
            elif kind == "cancel":
                o.cancel([("A" if pick % 2 == 0 else "B", qty)])
            elif live and kind == "ship":
                f = live[pick % len(live)]
                o.accept(f.id)
                o.ship(f.id, "UPS", "1Z")
            elif live and kind == "drop":
                o.cancel_fulfillment(live[pick % len(live)].id, None)
        except (Conflict, ValidationFailed):
            pass  # refused: nothing changed
        assert_books(o)
