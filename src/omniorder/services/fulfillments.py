"""The fulfillment lifecycle: what stores and warehouses do with their queue, and what the
system does when they cannot (re-route), do not answer (time-outs) or when stock comes back
(backorders).

Each action is load, call, save, publish: it locks the order (the aggregate, in
``domain/order.py``), asks it to make the move — which checks the state table and the hold,
does the unit arithmetic and records the events — applies the stock moves it answers, saves
the order and publishes its events to the outbox, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from omniorder import metrics
from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import NotFound
from omniorder.domain.events import Move
from omniorder.domain.fulfillment import Fulfillment
from omniorder.domain.order import Order
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.domain.states import FulfillmentState
from omniorder.services.access import check_location
from omniorder.services.allocation import allocate
from omniorder.services.catalog import get_profile
from omniorder.services.payloads import publish

F = FulfillmentState
#: The rejection reason the acknowledgement timer records.
NOT_ACCEPTED = "not_accepted"


@dataclass(slots=True)
class Loaded:
    order: Order
    fulfillment: Fulfillment


def load(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    """The fulfillment and its order, the order row locked; a ``location`` key only acts on
    fulfillments of its own locations (403 otherwise)."""
    order_id = uow.orders.order_of_fulfillment(fulfillment_id)
    if order_id is None:
        raise NotFound(f"fulfillment '{fulfillment_id}' does not exist")
    order = uow.orders.get(order_id, for_update=True)
    assert order is not None
    f = order.fulfillment(fulfillment_id)
    if principal is not None:
        check_location(principal, [f.location_id])
    return Loaded(order, f)


def get_fulfillment(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey) -> Loaded:
    order_id = uow.orders.order_of_fulfillment(fulfillment_id)
    order = None if order_id is None else uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"fulfillment '{fulfillment_id}' does not exist")
    f = order.fulfillment(fulfillment_id)
    check_location(principal, [f.location_id])
    return Loaded(order, f)


def release(uow: UnitOfWork, moves: Sequence[Move], reason: str) -> None:
    """End these reservations, in (location, SKU) order."""
    for m in sorted(moves, key=lambda m: (m.location_id, m.sku)):
        uow.stock.release(m.location_id, m.sku, m.quantity, reason, m.reference)


def _consume(uow: UnitOfWork, moves: Sequence[Move], reason: str) -> None:
    for m in sorted(moves, key=lambda m: (m.location_id, m.sku)):
        uow.stock.consume(m.location_id, m.sku, m.quantity, reason, m.reference)


def finish(uow: UnitOfWork, order: Order) -> None:
    """Save what changed and publish what happened."""
    uow.orders.save(order)
    publish(uow, order)


def accept(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    loaded.order.accept(fulfillment_id)
    finish(uow, loaded.order)
    return loaded


def pick(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    """The goods are picked and packed: from now on a shortage leaves them alone."""
    loaded = load(uow, fulfillment_id, principal)
    loaded.order.pick(fulfillment_id)
    finish(uow, loaded.order)
    return loaded


def ship(
    uow: UnitOfWork,
    fulfillment_id: str,
    principal: ApiKey | None,
    carrier: str,
    tracking_number: str,
) -> Loaded:
    """The parcel left: on_hand and reserved drop together at the location (ledger rows)."""
    loaded = load(uow, fulfillment_id, principal)
    _consume(uow, loaded.order.ship(fulfillment_id, carrier, tracking_number), "ship")
    finish(uow, loaded.order)
    return loaded


def ready_for_pickup(
    uow: UnitOfWork,
    fulfillment_id: str,
    principal: ApiKey | None,
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    loaded.order.ready_for_pickup(fulfillment_id, policy.pickup_expires(utcnow()))
    finish(uow, loaded.order)
    return loaded


def picked_up(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    _consume(uow, loaded.order.picked_up(fulfillment_id), "pickup")
    finish(uow, loaded.order)
    return loaded


def cancel(
    uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None, reason: str | None = None
) -> Loaded:
    """The fulfillment's units are cancelled from the order; their reservations released."""
    loaded = load(uow, fulfillment_id, principal)
    release(uow, loaded.order.cancel_fulfillment(fulfillment_id, reason), "cancel_fulfillment")
    finish(uow, loaded.order)
    return loaded


def expire(uow: UnitOfWork, fulfillment_id: str, now: datetime) -> Loaded | None:
    """A pickup nobody collected by ``now``: the units go back on the shelf, the order's
    units are cancelled. None when it is no longer due (collected meanwhile)."""
    loaded = load(uow, fulfillment_id, None)
    moves = loaded.order.expire(fulfillment_id, now)
    if moves is None:
        return None
    release(uow, moves, "pickup_expired")
    finish(uow, loaded.order)
    return loaded


def reject(
    uow: UnitOfWork,
    fulfillment_id: str,
    principal: ApiKey | None,
    reason: str,
    lines: Sequence[tuple[str, int]] | None = None,
    note: str | None = None,
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> Loaded:
    """The location cannot supply the fulfillment (``lines`` None) or some of its units.

    Their reservations are released; ``out_of_stock`` also lowers the location's on_hand by
    the rejected units (the count was wrong), never below what stays reserved there. The
    units are sourced again at once among the other locations (every location that gave
    this order back is excluded), or the order goes on hold when it has bounced more often
    than the policy allows."""
    loaded = load(uow, fulfillment_id, principal)
    order, f = loaded.order, loaded.fulfillment
    units, moves = order.reject(fulfillment_id, reason, lines, note)
    release(uow, moves, "reject")
    if reason == "out_of_stock":
        for sku, qty in sorted(units.items()):
            uow.stock.lower_on_hand(f.location_id, sku, qty, "count_correction", f.id)
    finish(uow, order)
    reroute(uow, order, cause=f"fulfillment.{reason}", policy=policy)
    return loaded


def reroute(
    uow: UnitOfWork, order: Order, *, cause: str, policy: LifecyclePolicy = DEFAULT_POLICY
) -> list[Fulfillment]:
    """Source the order's backordered units again after a rejection, a time-out or a
    shortage, excluding every location that gave it back; past the policy's limit, hold the
    order instead. A held order's units wait, backordered, for its release."""
    if order.on_hold:
        order.record("order.updated")
        finish(uow, order)
        return []
    metrics.REROUTES.labels(cause).inc()
    if not order.bounce(policy.max_reroutes, utcnow(), cause):
        finish(uow, order)
        return []
    return allocate_again(uow, order, cause, policy)


def allocate_again(
    uow: UnitOfWork, order: Order, cause: str, policy: LifecyclePolicy
) -> list[Fulfillment]:
    """Source the order's backordered units (a new round of its sourcing trace)."""
    if not any(ln.backordered for ln in order.lines):
        finish(uow, order)
        return []
    profile = get_profile(uow, order.sourcing_profile)
    round_ = uow.orders.next_trace_round(order.id)

    def persist(fulfillments: list[Fulfillment], trace: dict[str, object]) -> None:
        uow.orders.add_fulfillments(fulfillments)
        uow.orders.add_trace(order.id, round_, trace)

    created, _ = allocate(
        uow,
        order,
        profile,
        cause=cause,
        persist=persist,
        excluded=order.excluded_locations(),
        policy=policy,
    )
    order.record("order.updated")
    finish(uow, order)
    return created


def time_out(
    uow: UnitOfWork, fulfillment_id: str, policy: LifecyclePolicy, now: datetime
) -> Loaded | None:
    """A pending fulfillment its location did not accept by ``now`` is rejected on its
    behalf and re-routed. None when it is no longer due (accepted meanwhile)."""
    loaded = load(uow, fulfillment_id, None)
    f = loaded.fulfillment
    if f.state != F.PENDING or f.accept_by is None or f.accept_by > now or loaded.order.on_hold:
        return None
    return reject(uow, fulfillment_id, None, NOT_ACCEPTED, policy=policy)


def release_backorders(
    uow: UnitOfWork, skus: Sequence[str], policy: LifecyclePolicy, limit: int = 100
) -> int:
    """Source the waiting backorders of these SKUs again, oldest order first; orders on hold
    wait for their release. Returns how many orders got new fulfillments."""
    served = 0
    for order_id in uow.orders.backordered(skus, limit):
        order = uow.orders.get(order_id, for_update=True)
        if order is None or order.on_hold:
            continue
        if allocate_again(uow, order, "stock.increased", policy):
            served += 1
    return served


def due_timers(uow: UnitOfWork, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(fulfillment id, 'accept'|'pickup') of timers that are due, oldest first."""
    return uow.orders.due_timers(now, limit)
