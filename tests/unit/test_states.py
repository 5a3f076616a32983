"""The fulfillment state machine and the order status rule."""

from __future__ import annotations

import itertools

import pytest

from omniorder.domain.errors import IllegalTransition
from omniorder.domain.states import (
    FINAL_STATES,
    TRANSITIONS,
    FulfillmentState,
    OrderStatus,
    derive_order_status,
    move,
)

#: The contract's moves (docs/api.md, "Fulfillments"), written out here rather than read from
#: the table under test.
CONTRACT = {
    ("pending", "accepted"),
    ("pending", "rejected"),
    ("pending", "cancelled"),
    ("accepted", "picked"),
    ("accepted", "shipped"),
    ("accepted", "ready_for_pickup"),
    ("accepted", "rejected"),
    ("accepted", "cancelled"),
    ("picked", "shipped"),
    ("picked", "ready_for_pickup"),
    ("picked", "cancelled"),
    ("ready_for_pickup", "picked_up"),
    ("ready_for_pickup", "expired"),
    ("ready_for_pickup", "cancelled"),
}


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(FulfillmentState, FulfillmentState))
)
def test_every_move_is_allowed_exactly_when_the_contract_says_so(
    current: FulfillmentState, target: FulfillmentState
) -> None:
    if (current.value, target.value) in CONTRACT:
        assert move(current, target) is target
        assert target in TRANSITIONS[current]
    else:
        with pytest.raises(IllegalTransition):
            move(current, target)


@pytest.mark.parametrize("target", list(FulfillmentState))
def test_a_held_order_allows_only_a_cancel(target: FulfillmentState) -> None:
    if target is FulfillmentState.CANCELLED:
        assert move("accepted", target, held=True) is target
    else:
        with pytest.raises(IllegalTransition):
            move("accepted", target, held=True)


def test_final_states_have_no_way_out() -> None:
    assert {
        FulfillmentState.SHIPPED,
        FulfillmentState.PICKED_UP,
        FulfillmentState.EXPIRED,
        FulfillmentState.REJECTED,
        FulfillmentState.CANCELLED,
    } == FINAL_STATES


def test_every_live_state_can_be_cancelled() -> None:
    for state, targets in TRANSITIONS.items():
        if state not in FINAL_STATES:
            assert FulfillmentState.CANCELLED in targets


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"allocated": 3, "backordered": 0}, OrderStatus.ALLOCATED),
        ({"allocated": 1, "backordered": 2}, OrderStatus.PARTIALLY_ALLOCATED),
        ({"allocated": 0, "backordered": 3}, OrderStatus.BACKORDERED),
        ({"allocated": 0, "backordered": 0, "cancelled": 3}, OrderStatus.CANCELLED),
        ({"allocated": 0, "backordered": 0, "delivered": 2, "cancelled": 1}, OrderStatus.COMPLETED),
        ({"allocated": 1, "backordered": 0, "delivered": 2}, OrderStatus.PARTIALLY_SHIPPED),
        ({"allocated": 3, "backordered": 0, "on_hold": True}, OrderStatus.ON_HOLD),
    ],
)
def test_order_status_is_derived_from_unit_counts(
    counts: dict[str, int], expected: OrderStatus
) -> None:
    params = {"allocated": 0, "backordered": 0, "delivered": 0, "cancelled": 0, **counts}
    assert derive_order_status(ordered=3, **params) is expected  # type: ignore[arg-type]
