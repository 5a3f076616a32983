"""Stock that comes back or comes in: customer returns and expected supply (purchase orders,
transfers). Both grow on_hand through the ledger, and the growth wakes the SKU's backorders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc, utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omniorder.domain.ids import new_id
from omniorder.services.access import check_channel, check_location, visible_locations
from omniorder.services.inventory import require_known
from omniorder.services.orders import order_dict


@dataclass(frozen=True, slots=True)
class Return:
    id: str
    order_id: str
    location_id: str
    lines: tuple[tuple[str, int], ...]
    restock: bool
    reason: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "location_id": self.location_id,
            "lines": [{"sku": s, "quantity": q} for s, q in self.lines],
            "restock": self.restock,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
        }


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
    wanted: dict[str, int] = defaultdict(int)
    for sku, qty in lines:
        wanted[sku] += qty
    by_sku = {ln.sku: ln for ln in order.lines}
    errors = [
        FieldError(f"lines[{i}].sku", f"SKU '{sku}' is not on this order")
        for i, (sku, _) in enumerate(lines)
        if sku not in by_sku
    ]
    if errors:
        raise ValidationFailed("cannot return SKUs the order does not have", errors)
    short = [
        f"{sku}: {qty} returned, {by_sku[sku].shipped - by_sku[sku].returned} shipped and not "
        "returned yet"
        for sku, qty in sorted(wanted.items())
        if qty > by_sku[sku].shipped - by_sku[sku].returned
    ]
    if short:
        raise Conflict("cannot return more units than were shipped: " + "; ".join(short))
    ret = Return(
        new_id("ret"),
        order.id,
        location_id,
        tuple(sorted(wanted.items())),
        restock,
        reason,
        utcnow(),
    )
    for sku, qty in ret.lines:
        by_sku[sku].returned += qty
        if restock:
            uow.stock.adjust(location_id, sku, qty, "return", ret.id)
    uow.orders.save_lines(order)
    uow.conn.execute(
        t.returns.insert().values(
            id=ret.id,
            order_id=ret.order_id,
            location_id=ret.location_id,
            lines=[{"sku": s, "quantity": q} for s, q in ret.lines],
            restock=ret.restock,
            reason=ret.reason,
            created_at=ret.created_at,
        )
    )
    uow.emit("order.returned", order.id, {**order_dict(order), "return": ret.as_dict()})
    return ret


# -- incoming supply -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    id: str
    location_id: str
    sku: str
    quantity: int
    expected_date: date
    reference: str | None
    received_quantity: int | None
    received_at: datetime | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location_id": self.location_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "expected_date": self.expected_date.isoformat(),
            "reference": self.reference,
            "received_quantity": self.received_quantity,
            "received_at": None if self.received_at is None else self.received_at.isoformat(),
            "created_at": self.created_at.isoformat(),
        }


def _incoming(row: Any) -> Incoming:
    return Incoming(
        row.id,
        row.location_id,
        row.sku,
        row.quantity,
        row.expected_date,
        row.reference,
        row.received_quantity,
        None if row.received_at is None else as_utc(row.received_at),
        as_utc(row.created_at),
    )


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
    uow.conn.execute(
        t.incoming.insert().values(
            id=found.id,
            location_id=location_id,
            sku=sku,
            quantity=quantity,
            expected_date=expected_date,
            reference=reference,
            created_at=found.created_at,
        )
    )
    uow.emit("incoming.expected", found.id, found.as_dict())
    return found


def receive(uow: UnitOfWork, principal: ApiKey, incoming_id: str, quantity: int | None) -> Incoming:
    """The supply arrived (all of it, or ``quantity`` units): on_hand grows by what arrived
    (ledger reason 'receipt'), and the SKU's backorders are woken."""
    row = uow.conn.execute(
        select(t.incoming).where(t.incoming.c.id == incoming_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"incoming supply '{incoming_id}' does not exist")
    check_location(principal, [row.location_id])
    if row.received_at is not None:
        raise Conflict(f"incoming supply '{incoming_id}' was received already")
    got = row.quantity if quantity is None else quantity
    now = utcnow()
    if got:
        uow.stock.adjust(row.location_id, row.sku, got, "receipt", incoming_id)
    uow.conn.execute(
        t.incoming.update()
        .where(t.incoming.c.id == incoming_id)
        .values(received_quantity=got, received_at=now)
    )
    found = _incoming(
        uow.conn.execute(select(t.incoming).where(t.incoming.c.id == incoming_id)).one()
    )
    uow.emit("incoming.received", found.id, found.as_dict())
    return found


def list_incoming(
    uow: UnitOfWork,
    principal: ApiKey,
    sku: str | None,
    location_id: str | None,
    open_only: bool,
    limit: int,
) -> list[Incoming]:
    q = select(t.incoming).order_by(t.incoming.c.expected_date, t.incoming.c.id).limit(limit)
    if sku is not None:
        q = q.where(t.incoming.c.sku == sku)
    if location_id is not None:
        check_location(principal, [location_id])
        q = q.where(t.incoming.c.location_id == location_id)
    else:
        own = visible_locations(principal)
        if own is not None:
            q = q.where(t.incoming.c.location_id.in_(list(own)))
    if open_only:
        q = q.where(t.incoming.c.received_at.is_(None))
    return [_incoming(r) for r in uow.conn.execute(q)]
