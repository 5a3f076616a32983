"""Holds: an order held for payment, fraud or by hand keeps its reservations (the stock is
there when the hold is lifted), but its fulfillments are not offered to locations — they are
left out of location queues, every action on them but cancel is a 409, and their timers wait —
until it is released (the rules: ``Order.hold`` and ``Order.release``)."""

from __future__ import annotations

from omniorder.db.clock import utcnow
from omniorder.db.uow import UnitOfWork
from omniorder.domain.order import Order
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.services.fulfillments import allocate_again, finish


def hold(uow: UnitOfWork, order: Order, reason: str) -> Order:
    order.hold(reason, utcnow())
    finish(uow, order)
    return order


def release_hold(uow: UnitOfWork, order: Order, policy: LifecyclePolicy = DEFAULT_POLICY) -> Order:
    """Lift the hold; timers resume and backordered units are sourced at once."""
    order.release(utcnow())
    finish(uow, order)
    allocate_again(uow, order, "order.released", policy)
    return order
