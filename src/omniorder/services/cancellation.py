"""Cancelling an order, whole or some units: backordered units go first, then reserved ones
(newest fulfillment first); shipped units cannot be cancelled."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omniorder.domain.model import Fulfillment, FulfillmentLine, Order
from omniorder.domain.states import HOLDING_STATES, FulfillmentState, move
from omniorder.services.access import check_channel
from omniorder.services.orders import refresh_status
from omniorder.services.payloads import fulfillment_dict, order_dict


def cancel_order(
    uow: UnitOfWork,
    order_id: str,
    principal: ApiKey,
    lines: Sequence[tuple[str, int]] | None = None,
    reason: str | None = None,
) -> Order:
    """Cancel the whole order or some units. Backordered units go first, then reserved ones
    (newest fulfillment first); shipped units cannot be cancelled."""
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    by_sku = {ln.sku: ln for ln in order.lines}
    if lines is None:
        wanted = {ln.sku: ln.allocated + ln.backordered for ln in order.lines}
        wanted = {s: q for s, q in wanted.items() if q > 0}
        if not wanted:
            raise Conflict(f"order '{order.id}' has nothing left to cancel (status {order.status})")
    else:
        errors = [
            FieldError(f"lines[{i}].sku", f"SKU '{s}' is not on this order")
            for i, (s, _) in enumerate(lines)
            if s not in by_sku
        ]
        if errors:
            raise ValidationFailed("cannot cancel SKUs the order does not have", errors)
        wanted = defaultdict(int)
        for s, q in lines:
            wanted[s] += q
        short = [
            f"{s}: {q} asked, {by_sku[s].allocated + by_sku[s].backordered} open"
            for s, q in wanted.items()
            if q > by_sku[s].allocated + by_sku[s].backordered
        ]
        if short:
            raise Conflict("cannot cancel more units than are open: " + "; ".join(short))
    live = [f for f in order.fulfillments if FulfillmentState(f.state) in HOLDING_STATES]
    releases: dict[tuple[str, str], int] = defaultdict(int)
    touched: dict[str, Fulfillment] = {}
    take_from: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, qty in wanted.items():
        line = by_sku[sku]
        back = min(qty, line.backordered)
        line.backordered -= back
        line.cancelled += back
        rest = qty - back
        for f in reversed(live):
            if rest == 0:
                break
            fl = next((x for x in f.lines if x.sku == sku), None)
            if fl is None or fl.quantity == 0:
                continue
            take = min(rest, fl.quantity - take_from[f.id].get(sku, 0))
            if take <= 0:
                continue
            take_from[f.id][sku] = take_from[f.id].get(sku, 0) + take
            releases[(f.location_id, sku)] += take
            touched[f.id] = f
            line.allocated -= take
            line.cancelled += take
            rest -= take
    for fid, f in touched.items():
        taken = take_from[fid]
        if all(taken.get(x.sku, 0) >= x.quantity for x in f.lines):
            f.state = move(f.state, FulfillmentState.CANCELLED).value
        else:
            f.lines = [
                FulfillmentLine(x.sku, x.quantity - taken.get(x.sku, 0))
                for x in f.lines
                if x.quantity - taken.get(x.sku, 0) > 0
            ]
        uow.orders.save_fulfillment(f)
        uow.emit(
            "fulfillment.cancelled"
            if f.state == FulfillmentState.CANCELLED
            else "fulfillment.updated",
            order.id,
            fulfillment_dict(order, f),
        )
    for (loc, sku), qty in sorted(releases.items()):
        uow.stock.release(loc, sku, qty, "cancel", order.id)
    refresh_status(order)
    uow.orders.save_lines(order)
    data = order_dict(order)
    data["cancellation"] = {
        "lines": [{"sku": s, "quantity": q} for s, q in sorted(wanted.items())],
        "reason": reason,
    }
    uow.emit(
        "order.cancelled" if order.status == "cancelled" else "order.lines_cancelled",
        order.id,
        data,
    )
    return order
