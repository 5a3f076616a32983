"""Promises before checkout: what can be delivered, by when, at what cost; optionally held.

``promise`` answers options per service level (standard and express from the sourcing
engine's least-cost plan, pickup at the nearest stores holding every unit), each with its
fulfillments, delivery date (or pickup-ready date), cost and whether it is complete. With
``hold_seconds`` the units of one option are reserved under a ``promise_id`` (conditional
updates, as for orders: never oversold) until ``expires_at``; the worker releases expired
holds, and an order naming the ``promise_id`` consumes exactly that hold, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from omniorder.db.clock import utcnow
from omniorder.db.repositories.promises import StoredPromise
from omniorder.db.uow import UnitOfWork
from omniorder.domain import sourcing
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.errors import Conflict, FieldError, ValidationFailed
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.ids import new_id
from omniorder.domain.model import Location, ServiceLevel
from omniorder.services.allocation import Reservation, candidates_for, reserve_in_rounds
from omniorder.services.catalog import get_profile, require_known

PICKUP_OPTIONS = 3
MAX_HOLD_SECONDS = 900


@dataclass(frozen=True, slots=True)
class Option:
    service_level: str
    complete: bool
    cost: float
    fulfillments: list[dict[str, Any]]
    estimated_delivery_date: str | None = None
    pickup_location_id: str | None = None
    pickup_ready_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service_level": self.service_level,
            "complete": self.complete,
            "cost": round(self.cost, 6),
            "fulfillments": self.fulfillments,
        }
        if self.service_level == ServiceLevel.PICKUP.value:
            out["pickup_location_id"] = self.pickup_location_id
            out["pickup_ready_at"] = self.pickup_ready_at
        else:
            out["estimated_delivery_date"] = self.estimated_delivery_date
        return out


def _fulfillments(
    plan: sourcing.Plan, where: dict[str, Location], level: ServiceLevel, now: datetime
) -> list[dict[str, Any]]:
    out = []
    for a in plan.allocations:
        arrives = estimate_delivery_date(now, a.distance_km, level, where[a.location_id].calendar)
        key = "pickup_ready_at" if level is ServiceLevel.PICKUP else "estimated_delivery_date"
        out.append(
            {
                "location_id": a.location_id,
                "lines": [{"sku": s, "quantity": q} for s, q in a.lines],
                key: arrives.isoformat(),
            }
        )
    return out


def options_for(
    uow: UnitOfWork,
    lines: tuple[tuple[str, int], ...],
    ship_to: GeoPoint | None,
    levels: list[ServiceLevel],
    profile: sourcing.SourcingProfile,
    now: datetime,
) -> list[Option]:
    demand: dict[str, int] = {}
    for sku, qty in lines:
        demand[sku] = demand.get(sku, 0) + qty
    candidates = candidates_for(uow, demand, None)
    where = {c.location.id: c.location for c in candidates}
    out: list[Option] = []
    for level in levels:
        if level is ServiceLevel.PICKUP:
            out += _pickup_options(lines, demand, ship_to, candidates, profile, now)
            continue
        if ship_to is None:
            continue
        request = sourcing.SourcingRequest(lines, level, ship_to, placed_at=now)
        plan = sourcing.plan(request, candidates, profile).plan
        fuls = _fulfillments(plan, where, level, now)
        dates = [f["estimated_delivery_date"] for f in fuls]
        out.append(
            Option(
                level.value,
                not plan.backordered,
                plan.cost.total,
                fuls,
                estimated_delivery_date=max(dates) if dates else None,
            )
        )
    return out


def _pickup_options(
    lines: tuple[tuple[str, int], ...],
    demand: dict[str, int],
    ship_to: GeoPoint | None,
    candidates: list[sourcing.Candidate],
    profile: sourcing.SourcingProfile,
    now: datetime,
) -> list[Option]:
    """The nearest stores (to ``ship_to``, else by id) that can hand over every unit."""
    stores = [
        c
        for c in candidates
        if c.location.can_pickup
        and c.location.active
        and all(c.available.get(s, 0) >= q for s, q in demand.items())
    ]
    if ship_to is not None:
        stores.sort(key=lambda c: (haversine_km(ship_to, c.location.point), c.location.id))
    else:
        stores.sort(key=lambda c: c.location.id)
    out = []
    for c in stores[:PICKUP_OPTIONS]:
        request = sourcing.SourcingRequest(
            lines, ServiceLevel.PICKUP, None, pickup_location_id=c.location.id, placed_at=now
        )
        plan = sourcing.plan(request, [c], profile).plan
        fuls = _fulfillments(plan, {c.location.id: c.location}, ServiceLevel.PICKUP, now)
        ready = fuls[0]["pickup_ready_at"] if fuls else None
        out.append(
            Option(
                ServiceLevel.PICKUP.value,
                not plan.backordered,
                plan.cost.total,
                fuls,
                pickup_location_id=c.location.id,
                pickup_ready_at=ready,
            )
        )
    return out


def promise(
    uow: UnitOfWork,
    lines: tuple[tuple[str, int], ...],
    ship_to: GeoPoint | None,
    levels: list[ServiceLevel],
    hold_seconds: int | None,
    hold_option: int | None,
) -> dict[str, Any]:
    require_known(uow, skus=[(f"lines[{i}].sku", s) for i, (s, _) in enumerate(lines)])
    if ship_to is None and any(lv is not ServiceLevel.PICKUP for lv in levels):
        levels = [lv for lv in levels if lv is ServiceLevel.PICKUP]
    now = utcnow()
    profile = get_profile(uow, "default")
    options = options_for(uow, lines, ship_to, levels, profile, now)
    answer: dict[str, Any] = {
        "promise_id": None,
        "expires_at": None,
        "options": [o.as_dict() for o in options],
    }
    if not hold_seconds:
        return answer
    promise_id = new_id("prm")
    first = options

    def hold_round(attempt: int) -> tuple[tuple[list[Option], Option], list[Reservation]]:
        # As an order's allocation: when another request takes the units first, the options
        # are worked out again on fresh stock; the last round locks the SKUs' rows.
        fresh = first if attempt == 1 else options_for(uow, lines, ship_to, levels, profile, now)
        chosen = _option_to_hold(fresh, hold_option)
        reservations = [
            (f["location_id"], ln["sku"], ln["quantity"])
            for f in chosen.fulfillments
            for ln in f["lines"]
        ]
        return (fresh, chosen), reservations

    _, _, (options, chosen), _ = reserve_in_rounds(
        uow, (s for s, _ in lines), promise_id, hold_round
    )
    answer["options"] = [o.as_dict() for o in options]
    expires = now + timedelta(seconds=hold_seconds)
    promised = chosen.estimated_delivery_date or chosen.pickup_ready_at
    uow.promises.add(
        StoredPromise(
            id=promise_id,
            status="held",
            service_level=chosen.service_level,
            lines=[{"sku": s, "quantity": q} for s, q in lines],
            plan=[
                {"location_id": f["location_id"], "lines": f["lines"]} for f in chosen.fulfillments
            ],
            expires_at=expires,
            promised_date=None if promised is None else date.fromisoformat(promised),
        ),
        now,
    )
    uow.emit(
        "promise.held",
        promise_id,
        {"promise_id": promise_id, "expires_at": expires.isoformat(), "option": chosen.as_dict()},
    )
    answer["promise_id"] = promise_id
    answer["expires_at"] = expires.isoformat()
    answer["held_option"] = options.index(chosen)
    return answer


def _option_to_hold(options: list[Option], hold_option: int | None) -> Option:
    """The option ``hold_option`` names, else the first complete one."""
    if hold_option is not None:
        if hold_option >= len(options):
            raise ValidationFailed(
                "no such option",
                [FieldError("hold_option", f"there are {len(options)} options")],
            )
        return options[hold_option]
    complete = [o for o in options if o.complete]
    if not complete:
        raise Conflict("no option can deliver every unit: nothing to hold")
    return complete[0]


@dataclass(frozen=True, slots=True)
class Held:
    id: str
    service_level: str
    lines: dict[str, int]
    plan: list[dict[str, Any]]
    #: The delivery (or pickup-ready) date the held option promised.
    promised_date: date | None


def claim(uow: UnitOfWork, promise_id: str, order_id: str, now: datetime) -> Held:
    """Take a held promise for an order (once): 422 when unknown, 409 when consumed,
    released or expired."""
    row = uow.promises.get_for_update(promise_id)
    if row is None:
        raise ValidationFailed(
            "unknown promise", [FieldError("promise_id", f"no promise '{promise_id}'")]
        )
    if row.status != "held" or row.expires_at is None or row.expires_at <= now:
        state = "expired" if row.status == "held" else row.status
        raise Conflict(f"promise '{promise_id}' is {state}: place the order without it")
    uow.promises.consume(promise_id, order_id)
    wanted: dict[str, int] = {}
    for ln in row.lines:
        wanted[ln["sku"]] = wanted.get(ln["sku"], 0) + int(ln["quantity"])
    return Held(row.id, row.service_level, wanted, row.plan, row.promised_date)


def expire_due(uow: UnitOfWork, now: datetime, limit: int = 50) -> int:
    """Release the units of held promises past their expiry; returns how many."""
    due = uow.promises.take_due(now, limit)
    for promise_id, plan in due:
        for f in plan:
            for ln in f["lines"]:
                uow.stock.release(
                    f["location_id"], ln["sku"], ln["quantity"], "promise_expired", promise_id
                )
        uow.emit("promise.expired", promise_id, {"promise_id": promise_id})
    return len(due)
