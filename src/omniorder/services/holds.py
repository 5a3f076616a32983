"""Holds: an order held for payment, fraud or by hand keeps its reservations (the stock is
there when the hold is lifted), but its fulfillments are not offered to locations — they are
left out of location queues, every action on them but cancel is a 409, and their timers wait —
until it is released."""

from __future__ import annotations

from omniorder.db.clock import utcnow
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict
from omniorder.domain.model import Order
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.domain.states import FulfillmentState
from omniorder.services.fulfillments import TOO_MANY_REROUTES, allocate_again
from omniorder.services.orders import refresh_status
from omniorder.services.payloads import order_dict


def hold(uow: UnitOfWork, order: Order, reason: str) -> Order:
    """Hold an order: its units stay reserved; nothing happens to its fulfillments but a
    cancel, and its backorders are not sourced, until it is released."""
    if order.status in ("cancelled", "completed"):
        raise Conflict(f"order '{order.id}' is {order.status}: nothing to hold")
    if order.hold_reason is not None:
        raise Conflict(f"order '{order.id}' is already on hold ({order.hold_reason})")
    order.hold_reason = reason
    order.held_at = utcnow()
    refresh_status(order)
    uow.orders.save_lines(order)
    uow.emit("order.held", order.id, order_dict(order))
    return order


def release_hold(uow: UnitOfWork, order: Order, policy: LifecyclePolicy = DEFAULT_POLICY) -> Order:
    """Lift the hold. The fulfillments' timers resume with the time they had left when the
    order was held; backordered units are sourced at once (an order held for bouncing gets a
    fresh count of re-routes)."""
    if order.hold_reason is None:
        raise Conflict(f"order '{order.id}' is not on hold")
    now = utcnow()
    paused = now - (order.held_at or now)
    for f in order.fulfillments:
        state = FulfillmentState(f.state)
        if state is FulfillmentState.PENDING and f.accept_by is not None:
            f.accept_by += paused
        elif state is FulfillmentState.READY_FOR_PICKUP and f.expires_at is not None:
            f.expires_at += paused
        else:
            continue
        uow.orders.save_fulfillment(f)
    if order.hold_reason == TOO_MANY_REROUTES:
        order.reroutes = 0
    order.hold_reason = None
    order.held_at = None
    refresh_status(order)
    uow.orders.save_lines(order)
    uow.emit("order.released", order.id, order_dict(order))
    allocate_again(uow, order, "order.released", policy)
    return order
