"""State machines as tables. One function moves a state; an illegal move is a Conflict (409)."""

from __future__ import annotations

from enum import StrEnum

from omniorder.domain.errors import IllegalTransition


class FulfillmentState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    PICKED = "picked"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


F = FulfillmentState

TRANSITIONS: dict[FulfillmentState, frozenset[FulfillmentState]] = {
    F.PENDING: frozenset({F.ACCEPTED, F.REJECTED, F.CANCELLED}),
    F.ACCEPTED: frozenset({F.PICKED, F.SHIPPED, F.READY_FOR_PICKUP, F.REJECTED, F.CANCELLED}),
    F.PICKED: frozenset({F.SHIPPED, F.READY_FOR_PICKUP, F.CANCELLED}),
    F.READY_FOR_PICKUP: frozenset({F.PICKED_UP, F.EXPIRED, F.CANCELLED}),
    F.SHIPPED: frozenset(),
    F.PICKED_UP: frozenset(),
    F.EXPIRED: frozenset(),
    F.REJECTED: frozenset(),
    F.CANCELLED: frozenset(),
}

#: States whose units still hold a reservation at the location.
HOLDING_STATES = frozenset({F.PENDING, F.ACCEPTED, F.PICKED, F.READY_FOR_PICKUP})
#: States that no action leaves.
FINAL_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: States whose units have left the location.
DELIVERED_STATES = frozenset({F.SHIPPED, F.PICKED_UP})
#: States whose goods are not picked yet: a shortage takes its units from these.
UNPICKED_STATES = (F.PENDING.value, F.ACCEPTED.value)
#: The only move a fulfillment of an order on hold may make.
MOVES_WHILE_HELD = frozenset({F.CANCELLED})


def move(
    current: FulfillmentState | str, target: FulfillmentState | str, *, held: bool = False
) -> FulfillmentState:
    """Return ``target`` if the table allows ``current -> target`` (and, for an order on
    hold, the move is a cancel); raise IllegalTransition."""
    cur, nxt = FulfillmentState(current), FulfillmentState(target)
    if nxt not in TRANSITIONS[cur]:
        raise IllegalTransition(f"a fulfillment in state '{cur}' cannot move to '{nxt}'")
    if held and nxt not in MOVES_WHILE_HELD:
        raise IllegalTransition(
            f"the order is on hold: its fulfillments cannot move to '{nxt}' until it is "
            "released (only a cancel is allowed)"
        )
    return nxt


class OrderStatus(StrEnum):
    ALLOCATED = "allocated"
    PARTIALLY_ALLOCATED = "partially_allocated"
    BACKORDERED = "backordered"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def derive_order_status(
    *,
    allocated: int,
    backordered: int,
    delivered: int,
    cancelled: int,
    ordered: int,
    on_hold: bool = False,
) -> OrderStatus:
    """The order status from its unit counts; the one place that decides it.

    ``allocated`` counts units held in live (not final) fulfillments, ``delivered`` units shipped
    or picked up, ``cancelled`` units cancelled, ``backordered`` units waiting for stock.
    """
    if cancelled >= ordered:
        return OrderStatus.CANCELLED
    open_units = allocated + backordered
    if open_units == 0:
        return OrderStatus.COMPLETED
    if on_hold:  # a hold matters only while something is left to do
        return OrderStatus.ON_HOLD
    if delivered > 0:
        return OrderStatus.PARTIALLY_SHIPPED
    if backordered == 0:
        return OrderStatus.ALLOCATED
    if allocated == 0:
        return OrderStatus.BACKORDERED
    return OrderStatus.PARTIALLY_ALLOCATED
