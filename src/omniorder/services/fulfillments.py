"""The fulfillment lifecycle: what stores and warehouses do with their queue, and what the
system does when they cannot (re-route), do not answer (time-outs) or when stock comes back
(backorders).

Every action locks the order first (the aggregate: its lines, fulfillments and hold move
together), moves the fulfillment through the table in ``domain/states.py`` (an illegal move is
a 409 that changes nothing), keeps stock and ledger in step, recomputes the order status in
one place (``orders.refresh_status``) and writes events to the outbox in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omniorder import metrics
from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omniorder.domain.model import Fulfillment, Order, ServiceLevel
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.domain.states import FulfillmentState, move
from omniorder.services.access import check_location
from omniorder.services.allocation import allocate
from omniorder.services.catalog import get_profile
from omniorder.services.orders import refresh_status
from omniorder.services.payloads import fulfillment_dict, order_dict, position_event

F = FulfillmentState
REJECT_REASONS = ("out_of_stock", "damaged", "capacity", "other")
#: The rejection reason the acknowledgement timer records.
NOT_ACCEPTED = "not_accepted"
#: The hold put on an order that bounced too often.
TOO_MANY_REROUTES = "too_many_reroutes"


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
    f = next(x for x in order.fulfillments if x.id == fulfillment_id)
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


def _save(uow: UnitOfWork, loaded: Loaded, event: str, extra: dict[str, Any] | None = None) -> None:
    order, f = loaded.order, loaded.fulfillment
    uow.orders.save_fulfillment(f)
    refresh_status(order)
    uow.orders.save_lines(order)
    uow.emit(event, order.id, {**fulfillment_dict(order, f), **(extra or {})})


def _move(loaded: Loaded, target: FulfillmentState) -> None:
    """Move the fulfillment through the table; nothing but a cancel while the order is held."""
    f = loaded.fulfillment
    f.state = move(f.state, target, held=loaded.order.on_hold).value


def accept(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    _move(loaded, F.ACCEPTED)
    loaded.fulfillment.accept_by = None
    _save(uow, loaded, "fulfillment.accepted")
    return loaded


def pick(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    """The goods are picked and packed: from now on a shortage leaves them alone."""
    loaded = load(uow, fulfillment_id, principal)
    _move(loaded, F.PICKED)
    _save(uow, loaded, "fulfillment.picked")
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
    order, f = loaded.order, loaded.fulfillment
    if order.service_level is ServiceLevel.PICKUP:
        raise Conflict("a pickup fulfillment is collected at the store, not shipped")
    _move(loaded, F.SHIPPED)
    f.carrier, f.tracking_number = carrier, tracking_number
    _deliver(uow, loaded, "ship")
    _save(uow, loaded, "fulfillment.shipped")
    _order_event(uow, order)
    return loaded


def ready_for_pickup(
    uow: UnitOfWork,
    fulfillment_id: str,
    principal: ApiKey | None,
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    order, f = loaded.order, loaded.fulfillment
    if order.service_level is not ServiceLevel.PICKUP:
        raise Conflict("only pickup fulfillments wait for the customer at the store")
    _move(loaded, F.READY_FOR_PICKUP)
    f.expires_at = policy.pickup_expires(utcnow())
    _save(uow, loaded, "fulfillment.ready_for_pickup")
    return loaded


def picked_up(uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None) -> Loaded:
    loaded = load(uow, fulfillment_id, principal)
    f = loaded.fulfillment
    _move(loaded, F.PICKED_UP)
    f.expires_at = None
    _deliver(uow, loaded, "pickup")
    _save(uow, loaded, "fulfillment.picked_up")
    _order_event(uow, loaded.order)
    return loaded


def cancel(
    uow: UnitOfWork, fulfillment_id: str, principal: ApiKey | None, reason: str | None = None
) -> Loaded:
    """The fulfillment's units are cancelled from the order; their reservations released."""
    loaded = load(uow, fulfillment_id, principal)
    _move(loaded, F.CANCELLED)
    _drop_units(uow, loaded, "cancel_fulfillment")
    _save(uow, loaded, "fulfillment.cancelled", {"reason": reason})
    _order_event(uow, loaded.order)
    return loaded


def expire(uow: UnitOfWork, fulfillment_id: str, now: datetime) -> Loaded | None:
    """A pickup nobody collected by ``now``: the units go back on the shelf, the order's
    units are cancelled. None when it is no longer due (collected meanwhile)."""
    loaded = load(uow, fulfillment_id, None)
    f = loaded.fulfillment
    due = f.state == F.READY_FOR_PICKUP and f.expires_at is not None and f.expires_at <= now
    if not due or loaded.order.on_hold:
        return None
    f.state = move(f.state, F.EXPIRED).value
    f.expires_at = None
    _drop_units(uow, loaded, "pickup_expired")
    _save(uow, loaded, "fulfillment.expired")
    _order_event(uow, loaded.order)
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
    units are sourced again at once among the other locations (every location that rejected
    this order is excluded), or the order goes on hold when it has bounced more often than
    the policy allows."""
    loaded = load(uow, fulfillment_id, principal)
    order, f = loaded.order, loaded.fulfillment
    held = {ln.sku: ln.quantity for ln in f.lines}
    if lines is None:
        rejected = dict(held)
    else:
        rejected = defaultdict(int)
        for sku, qty in lines:
            rejected[sku] += qty
        errors = [
            FieldError(f"lines[{i}]", f"the fulfillment holds {held.get(sku, 0)} of '{sku}'")
            for i, (sku, _) in enumerate(lines)
            if rejected[sku] > held.get(sku, 0)
        ]
        if errors:
            raise ValidationFailed("cannot reject more units than the fulfillment holds", errors)
    # the same rule for a whole or a partial rejection: 409 from a state that cannot reject
    move(f.state, F.REJECTED, held=order.on_hold)
    whole = give_back(uow, order, f, rejected, reason)
    if reason == "out_of_stock":
        for sku, qty in sorted(rejected.items()):
            lowered = uow.stock.lower_on_hand(f.location_id, sku, qty, "count_correction", f.id)
            if lowered is not None:
                pos, delta = lowered
                uow.emit(
                    "inventory.updated",
                    f"{pos.location_id}/{pos.sku}",
                    position_event(pos, delta, "count_correction"),
                )
    _save(
        uow,
        loaded,
        "fulfillment.rejected" if whole else "fulfillment.partially_rejected",
        {
            "reason": reason,
            "note": note,
            "rejected": [{"sku": s, "quantity": q} for s, q in sorted(rejected.items())],
        },
    )
    reroute(uow, order, cause=f"fulfillment.{reason}", policy=policy)
    return loaded


def give_back(
    uow: UnitOfWork, order: Order, f: Fulfillment, units: dict[str, int], reason: str
) -> bool:
    """The location gives ``units`` of the fulfillment back: their reservations are released,
    the order's lines get them back as backordered, the fulfillment records them as rejected
    (and is rejected when nothing is left). Returns whether it was rejected whole."""
    _release(uow, order, f, units, reason)
    f.give_back(units, reason)
    f.rejection_reason = reason
    if not f.lines:
        f.state = F.REJECTED.value
        f.accept_by = None
    return not f.lines


def reroute(
    uow: UnitOfWork, order: Order, *, cause: str, policy: LifecyclePolicy = DEFAULT_POLICY
) -> list[Fulfillment]:
    """Source the order's backordered units again after a rejection or a time-out, excluding
    every location that rejected it; past the policy's limit, hold the order instead."""
    if order.on_hold:  # a held order's units wait, backordered, for its release
        refresh_status(order)
        uow.orders.save_lines(order)
        _order_event(uow, order)
        return []
    order.reroutes += 1
    metrics.REROUTES.labels(cause).inc()
    if order.reroutes > policy.max_reroutes:
        order.hold_reason = TOO_MANY_REROUTES
        order.held_at = utcnow()
        refresh_status(order)
        uow.orders.save_lines(order)
        uow.emit("order.held", order.id, {**order_dict(order), "cause": cause})
        return []
    return allocate_again(uow, order, cause, policy)


def allocate_again(
    uow: UnitOfWork, order: Order, cause: str, policy: LifecyclePolicy
) -> list[Fulfillment]:
    """Source the order's backordered units. Locations that rejected the order (or let it
    time out) are not asked again for it."""
    excluded = frozenset(f.location_id for f in order.fulfillments if f.rejection_reason)
    if not any(ln.backordered for ln in order.lines):
        refresh_status(order)
        uow.orders.save_lines(order)
        return []
    profile = get_profile(uow, order.sourcing_profile)
    round_ = uow.orders.next_trace_round(order.id)

    def persist(fulfillments: list[Fulfillment], trace: dict[str, Any]) -> None:
        uow.orders.add_fulfillments(fulfillments)
        uow.orders.add_trace(order.id, round_, trace)

    created, _ = allocate(
        uow, order, profile, cause=cause, persist=persist, excluded=excluded, policy=policy
    )
    order.fulfillments.extend(created)
    refresh_status(order)
    uow.orders.save_lines(order)
    for f in created:
        uow.emit("fulfillment.created", order.id, fulfillment_dict(order, f))
    _order_event(uow, order)
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


# -- backorders ------------------------------------------------------------------------------


def release_backorders(
    uow: UnitOfWork, skus: Sequence[str], policy: LifecyclePolicy, limit: int = 100
) -> int:
    """Source the waiting backorders of these SKUs again, oldest order first; orders on hold
    wait for their release. Returns how many orders got new fulfillments."""
    served = 0
    for order_id in uow.orders.backordered(skus, limit):
        order = uow.orders.get(order_id, for_update=True)
        if order is None or order.hold_reason is not None:
            continue
        if allocate_again(uow, order, "stock.increased", policy):
            served += 1
    return served


# -- shared moves ----------------------------------------------------------------------------


def _release(
    uow: UnitOfWork, order: Order, f: Fulfillment, units: dict[str, int], reason: str
) -> None:
    """Release ``units`` of the fulfillment's reservation; the order's lines get them back as
    backordered."""
    for sku, qty in sorted(units.items()):
        if qty <= 0:
            continue
        uow.stock.release(f.location_id, sku, qty, reason, f.id)
        line = order.line(sku)
        line.allocated -= qty
        line.backordered += qty


def _drop_units(uow: UnitOfWork, loaded: Loaded, reason: str) -> None:
    """The fulfillment's units leave the order (cancelled); their reservations are released."""
    order, f = loaded.order, loaded.fulfillment
    for ln in f.lines:
        uow.stock.release(f.location_id, ln.sku, ln.quantity, reason, f.id)
        line = order.line(ln.sku)
        line.allocated -= ln.quantity
        line.cancelled += ln.quantity


def _deliver(uow: UnitOfWork, loaded: Loaded, reason: str) -> None:
    order, f = loaded.order, loaded.fulfillment
    for ln in f.lines:
        uow.stock.consume(f.location_id, ln.sku, ln.quantity, reason, f.id)
        line = order.line(ln.sku)
        line.allocated -= ln.quantity
        line.shipped += ln.quantity


def _order_event(uow: UnitOfWork, order: Order) -> None:
    uow.emit("order.updated", order.id, order_dict(order))


def due_timers(uow: UnitOfWork, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(fulfillment id, 'accept'|'pickup') of timers that are due, oldest first."""
    return uow.orders.due_timers(now, limit)
