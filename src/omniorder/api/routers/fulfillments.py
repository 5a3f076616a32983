"""Fulfillments: a location's work queue and its actions.

Each action answers the fulfillment after the move; an action its state does not allow is a
409 that changes nothing, and so is every action but cancel while the order is on hold.
``location`` keys see and act on their own locations only, and their queues leave out the
fulfillments of orders on hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, Idempotent, require, respond
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    FulfillmentCancelIn,
    FulfillmentOut,
    Page,
    RejectIn,
    ShipIn,
)
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.model import Role
from omniorder.domain.policy import LifecyclePolicy
from omniorder.domain.states import FulfillmentState
from omniorder.services import fulfillments as svc
from omniorder.services.access import check_location, visible_locations
from omniorder.services.database import Database, Idempotency
from omniorder.services.payloads import fulfillment_dict

router = APIRouter(tags=["fulfillments"])
IdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
LocationActor = Annotated[ApiKey, Depends(require(Role.LOCATION))]
ACTION = render.problems(404, 409)


def _policy(request: Request) -> LifecyclePolicy:
    policy: LifecyclePolicy = request.app.state.policy
    return policy


def _render(loaded: svc.Loaded) -> tuple[int, dict[str, Any]]:
    return 200, fulfillment_dict(loaded.order, loaded.fulfillment)


def _act(
    db: Database, idempotent: Idempotency | None, action: Callable[[UnitOfWork], svc.Loaded]
) -> JSONResponse:
    return respond(db, idempotent, action, _render)


@router.get("/fulfillments", response_model=Page[FulfillmentOut], responses=render.problems())
def list_fulfillments(
    db: DatabaseDep,
    principal: LocationActor,
    location_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    state: FulfillmentState | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """A work queue, oldest first: `?location_id=…&state=pending`. A location's queue leaves
    out orders on hold; admins see them, marked `on_hold`."""
    own = visible_locations(principal)
    if location_id is not None:
        check_location(principal, [location_id])
        scope: list[str] | None = [location_id]
    else:
        scope = None if own is None else list(own)
    items, nxt = db.read(
        lambda uow: uow.orders.list_fulfillments(
            limit,
            cursor,
            scope,
            None if state is None else state.value,
            include_held=principal.role is not Role.LOCATION,
        )
    )
    return JSONResponse({"items": [fulfillment_dict(o, f) for o, f in items], "next_cursor": nxt})


@router.get(
    "/fulfillments/{fulfillment_id}", response_model=FulfillmentOut, responses=render.problems(404)
)
def get_fulfillment(
    fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor
) -> JSONResponse:
    found = db.read(lambda uow: svc.get_fulfillment(uow, fulfillment_id, principal))
    return JSONResponse(fulfillment_dict(found.order, found.fulfillment))


@router.post(
    "/fulfillments/{fulfillment_id}/accept", response_model=FulfillmentOut, responses=ACTION
)
def accept(
    fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor, idempotent: Idempotent
) -> JSONResponse:
    return _act(db, idempotent, lambda uow: svc.accept(uow, fulfillment_id, principal))


@router.post(
    "/fulfillments/{fulfillment_id}/pick",
    response_model=FulfillmentOut,
    responses=ACTION,
    summary="The goods are picked and packed (from accepted)",
)
def pick(
    fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor, idempotent: Idempotent
) -> JSONResponse:
    return _act(db, idempotent, lambda uow: svc.pick(uow, fulfillment_id, principal))


@router.post(
    "/fulfillments/{fulfillment_id}/reject",
    response_model=FulfillmentOut,
    responses=ACTION,
    summary="Reject the fulfillment or some of its units; they are sourced again at once",
)
def reject(
    request: Request,
    fulfillment_id: IdPath,
    body: RejectIn,
    db: DatabaseDep,
    principal: LocationActor,
    idempotent: Idempotent,
) -> JSONResponse:
    lines = None if body.lines is None else [(ln.sku, ln.quantity) for ln in body.lines]
    policy = _policy(request)
    return _act(
        db,
        idempotent,
        lambda uow: svc.reject(
            uow, fulfillment_id, principal, body.reason, lines, body.note, policy
        ),
    )


@router.post(
    "/fulfillments/{fulfillment_id}/ship",
    response_model=FulfillmentOut,
    responses=ACTION,
    summary="The parcel left (from accepted or picked): on_hand and reserved drop together",
)
def ship(
    fulfillment_id: IdPath,
    body: ShipIn,
    db: DatabaseDep,
    principal: LocationActor,
    idempotent: Idempotent,
) -> JSONResponse:
    return _act(
        db,
        idempotent,
        lambda uow: svc.ship(uow, fulfillment_id, principal, body.carrier, body.tracking_number),
    )


@router.post(
    "/fulfillments/{fulfillment_id}/ready-for-pickup",
    response_model=FulfillmentOut,
    responses=ACTION,
    summary="The order waits for the customer at the store (from accepted or picked)",
)
def ready_for_pickup(
    request: Request,
    fulfillment_id: IdPath,
    db: DatabaseDep,
    principal: LocationActor,
    idempotent: Idempotent,
) -> JSONResponse:
    policy = _policy(request)
    return _act(
        db, idempotent, lambda uow: svc.ready_for_pickup(uow, fulfillment_id, principal, policy)
    )


@router.post(
    "/fulfillments/{fulfillment_id}/picked-up", response_model=FulfillmentOut, responses=ACTION
)
def picked_up(
    fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor, idempotent: Idempotent
) -> JSONResponse:
    return _act(db, idempotent, lambda uow: svc.picked_up(uow, fulfillment_id, principal))


@router.post(
    "/fulfillments/{fulfillment_id}/cancel", response_model=FulfillmentOut, responses=ACTION
)
def cancel(
    fulfillment_id: IdPath,
    db: DatabaseDep,
    principal: LocationActor,
    idempotent: Idempotent,
    body: FulfillmentCancelIn | None = None,
) -> JSONResponse:
    reason = None if body is None else body.reason
    return _act(db, idempotent, lambda uow: svc.cancel(uow, fulfillment_id, principal, reason))
