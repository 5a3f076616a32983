"""Order capture (exactly once), allocation of backordered units, cancellation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select

from omniorder import metrics
from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain import sourcing
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.ids import new_id
from omniorder.domain.model import (
    Fulfillment,
    FulfillmentLine,
    Location,
    Order,
    OrderLine,
    ServiceLevel,
)
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.domain.states import HOLDING_STATES, FulfillmentState, derive_order_status, move
from omniorder.services.access import check_channel
from omniorder.services.catalog import resolve_profile
from omniorder.services.inventory import require_known

#: Optimistic rounds (plan on fresh stock, reserve conditionally) before the locked round.
OPTIMISTIC_ATTEMPTS = 3

#: (location id, SKU, units) to reserve.
Reservation = tuple[str, str, int]
Planned = TypeVar("Planned")


def reserve_in_rounds(
    uow: UnitOfWork,
    skus: Iterable[str],
    reference: str,
    plan_round: Callable[[int], tuple[Planned, list[Reservation]]],
    lost_round: Callable[[int, bool, Planned, Reservation], None] | None = None,
) -> tuple[int, bool, Planned, list[Reservation]]:
    """Plan and reserve, all or nothing, until a round wins: ``plan_round(attempt)`` plans
    on fresh stock and says what to reserve under ``reference``. When another request
    took the units first, ``lost_round`` hears of it and the next round plans again; the last
    round locks the stock rows of ``skus`` first, so it cannot lose. Returns the winning
    round's number, whether it was locked, its plan and its reservations."""
    wanted = list(skus)
    for attempt in range(1, OPTIMISTIC_ATTEMPTS + 2):
        locked = attempt > OPTIMISTIC_ATTEMPTS
        if locked:
            uow.stock.lock_skus(wanted)
        planned, reservations = plan_round(attempt)
        lost = uow.stock.reserve_all(reservations, reference)
        if lost is None:
            return attempt, locked, planned, reservations
        metrics.RESERVATION_CONFLICTS.inc()
        if lost_round is not None:
            lost_round(attempt, locked, planned, lost)
    raise AssertionError("the locked round cannot lose a race")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    channel: str
    external_id: str
    lines: tuple[tuple[str, int], ...]
    service_level: ServiceLevel
    request_hash: str
    ship_to: GeoPoint | None = None
    ship_to_postal_code: str | None = None
    ship_to_country: str | None = None
    pickup_location_id: str | None = None
    #: None: the channel's default profile, or 'default'.
    sourcing_profile: str | None = None
    #: Put the order on hold at capture (payment, fraud, manual); its units are still reserved.
    hold_reason: str | None = None
    #: The delivery date promised to the customer.
    promise_by: date | None = None
    #: A held promise whose reserved units this order takes (exactly those, once).
    promise_id: str | None = None


def _lost_race(location_id: str, sku: str, quantity: int) -> dict[str, Any]:
    return {"location_id": location_id, "sku": sku, "quantity": quantity}


def order_dict(order: Order) -> dict[str, Any]:
    """The JSON form of an order: served by the API and carried by order events."""
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "service_level": order.service_level.value,
        "ship_to": None
        if order.ship_to is None
        else {
            "latitude": order.ship_to.latitude,
            "longitude": order.ship_to.longitude,
            "postal_code": order.ship_to_postal_code,
            "country": order.ship_to_country,
        },
        "pickup_location_id": order.pickup_location_id,
        "sourcing_profile": order.sourcing_profile,
        "hold_reason": order.hold_reason,
        "reroutes": order.reroutes,
        "promise_by": None if order.promise_by is None else order.promise_by.isoformat(),
        "lines": [
            {
                "sku": ln.sku,
                "quantity": ln.quantity,
                "allocated": ln.allocated,
                "backordered": ln.backordered,
                "cancelled": ln.cancelled,
                "shipped": ln.shipped,
                "returned": ln.returned,
                "backorder_expected_date": None
                if ln.backorder_expected_date is None
                else ln.backorder_expected_date.isoformat(),
            }
            for ln in order.lines
        ],
        "fulfillments": [fulfillment_dict(f) for f in order.fulfillments],
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


def fulfillment_dict(f: Fulfillment) -> dict[str, Any]:
    return {
        "id": f.id,
        "order_id": f.order_id,
        "location_id": f.location_id,
        "state": f.state,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in f.lines],
        "distance_km": None if f.distance_km is None else round(f.distance_km, 3),
        "estimated_delivery_date": None
        if f.estimated_delivery_date is None
        else f.estimated_delivery_date.isoformat(),
        "carrier": f.carrier,
        "tracking_number": f.tracking_number,
        "accept_by": None if f.accept_by is None else f.accept_by.isoformat(),
        "expires_at": None if f.expires_at is None else f.expires_at.isoformat(),
        "rejection_reason": f.rejection_reason,
        "created_at": f.created_at.isoformat(),
        "updated_at": f.updated_at.isoformat(),
    }


def refresh_status(order: Order) -> None:
    """Recompute the order's status from its lines and hold: the one place that sets it."""
    order.status = derive_order_status(
        allocated=sum(ln.allocated for ln in order.lines),
        backordered=sum(ln.backordered for ln in order.lines),
        delivered=sum(ln.shipped for ln in order.lines),
        cancelled=sum(ln.cancelled for ln in order.lines),
        ordered=sum(ln.quantity for ln in order.lines),
        on_hold=order.hold_reason is not None,
    ).value


def _validate(uow: UnitOfWork, cmd: PlaceOrder) -> sourcing.SourcingProfile:
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for i, (sku, _) in enumerate(cmd.lines):
        if sku in seen:
            errors.append(
                FieldError(f"lines[{i}].sku", f"SKU '{sku}' is already on lines[{seen[sku]}]")
            )
        seen.setdefault(sku, i)
    if cmd.service_level is ServiceLevel.PICKUP:
        if cmd.pickup_location_id is None:
            errors.append(FieldError("pickup_location_id", "required for pickup orders"))
        else:
            loc = uow.locations.get(cmd.pickup_location_id)
            if loc is None:
                errors.append(
                    FieldError("pickup_location_id", f"unknown location '{cmd.pickup_location_id}'")
                )
            elif not loc.can_pickup or not loc.active:
                errors.append(
                    FieldError(
                        "pickup_location_id",
                        f"location '{loc.id}' does not offer pickup"
                        + ("" if loc.active else " (inactive)"),
                    )
                )
    else:
        if cmd.ship_to is None:
            errors.append(FieldError("ship_to", "required for shipped orders"))
        if cmd.pickup_location_id is not None:
            errors.append(FieldError("pickup_location_id", "only for service_level 'pickup'"))
    profile: sourcing.SourcingProfile | None = None
    try:
        profile = resolve_profile(uow, cmd.sourcing_profile, cmd.channel)
    except NotFound as exc:
        errors.append(FieldError("sourcing_profile", str(exc)))
    try:
        require_known(uow, skus=[(f"lines[{i}].sku", s) for i, (s, _) in enumerate(cmd.lines)])
    except ValidationFailed as exc:
        errors += exc.errors
    if errors or profile is None:
        raise ValidationFailed("the order cannot be accepted", errors)
    return profile


def place_order(
    uow: UnitOfWork, cmd: PlaceOrder, policy: LifecyclePolicy = DEFAULT_POLICY
) -> tuple[Order, bool]:
    """Capture an order once per (channel, external_id); returns (order, created)."""
    existing = uow.orders.find_by_external_id(cmd.channel, cmd.external_id)
    if existing is not None:
        order_id, request_hash = existing
        if request_hash != cmd.request_hash:
            raise Conflict(
                f"order '{cmd.external_id}' of channel '{cmd.channel}' was already captured "
                "with a different body"
            )
        found = uow.orders.get(order_id)
        assert found is not None
        return found, False
    profile = _validate(uow, cmd)
    now = utcnow()
    order = Order(
        id=new_id("ord"),
        channel=cmd.channel,
        external_id=cmd.external_id,
        status="",
        service_level=cmd.service_level,
        lines=[OrderLine(sku, qty, backordered=qty) for sku, qty in cmd.lines],
        created_at=now,
        updated_at=now,
        ship_to=cmd.ship_to,
        ship_to_postal_code=cmd.ship_to_postal_code,
        ship_to_country=cmd.ship_to_country,
        pickup_location_id=cmd.pickup_location_id,
        sourcing_profile=profile.name,
        hold_reason=cmd.hold_reason,
        promise_by=cmd.promise_by,
    )

    if cmd.promise_id is not None:
        fulfillments = _from_promise(uow, order, cmd, profile, policy)
    else:

        def persist(fulfillments: list[Fulfillment], trace: dict[str, Any]) -> None:
            refresh_status(order)
            uow.orders.add(order, cmd.request_hash)
            uow.orders.add_fulfillments(fulfillments)
            uow.orders.add_trace(order.id, 1, trace)

        fulfillments, _ = allocate(
            uow, order, profile, cause="order.created", persist=persist, policy=policy
        )
    order.fulfillments = fulfillments
    if any(ln.backordered for ln in order.lines):
        expect_backorders(uow, order)
    data = order_dict(order)
    uow.emit("order.created", order.id, data)
    for f in fulfillments:
        uow.emit("fulfillment.created", order.id, fulfillment_dict(f))
    return order, True


def _from_promise(
    uow: UnitOfWork,
    order: Order,
    cmd: PlaceOrder,
    profile: sourcing.SourcingProfile,
    policy: LifecyclePolicy,
) -> list[Fulfillment]:
    """The order takes the units its promise holds: the reservations pass from the promise to
    the order's fulfillments unchanged (no stock moves)."""
    from omniorder.services import promises

    assert cmd.promise_id is not None
    now = utcnow()
    held = promises.claim(uow, cmd.promise_id, order.id, now)
    wanted: dict[str, int] = {}
    for sku, qty in cmd.lines:
        wanted[sku] = wanted.get(sku, 0) + qty
    if wanted != held.lines or held.service_level != order.service_level.value:
        raise Conflict(
            f"the order's lines or service level differ from promise '{held.id}': "
            "place it without the promise, or ask for a new one"
        )
    where = uow.locations.get_many([f["location_id"] for f in held.plan])
    fulfillments = []
    for f in held.plan:
        loc = where[f["location_id"]]
        dist = None if order.ship_to is None else haversine_km(order.ship_to, loc.point)
        lines = [(ln["sku"], int(ln["quantity"])) for ln in f["lines"]]
        fulfillments.append(_new_fulfillment(order, loc, lines, dist, now, policy))
    refresh_status(order)
    uow.orders.add(order, cmd.request_hash)
    uow.orders.add_fulfillments(fulfillments)
    trace = {
        "profile": {"name": profile.name, "version": profile.version},
        "method": {"name": "promise", "promise_id": held.id},
        "cause": "order.created",
        "chosen": {"fulfillments": held.plan},
    }
    uow.orders.add_trace(order.id, 1, trace)
    return fulfillments


def candidates_for(
    uow: UnitOfWork, demand: dict[str, int], pickup_location_id: str | None
) -> list[sourcing.Candidate]:
    positions, locations = uow.stock.with_locations(demand)
    if pickup_location_id and pickup_location_id not in locations:
        locations.update(uow.locations.get_many([pickup_location_id]))
    capped = [loc.id for loc in locations.values() if loc.daily_capacity is not None]
    today = uow.locations.fulfillments_today(capped)
    available: dict[str, dict[str, int]] = defaultdict(dict)
    for p in positions:
        available[p.location_id][p.sku] = p.available
    return [
        sourcing.Candidate(loc, available.get(loc.id, {}), today.get(loc.id, 0))
        for loc in locations.values()
    ]


Persist = Callable[[list[Fulfillment], dict[str, Any]], None]


def allocate(
    uow: UnitOfWork,
    order: Order,
    profile: sourcing.SourcingProfile,
    *,
    cause: str,
    persist: Persist,
    excluded: frozenset[str] = frozenset(),
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> tuple[list[Fulfillment], dict[str, Any]]:
    """Source and reserve the order's backordered units.

    Each round plans on fresh stock and reserves every (location, sku) of the plan, all or
    nothing, with conditional updates in key order. Then ``persist`` stages what the plan
    implies (order, fulfillments, trace): those rows are written with one statement at commit,
    so the hot stock rows stay locked only from the reservation to the commit. When a
    reservation loses its race the order is planned again on fresh stock; the last round locks
    the stock rows first, so it cannot lose. Mutates the order's line counts.
    """
    demand = {ln.sku: ln.backordered for ln in order.lines if ln.backordered > 0}
    before = [(ln.allocated, ln.backordered) for ln in order.lines]
    request = sourcing.SourcingRequest(
        lines=tuple(demand.items()),
        service_level=order.service_level,
        ship_to=order.ship_to,
        pickup_location_id=order.pickup_location_id,
        excluded_location_ids=excluded,
        promise_by=order.promise_by,
        placed_at=utcnow(),
    )
    attempts: list[dict[str, Any]] = []

    def plan_round(
        attempt: int,
    ) -> tuple[tuple[sourcing.SourcingResult, list[sourcing.Candidate]], list[Reservation]]:
        candidates = candidates_for(uow, demand, order.pickup_location_id)
        result = sourcing.plan(request, candidates, profile)
        metrics.SOURCING_SECONDS.labels(result.trace["method"]["name"]).observe(
            result.trace["elapsed_ms"] / 1000
        )
        reservations = [
            (a.location_id, sku, qty) for a in result.plan.allocations for sku, qty in a.lines
        ]
        return (result, candidates), reservations

    def lost_round(
        attempt: int,
        locked: bool,
        planned: tuple[sourcing.SourcingResult, list[sourcing.Candidate]],
        lost: Reservation,
    ) -> None:
        result = planned[0]
        attempts.append(
            {
                "attempt": attempt,
                "locked": locked,
                "planned": result.plan.as_dict()["fulfillments"],
                "cost": round(result.plan.cost.total, 6),
                "lost_race": _lost_race(*lost),
            }
        )

    attempt, locked, (result, candidates), reservations = reserve_in_rounds(
        uow, demand, order.id, plan_round, lost_round
    )
    for ln, (allocated, backordered) in zip(order.lines, before, strict=True):
        ln.allocated, ln.backordered = allocated, backordered
    where = {c.location.id: c.location for c in candidates}
    fulfillments = _fulfillments(order, result.plan, where, policy)
    done = {
        "attempt": attempt,
        "locked": locked,
        "reserved": len(reservations),
        "cost": round(result.plan.cost.total, 6),
    }
    trace = {**result.trace, "cause": cause, "attempts": [*attempts, done]}
    persist(fulfillments, trace)
    return fulfillments, trace


def _fulfillments(
    order: Order, plan: sourcing.Plan, where: dict[str, Location], policy: LifecyclePolicy
) -> list[Fulfillment]:
    """The fulfillments a plan implies (each with the time by which its location must accept
    it); moves the planned units from backordered to allocated."""
    now = utcnow()
    return [
        _new_fulfillment(order, where[a.location_id], a.lines, a.distance_km, now, policy)
        for a in plan.allocations
    ]


def _new_fulfillment(
    order: Order,
    loc: Location,
    lines: Sequence[tuple[str, int]],
    distance_km: float | None,
    now: datetime,
    policy: LifecyclePolicy,
) -> Fulfillment:
    """A pending fulfillment of ``lines`` at ``loc`` (its delivery date from the location's
    calendar, the time by which it must be accepted); moves those units of the order from
    backordered to allocated."""
    for sku, qty in lines:
        line = next(ln for ln in order.lines if ln.sku == sku)
        line.allocated += qty
        line.backordered -= qty
    return Fulfillment(
        id=new_id("ful"),
        order_id=order.id,
        location_id=loc.id,
        state=FulfillmentState.PENDING.value,
        lines=[FulfillmentLine(sku, qty) for sku, qty in lines],
        distance_km=distance_km,
        estimated_delivery_date=estimate_delivery_date(
            now, distance_km, order.service_level, loc.calendar
        ),
        created_at=now,
        updated_at=now,
        accept_by=policy.accept_by(loc.type.value, now),
    )


def get_order(uow: UnitOfWork, order_id: str, principal: ApiKey) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    expect_backorders(uow, order)
    return order


def expect_backorders(uow: UnitOfWork, order: Order) -> None:
    """Promise backordered units against expected supply: incoming supply of the SKU serves
    waiting orders oldest first (as the backorder worker does when it arrives), so this order's
    units are expected on the date of the supply that covers the units backordered before it
    plus its own. Held orders wait for their release and get no date."""
    if order.hold_reason is not None:
        return
    for ln in order.lines:
        ln.backorder_expected_date = None
        if ln.backordered <= 0:
            continue
        ahead = uow.orders.backordered_before(ln.sku, order.created_at, order.id)
        need = ahead + ln.backordered
        covered = 0
        inc = t.incoming
        q = (
            select(inc.c.quantity, inc.c.expected_date)
            .where(inc.c.sku == ln.sku, inc.c.received_at.is_(None))
            .order_by(inc.c.expected_date, inc.c.id)
        )
        for row in uow.conn.execute(q):
            covered += row.quantity
            if covered >= need:
                ln.backorder_expected_date = row.expected_date
                break


def sourcing_trace(uow: UnitOfWork, order_id: str, principal: ApiKey) -> dict[str, Any]:
    order = get_order(uow, order_id, principal)
    rounds = uow.orders.traces(order.id)
    return {
        "order_id": order.id,
        "rounds": [
            {"round": r["round"], "created_at": r["created_at"].isoformat(), **r["trace"]}
            for r in rounds
        ],
    }


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
            fulfillment_dict(f),
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
