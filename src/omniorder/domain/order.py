"""The order aggregate: an order, its lines and its fulfillments change together, by the rules
here, and each change records the domain events it causes.

Unit arithmetic: every line accounts for all its units, ``allocated + backordered + cancelled
+ shipped == quantity``; ``allocated`` counts the units its live fulfillments hold. The methods
answer the stock moves their change implies (``Move``: reservations to release, or units that
left the building) and the service applies them to the stock, saves the order and publishes
its events (``pull_events``): the domain never touches a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from omniorder.domain.errors import Conflict, FieldError, ValidationFailed
from omniorder.domain.events import DomainEvent, Move
from omniorder.domain.fulfillment import Fulfillment
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Address, Customer, ServiceLevel
from omniorder.domain.states import (
    HOLDING_STATES,
    FulfillmentState,
    OrderStatus,
    derive_order_status,
    move,
)

F = FulfillmentState
#: The hold put on an order that bounced too often.
TOO_MANY_REROUTES = "too_many_reroutes"


@dataclass(slots=True)
class OrderLine:
    sku: str
    quantity: int
    allocated: int = 0
    backordered: int = 0
    cancelled: int = 0
    shipped: int = 0
    #: Of the shipped units, how many came back.
    returned: int = 0
    #: When the backordered units are expected, from incoming supply (not stored: computed
    #: when the order is read; None when no expected supply covers them).
    backorder_expected_date: date | None = None
    #: As the channel sent them: the product's name on the order, the unit price (a decimal
    #: string, in the order's currency) and the channel's own fields.
    name: str | None = None
    unit_price: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def open(self) -> int:
        """Units not shipped and not cancelled."""
        return self.allocated + self.backordered


@dataclass(slots=True)
class Order:
    id: str
    channel: str
    external_id: str
    status: str
    service_level: ServiceLevel
    lines: list[OrderLine]
    created_at: datetime
    updated_at: datetime
    #: The point the order is routed to (from coordinates, or the US ZIP code).
    ship_to: GeoPoint | None = None
    address: Address | None = None
    pickup_location_id: str | None = None
    sourcing_profile: str = "default"
    fulfillments: list[Fulfillment] = field(default_factory=list)
    hold_reason: str | None = None
    #: Since when the order is on hold: its fulfillments' timers are paused that long.
    held_at: datetime | None = None
    reroutes: int = 0
    promise_by: date | None = None
    customer: Customer | None = None
    #: ISO 4217 code of the line prices.
    currency: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: What happened since the order was loaded, for the service to publish.
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)
    #: Fulfillments changed since the order was loaded, for the repository to save.
    changed: set[str] = field(default_factory=set, compare=False, repr=False)

    # -- reading ------------------------------------------------------------------------
    @property
    def on_hold(self) -> bool:
        return self.hold_reason is not None

    def line(self, sku: str) -> OrderLine:
        return next(ln for ln in self.lines if ln.sku == sku)

    def fulfillment(self, fulfillment_id: str) -> Fulfillment:
        return next(f for f in self.fulfillments if f.id == fulfillment_id)

    def live(self) -> list[Fulfillment]:
        """The fulfillments that still hold a reservation."""
        return [f for f in self.fulfillments if F(f.state) in HOLDING_STATES]

    def _units_of(self, lines: Sequence[tuple[str, int]], action: str) -> dict[str, int]:
        """Units per SKU of ``lines``, every SKU one of the order's (else a 422 naming each)."""
        known = {ln.sku for ln in self.lines}
        errors = [
            FieldError(f"lines[{i}].sku", f"SKU '{sku}' is not on this order")
            for i, (sku, _) in enumerate(lines)
            if sku not in known
        ]
        if errors:
            raise ValidationFailed(f"cannot {action} SKUs the order does not have", errors)
        units: dict[str, int] = defaultdict(int)
        for sku, qty in lines:
            units[sku] += qty
        return dict(units)

    # -- events and status --------------------------------------------------------------
    def record(self, type_: str, fulfillment_id: str | None = None, /, **extra: Any) -> None:
        self.events.append(DomainEvent(type_, fulfillment_id, extra))
        if fulfillment_id is not None:
            self.changed.add(fulfillment_id)

    def pull_events(self) -> list[DomainEvent]:
        events, self.events = self.events, []
        return events

    def refresh_status(self) -> None:
        """The status from the unit counts and the hold: the one place that sets it."""
        self.status = derive_order_status(
            allocated=sum(ln.allocated for ln in self.lines),
            backordered=sum(ln.backordered for ln in self.lines),
            delivered=sum(ln.shipped for ln in self.lines),
            cancelled=sum(ln.cancelled for ln in self.lines),
            ordered=sum(ln.quantity for ln in self.lines),
            on_hold=self.on_hold,
        ).value

    # -- allocation ---------------------------------------------------------------------
    def add_fulfillment(self, f: Fulfillment) -> None:
        """A new fulfillment takes backordered units of its SKUs."""
        for ln in f.lines:
            line = self.line(ln.sku)
            if ln.quantity > line.backordered:
                raise ValueError(f"{line.backordered} units of '{ln.sku}' wait, not {ln.quantity}")
            line.backordered -= ln.quantity
            line.allocated += ln.quantity
        self.fulfillments.append(f)
        self.events.append(DomainEvent("fulfillment.created", f.id))
        self.refresh_status()

    # -- the lifecycle of a fulfillment -------------------------------------------------
    def _move(self, f: Fulfillment, target: FulfillmentState) -> None:
        """Through the state table; nothing but a cancel while the order is held."""
        f.state = move(f.state, target, held=self.on_hold).value

    def accept(self, fulfillment_id: str) -> Fulfillment:
        f = self.fulfillment(fulfillment_id)
        self._move(f, F.ACCEPTED)
        f.accept_by = None
        self.record("fulfillment.accepted", f.id)
        return f

    def pick(self, fulfillment_id: str) -> Fulfillment:
        """The goods are picked and packed: from now on a shortage leaves them alone."""
        f = self.fulfillment(fulfillment_id)
        self._move(f, F.PICKED)
        self.record("fulfillment.picked", f.id)
        return f

    def ship(self, fulfillment_id: str, carrier: str, tracking_number: str) -> list[Move]:
        """The parcel left: its units are shipped (the moves to consume)."""
        f = self.fulfillment(fulfillment_id)
        if self.service_level is ServiceLevel.PICKUP:
            raise Conflict("a pickup fulfillment is collected at the store, not shipped")
        self._move(f, F.SHIPPED)
        f.carrier, f.tracking_number = carrier, tracking_number
        moves = self._deliver(f)
        self.record("fulfillment.shipped", f.id)
        self.record("order.updated")
        return moves

    def ready_for_pickup(self, fulfillment_id: str, expires_at: datetime) -> Fulfillment:
        f = self.fulfillment(fulfillment_id)
        if self.service_level is not ServiceLevel.PICKUP:
            raise Conflict("only pickup fulfillments wait for the customer at the store")
        self._move(f, F.READY_FOR_PICKUP)
        f.expires_at = expires_at
        self.record("fulfillment.ready_for_pickup", f.id)
        return f

    def picked_up(self, fulfillment_id: str) -> list[Move]:
        f = self.fulfillment(fulfillment_id)
        self._move(f, F.PICKED_UP)
        f.expires_at = None
        moves = self._deliver(f)
        self.record("fulfillment.picked_up", f.id)
        self.record("order.updated")
        return moves

    def cancel_fulfillment(self, fulfillment_id: str, reason: str | None) -> list[Move]:
        """The fulfillment's units leave the order (cancelled; the moves to release)."""
        f = self.fulfillment(fulfillment_id)
        self._move(f, F.CANCELLED)
        moves = self._drop(f, "cancel_fulfillment")
        self.record("fulfillment.cancelled", f.id, reason=reason)
        self.record("order.updated")
        return moves

    def expire(self, fulfillment_id: str, now: datetime) -> list[Move] | None:
        """A pickup nobody collected by ``now``; None when it is not due (collected meanwhile,
        or the order is held)."""
        f = self.fulfillment(fulfillment_id)
        due = f.state == F.READY_FOR_PICKUP and f.expires_at is not None and f.expires_at <= now
        if not due or self.on_hold:
            return None
        self._move(f, F.EXPIRED)
        f.expires_at = None
        moves = self._drop(f, "pickup_expired")
        self.record("fulfillment.expired", f.id)
        self.record("order.updated")
        return moves

    def _deliver(self, f: Fulfillment) -> list[Move]:
        for ln in f.lines:
            line = self.line(ln.sku)
            line.allocated -= ln.quantity
            line.shipped += ln.quantity
        self.refresh_status()
        return [Move(f.location_id, ln.sku, ln.quantity, f.id) for ln in f.lines]

    def _drop(self, f: Fulfillment, reason: str) -> list[Move]:
        for ln in f.lines:
            line = self.line(ln.sku)
            line.allocated -= ln.quantity
            line.cancelled += ln.quantity
        self.refresh_status()
        return [Move(f.location_id, ln.sku, ln.quantity, f.id) for ln in f.lines]

    # -- giving units back: rejects, time-outs, shortages --------------------------------
    def reject(
        self,
        fulfillment_id: str,
        reason: str,
        lines: Sequence[tuple[str, int]] | None = None,
        note: str | None = None,
    ) -> tuple[dict[str, int], list[Move]]:
        """The location cannot supply the fulfillment (``lines`` None) or some of its units:
        they go back to the order as backordered. Returns the units per SKU and the moves to
        release."""
        f = self.fulfillment(fulfillment_id)
        held = f.units()
        if lines is None:
            units = dict(held)
        else:
            units = defaultdict(int)
            for sku, qty in lines:
                units[sku] += qty
            errors = [
                FieldError(f"lines[{i}]", f"the fulfillment holds {held.get(sku, 0)} of '{sku}'")
                for i, (sku, _) in enumerate(lines)
                if units[sku] > held.get(sku, 0)
            ]
            if errors:
                raise ValidationFailed(
                    "cannot reject more units than the fulfillment holds", errors
                )
        # the same rule for a whole or a partial rejection: 409 from a state that cannot reject
        move(f.state, F.REJECTED, held=self.on_hold)
        moves = self.give_back(f, dict(units), reason, note)
        return dict(units), moves

    def give_back(
        self, f: Fulfillment, units: dict[str, int], reason: str, note: str | None = None
    ) -> list[Move]:
        """``f`` gives ``units`` back: the order's lines get them back as backordered, the
        fulfillment records them as rejected and is rejected when nothing is left. Returns
        the moves to release."""
        for sku, qty in units.items():
            line = self.line(sku)
            line.allocated -= qty
            line.backordered += qty
        f.give_back(units, reason)
        f.rejection_reason = reason
        if not f.lines:
            f.state = F.REJECTED.value
            f.accept_by = None
        self.refresh_status()
        self.record(
            "fulfillment.rejected" if not f.lines else "fulfillment.partially_rejected",
            f.id,
            reason=reason,
            note=note,
            rejected=[{"sku": s, "quantity": q} for s, q in sorted(units.items()) if q],
        )
        return [Move(f.location_id, s, q, f.id) for s, q in sorted(units.items()) if q > 0]

    def excluded_locations(self) -> frozenset[str]:
        """Locations that gave this order back (rejected, did not accept, were short): not
        asked again for it."""
        return frozenset(f.location_id for f in self.fulfillments if f.rejection_reason)

    def bounce(self, max_reroutes: int, now: datetime, cause: str) -> bool:
        """Count a re-route after ``cause``; past ``max_reroutes`` the order goes on hold
        instead (False)."""
        self.reroutes += 1
        if self.reroutes <= max_reroutes:
            return True
        self.hold_reason, self.held_at = TOO_MANY_REROUTES, now
        self.refresh_status()
        self.record("order.held", cause=cause)
        return False

    # -- cancelling units ---------------------------------------------------------------
    def cancel(
        self, lines: Sequence[tuple[str, int]] | None, reason: str | None = None
    ) -> tuple[dict[str, int], list[Move]]:
        """Cancel the whole order (``lines`` None) or some units: backordered units go first,
        then reserved ones, newest fulfillment first; shipped units cannot be cancelled.
        Returns the units cancelled per SKU and the moves to release."""
        by_sku = {ln.sku: ln for ln in self.lines}
        if lines is None:
            wanted = {ln.sku: ln.open for ln in self.lines if ln.open > 0}
            if not wanted:
                raise Conflict(
                    f"order '{self.id}' has nothing left to cancel (status {self.status})"
                )
        else:
            wanted = self._units_of(lines, "cancel")
            short = [
                f"{s}: {q} asked, {by_sku[s].open} open"
                for s, q in wanted.items()
                if q > by_sku[s].open
            ]
            if short:
                raise Conflict("cannot cancel more units than are open: " + "; ".join(short))
        live = self.live()
        taken: dict[str, dict[str, int]] = {}  # by fulfillment, in the order they gave units
        for sku, qty in wanted.items():
            line = by_sku[sku]
            back = min(qty, line.backordered)
            line.backordered -= back
            line.cancelled += back
            rest = qty - back
            for f in reversed(live):
                given = taken.get(f.id, {})
                take = min(rest, f.units().get(sku, 0) - given.get(sku, 0))
                if take <= 0:
                    continue
                taken[f.id] = {**given, sku: given.get(sku, 0) + take}
                line.allocated -= take
                line.cancelled += take
                rest -= take
        moves = []
        for fid, units in taken.items():
            f = self.fulfillment(fid)
            moves += [Move(f.location_id, s, q, self.id) for s, q in units.items()]
            if all(units.get(sku, 0) >= q for sku, q in f.units().items()):
                f.state = move(f.state, F.CANCELLED).value
                self.record("fulfillment.cancelled", f.id)
            else:
                f.take(units)
                self.record("fulfillment.updated", f.id)
        self.refresh_status()
        cancelled = dict(sorted(wanted.items()))
        kind = (
            "order.cancelled" if self.status == OrderStatus.CANCELLED else "order.lines_cancelled"
        )
        lines_out = [{"sku": s, "quantity": q} for s, q in cancelled.items()]
        self.record(kind, cancellation={"lines": lines_out, "reason": reason})
        return cancelled, moves

    # -- holds --------------------------------------------------------------------------
    def hold(self, reason: str, now: datetime) -> None:
        """Its units stay reserved; nothing happens to its fulfillments but a cancel, and its
        backorders are not sourced, until it is released."""
        if self.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
            raise Conflict(f"order '{self.id}' is {self.status}: nothing to hold")
        if self.hold_reason is not None:
            raise Conflict(f"order '{self.id}' is already on hold ({self.hold_reason})")
        self.hold_reason, self.held_at = reason, now
        self.refresh_status()
        self.record("order.held")

    def release(self, now: datetime) -> None:
        """Lift the hold: the fulfillments' timers resume with the time they had left, and an
        order held for bouncing gets a fresh count of re-routes."""
        if self.hold_reason is None:
            raise Conflict(f"order '{self.id}' is not on hold")
        paused = now - (self.held_at or now)
        for f in self.fulfillments:
            state = F(f.state)
            if state is F.PENDING and f.accept_by is not None:
                f.accept_by += paused
            elif state is F.READY_FOR_PICKUP and f.expires_at is not None:
                f.expires_at += paused
            else:
                continue
            self.changed.add(f.id)
        if self.hold_reason == TOO_MANY_REROUTES:
            self.reroutes = 0
        self.hold_reason, self.held_at = None, None
        self.refresh_status()
        self.record("order.released")

    # -- returns ------------------------------------------------------------------------
    def take_back(self, lines: Sequence[tuple[str, int]]) -> dict[str, int]:
        """Shipped units came back; returns the units per SKU."""
        by_sku = {ln.sku: ln for ln in self.lines}
        wanted = self._units_of(lines, "return")
        short = [
            f"{sku}: {qty} returned, {by_sku[sku].shipped - by_sku[sku].returned} shipped and "
            "not returned yet"
            for sku, qty in sorted(wanted.items())
            if qty > by_sku[sku].shipped - by_sku[sku].returned
        ]
        if short:
            raise Conflict("cannot return more units than were shipped: " + "; ".join(short))
        for sku, qty in wanted.items():
            by_sku[sku].returned += qty
        return dict(sorted(wanted.items()))
