"""Cancelling an order, whole or some units (the rule: ``Order.cancel``): backordered units go
first, then reserved ones, newest fulfillment first; shipped units cannot be cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import NotFound
from omniorder.domain.order import Order
from omniorder.services.access import check_channel
from omniorder.services.fulfillments import finish, release


def cancel_order(
    uow: UnitOfWork,
    order_id: str,
    principal: ApiKey,
    lines: Sequence[tuple[str, int]] | None = None,
    reason: str | None = None,
) -> Order:
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    _, moves = order.cancel(lines, reason)
    release(uow, moves, "cancel")
    finish(uow, order)
    return order
