"""Fulfillments: a location's work queue and its actions; order holds.

Each action answers the fulfillment after the move; an action its state does not allow is a
409 that changes nothing. ``location`` keys act on their own locations only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, require
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    FulfillmentCancelIn,
    FulfillmentOut,
    HoldIn,
    OrderOut,
    Page,
    RejectIn,
    ReturnIn,
    ReturnOut,
    ShipIn,
)
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import NotFound
from omniorder.domain.model import Order, Role
from omniorder.domain.policy import LifecyclePolicy
from omniorder.domain.states import FulfillmentState
from omniorder.services import fulfillments as svc
from omniorder.services import orders, supply
from omniorder.services.access import check_channel, check_location, visible_locations

router = APIRouter(tags=["fulfillments"])
IdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
LocationActor = Annotated[ApiKey, Depends(require(Role.LOCATION))]
OrderActor = Annotated[ApiKey, Depends(require(Role.CHANNEL))]
ACTION = render.problems(404, 409)


def _policy(request: Request) -> LifecyclePolicy:
    policy: LifecyclePolicy = request.app.state.policy
    return policy


def _answer(db: DatabaseDep, action: Callable[[UnitOfWork], svc.Loaded]) -> JSONResponse:
    loaded = db.write(action)
    return JSONResponse(orders.fulfillment_dict(loaded.fulfillment))


@router.get("/fulfillments", response_model=Page[FulfillmentOut], responses=render.problems())
def list_fulfillments(
    db: DatabaseDep,
    principal: LocationActor,
    location_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    state: FulfillmentState | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """A work queue, oldest first: `?location_id=…&state=pending`."""
    own = visible_locations(principal)
    if location_id is not None:
        check_location(principal, [location_id])
        scope: list[str] | None = [location_id]
    else:
        scope = None if own is None else list(own)
    items, nxt = db.read(
        lambda uow: uow.orders.list_fulfillments(
            limit, cursor, scope, None if state is None else state.value
        )
    )
    return JSONResponse({"items": [orders.fulfillment_dict(f) for f in items], "next_cursor": nxt})


@router.get(
    "/fulfillments/{fulfillment_id}", response_model=FulfillmentOut, responses=render.problems(404)
)
def get_fulfillment(
    fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor
) -> JSONResponse:
    found = db.read(lambda uow: svc.get_fulfillment(uow, fulfillment_id, principal))
    return JSONResponse(orders.fulfillment_dict(found))


@router.post(
    "/fulfillments/{fulfillment_id}/accept", response_model=FulfillmentOut, responses=ACTION
)
def accept(fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor) -> JSONResponse:
    return _answer(db, lambda uow: svc.accept(uow, fulfillment_id, principal))


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
) -> JSONResponse:
    lines = None if body.lines is None else [(ln.sku, ln.quantity) for ln in body.lines]
    policy = _policy(request)
    return _answer(
        db,
        lambda uow: svc.reject(
            uow, fulfillment_id, principal, body.reason, lines, body.note, policy
        ),
    )


@router.post(
    "/fulfillments/{fulfillment_id}/ship",
    response_model=FulfillmentOut,
    responses=ACTION,
    summary="The parcel left: on_hand and reserved drop together",
)
def ship(
    fulfillment_id: IdPath, body: ShipIn, db: DatabaseDep, principal: LocationActor
) -> JSONResponse:
    return _answer(
        db,
        lambda uow: svc.ship(uow, fulfillment_id, principal, body.carrier, body.tracking_number),
    )


@router.post(
    "/fulfillments/{fulfillment_id}/ready-for-pickup",
    response_model=FulfillmentOut,
    responses=ACTION,
)
def ready_for_pickup(
    request: Request, fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor
) -> JSONResponse:
    policy = _policy(request)
    return _answer(db, lambda uow: svc.ready_for_pickup(uow, fulfillment_id, principal, policy))


@router.post(
    "/fulfillments/{fulfillment_id}/picked-up", response_model=FulfillmentOut, responses=ACTION
)
def picked_up(fulfillment_id: IdPath, db: DatabaseDep, principal: LocationActor) -> JSONResponse:
    return _answer(db, lambda uow: svc.picked_up(uow, fulfillment_id, principal))


@router.post(
    "/fulfillments/{fulfillment_id}/cancel", response_model=FulfillmentOut, responses=ACTION
)
def cancel(
    fulfillment_id: IdPath,
    db: DatabaseDep,
    principal: LocationActor,
    body: FulfillmentCancelIn | None = None,
) -> JSONResponse:
    reason = None if body is None else body.reason
    return _answer(db, lambda uow: svc.cancel(uow, fulfillment_id, principal, reason))


def _order_for_update(uow: UnitOfWork, order_id: str, principal: ApiKey) -> Order:
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    return order


@router.post(
    "/orders/{order_id}/hold",
    response_model=OrderOut,
    responses=ACTION,
    tags=["orders"],
    summary="Hold an order: it keeps its reservations, nothing ships until it is released",
)
def hold(order_id: IdPath, body: HoldIn, db: DatabaseDep, principal: OrderActor) -> JSONResponse:
    order = db.write(
        lambda uow: svc.hold(uow, _order_for_update(uow, order_id, principal), body.reason)
    )
    return JSONResponse(orders.order_dict(order))


@router.post(
    "/orders/{order_id}/release",
    response_model=OrderOut,
    responses=ACTION,
    tags=["orders"],
    summary="Release a held order; its backordered units are sourced at once",
)
def release(
    request: Request, order_id: IdPath, db: DatabaseDep, principal: OrderActor
) -> JSONResponse:
    policy = _policy(request)
    order = db.write(
        lambda uow: svc.release_hold(uow, _order_for_update(uow, order_id, principal), policy)
    )
    return JSONResponse(orders.order_dict(order))


ReturnActor = Annotated[ApiKey, Depends(require(Role.CHANNEL, Role.LOCATION))]


@router.post(
    "/orders/{order_id}/returns",
    response_model=ReturnOut,
    status_code=201,
    responses=ACTION,
    tags=["orders"],
    summary="Units of a shipped order came back; with `restock` they go back on the shelf",
)
def post_return(
    order_id: IdPath, body: ReturnIn, db: DatabaseDep, principal: ReturnActor
) -> JSONResponse:
    lines = [(ln.sku, ln.quantity) for ln in body.lines]
    ret = db.write(
        lambda uow: supply.record_return(
            uow, order_id, principal, lines, body.location_id, body.restock, body.reason
        )
    )
    return JSONResponse(ret.as_dict(), status_code=201)
