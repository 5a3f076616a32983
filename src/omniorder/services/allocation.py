"""Sourcing an order's backordered units and reserving them, all or nothing, in rounds that
re-plan on fresh stock when another request took the units first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from omniorder import metrics
from omniorder.db.clock import utcnow
from omniorder.db.uow import UnitOfWork
from omniorder.domain import sourcing
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.fulfillment import Fulfillment, FulfillmentLine
from omniorder.domain.ids import new_id
from omniorder.domain.model import Location
from omniorder.domain.order import Order
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.domain.states import FulfillmentState

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


def _lost_race(location_id: str, sku: str, quantity: int) -> dict[str, Any]:
    return {"location_id": location_id, "sku": sku, "quantity": quantity}


def candidates_for(
    uow: UnitOfWork, demand: dict[str, int], pickup_location_id: str | None
) -> list[sourcing.Candidate]:
    positions, locations = uow.candidates.with_locations(demand)
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
    it), added to the order."""
    now = utcnow()
    return [
        new_fulfillment(order, where[a.location_id], a.lines, a.distance_km, now, policy)
        for a in plan.allocations
    ]


def new_fulfillment(
    order: Order,
    loc: Location,
    lines: Sequence[tuple[str, int]],
    distance_km: float | None,
    now: datetime,
    policy: LifecyclePolicy,
) -> Fulfillment:
    """A pending fulfillment of ``lines`` at ``loc`` (its delivery date from the location's
    calendar, the time by which it must be accepted), added to the order: it takes those
    backordered units."""
    f = Fulfillment(
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
    order.add_fulfillment(f)
    return f
