"""Shortages: a count (snapshot, adjustment, import, correction) left a position with fewer
units on hand than are reserved there. Open fulfillments at that location that are not picked
yet give units of the SKU up, newest order first, until the reservations fit again; the units
are sourced again among the other locations exactly as after a reject (a trace round, events),
or backordered. Picked goods are left alone, and so are promise holds (they expire by
themselves within minutes)."""

from __future__ import annotations

from collections.abc import Iterable

from omniorder.db.uow import UnitOfWork
from omniorder.domain.states import UNPICKED_STATES
from omniorder.services.fulfillments import finish, release, reroute

SHORTAGE = "shortage"


def resolve_shortages(uow: UnitOfWork, positions: Iterable[tuple[str, str]]) -> list[str]:
    """Bring reservations back within on_hand at these (location, SKU) positions, whose rows
    this unit of work holds locked; returns the ids of the orders that gave units up."""
    touched: list[str] = []
    for location_id, sku in sorted(set(positions)):
        pos = uow.stock.get(location_id, sku)
        excess = 0 if pos is None else pos.reserved - pos.on_hand
        for order_id, fulfillment_id in uow.orders.holding(location_id, sku):
            if excess <= 0:
                break
            order = uow.orders.get(order_id, for_update=True)
            assert order is not None
            f = order.fulfillment(fulfillment_id)
            have = next((ln.quantity for ln in f.lines if ln.sku == sku), 0)
            if f.state not in UNPICKED_STATES or have == 0:
                continue  # moved on while this transaction waited for the order
            take = min(excess, have)
            note = f"on hand at {location_id} fell below what was reserved"
            release(uow, order.give_back(f, {sku: take}, SHORTAGE, note), SHORTAGE)
            finish(uow, order)
            excess -= take
            if order.id not in touched:
                touched.append(order.id)
    for order_id in touched:
        order = uow.orders.get(order_id, for_update=True)
        assert order is not None
        reroute(uow, order, cause="inventory.shortage")
    return touched
