"""Stock that comes back or comes in: customer returns and expected supply (purchase orders,
transfers). Both grow on_hand through the ledger, and the growth wakes the SKU's backorders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, NotFound
from omniorder.domain.ids import new_id
from omniorder.domain.model import Incoming, Return
from omniorder.services.access import check_channel, check_location, visible_locations
from omniorder.services.catalog import require_known
from omniorder.services.fulfillments import finish
from omniorder.services.inventory import grow
from omniorder.services.payloads import incoming_dict, return_dict


def record_return(
    uow: UnitOfWork,
    order_id: str,
    principal: ApiKey,
    lines: Sequence[tuple[str, int]],
    location_id: str,
    restock: bool,
    reason: str | None,
) -> Return:
    """Units of a shipped order came back to ``location_id``; with ``restock`` they go back
    into its on_hand (ledger reason 'return'), which may serve waiting backorders."""
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    check_location(principal, [location_id])
    require_known(uow, locations=[("location_id", location_id)])
    returned = order.take_back(lines)
    ret = Return(
        new_id("ret"),
        order.id,
        location_id,
        tuple(returned.items()),
        restock,
        reason,
        utcnow(),
    )
    if restock:
        for sku, qty in ret.lines:
            grow(uow, location_id, sku, qty, "return", ret.id, "lines")
    uow.returns.add(ret)
    order.record("order.returned", **{"return": return_dict(ret)})
    finish(uow, order)
    return ret


# -- incoming supply -------------------------------------------------------------------------


def expect(
    uow: UnitOfWork,
    principal: ApiKey,
    location_id: str,
    sku: str,
    quantity: int,
    expected_date: date,
    reference: str | None,
) -> Incoming:
    """Record supply on its way: it shows in availability as incoming until received."""
    check_location(principal, [location_id])
    require_known(uow, skus=[("sku", sku)], locations=[("location_id", location_id)])
    found = Incoming(
        new_id("inc"), location_id, sku, quantity, expected_date, reference, None, None, utcnow()
    )
    uow.incoming.add(found)
    uow.emit("incoming.expected", found.id, incoming_dict(found))
    return found


def receive(uow: UnitOfWork, principal: ApiKey, incoming_id: str, quantity: int | None) -> Incoming:
    """The supply arrived (all of it, or ``quantity`` units): on_hand grows by what arrived
    (ledger reason 'receipt'), and the SKU's backorders are woken."""
    row = uow.incoming.get(incoming_id, for_update=True)
    if row is None:
        raise NotFound(f"incoming supply '{incoming_id}' does not exist")
    check_location(principal, [row.location_id])
    if row.received_at is not None:
        raise Conflict(f"incoming supply '{incoming_id}' was received already")
    got = row.quantity if quantity is None else quantity
    now = utcnow()
    if got:
        grow(uow, row.location_id, row.sku, got, "receipt", incoming_id, "quantity")
    uow.incoming.mark_received(incoming_id, got, now)
    found = replace(row, received_quantity=got, received_at=now)
    uow.emit("incoming.received", found.id, incoming_dict(found))
    return found


def list_incoming(
    uow: UnitOfWork,
    principal: ApiKey,
    sku: str | None,
    location_id: str | None,
    open_only: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[Incoming], str | None]:
    if location_id is not None:
        check_location(principal, [location_id])
        scope: tuple[str, ...] | None = (location_id,)
    else:
        scope = visible_locations(principal)
    return uow.incoming.list_page(limit, cursor, sku, scope, open_only)
