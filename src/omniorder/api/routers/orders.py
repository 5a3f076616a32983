"""Orders: capture, reads, the sourcing trace, cancellation, holds and returns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from omniorder import metrics
from omniorder.api import render
from omniorder.api.deps import DatabaseDep, Idempotent, request_hash, require, respond
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    CancelIn,
    HoldIn,
    OrderIn,
    OrderOut,
    Page,
    ReturnIn,
    ReturnOut,
    ShipTo,
    SourcingTraceOut,
)
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import NotFound
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Address, Customer, Role, ServiceLevel
from omniorder.domain.order import Order
from omniorder.domain.policy import LifecyclePolicy
from omniorder.domain.states import OrderStatus
from omniorder.services import cancellation, holds, orders, supply
from omniorder.services.access import check_channel, visible_channel
from omniorder.services.geocode import resolve_ship_to
from omniorder.services.payloads import order_dict, return_dict

router = APIRouter(tags=["orders"])
OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
OrderActor = Annotated[ApiKey, Depends(require(Role.CHANNEL))]
ReturnActor = Annotated[ApiKey, Depends(require(Role.CHANNEL, Role.LOCATION))]
ACTION = render.problems(404, 409)


def _policy(request: Request) -> LifecyclePolicy:
    policy: LifecyclePolicy = request.app.state.policy
    return policy


def _point(ship_to: ShipTo | None, service_level: ServiceLevel) -> GeoPoint | None:
    """The point to route to: coordinates, or a US ZIP code (a pickup needs none)."""
    if ship_to is None:
        return None
    if service_level is not ServiceLevel.PICKUP:
        return resolve_ship_to(
            ship_to.latitude, ship_to.longitude, ship_to.postal_code, ship_to.country
        )
    if ship_to.latitude is not None and ship_to.longitude is not None:
        return GeoPoint(ship_to.latitude, ship_to.longitude)
    return None


def order_command(body: OrderIn) -> orders.PlaceOrder:
    """The capture command for a validated order body (ship-to resolved, request fingerprinted)."""
    to = body.ship_to
    address = None
    if to is not None:
        address = Address(
            name=to.name,
            company=to.company,
            address_lines=tuple(to.address_lines),
            city=to.city,
            region=to.region,
            postal_code=to.postal_code,
            country=to.country,
            phone=to.phone,
            email=to.email,
        )
    who = body.customer
    return orders.PlaceOrder(
        channel=body.channel,
        external_id=body.external_id,
        lines=tuple((ln.sku, ln.quantity) for ln in body.lines),
        line_details=tuple(
            orders.LineDetails(ln.name, ln.unit_price, tuple(ln.metadata.items()))
            for ln in body.lines
        ),
        service_level=body.service_level,
        request_hash=request_hash("POST", "/v1/orders", body),
        ship_to=_point(to, body.service_level),
        address=address,
        pickup_location_id=body.pickup_location_id,
        sourcing_profile=body.sourcing_profile,
        hold_reason=body.hold_reason,
        promise_by=body.promise_by,
        promise_id=body.promise_id,
        customer=None if who is None else Customer(who.name, who.email, who.phone),
        currency=body.currency,
        metadata=tuple(body.metadata.items()),
    )


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=201,
    responses={
        200: {"model": OrderOut, "description": "The order was captured before"},
        **render.problems(409),
    },
    summary="Capture an order exactly once per (channel, external_id), source and reserve it",
)
def post_order(
    request: Request,
    body: OrderIn,
    db: DatabaseDep,
    principal: OrderActor,
    idempotent: Idempotent,
) -> JSONResponse:
    check_channel(principal, body.channel)
    cmd = order_command(body)
    policy = _policy(request)

    def render_result(result: tuple[Order, bool]) -> tuple[int, dict[str, object]]:
        order, created = result
        return (201 if created else 200), order_dict(order)

    return respond(
        db, idempotent, lambda uow: orders.place_order(uow, cmd, policy), render_result, _count
    )


def _count(status: int, order: dict[str, Any], replayed: bool) -> None:
    """Prometheus counters, after the commit (a failed capture counts nothing, a replay counts
    as a replay)."""
    if status != 201 or replayed:
        metrics.ORDER_REPLAYS.inc()
        return
    metrics.ORDERS_CREATED.labels(order["channel"], order["status"]).inc()
    metrics.FULFILLMENTS_PER_ORDER.observe(len(order["fulfillments"]))
    if len({f["location_id"] for f in order["fulfillments"]}) > 1:
        metrics.SPLIT_ORDERS.inc()
    metrics.BACKORDERED_UNITS.inc(sum(ln["backordered"] for ln in order["lines"]))


@router.get("/orders/{order_id}", response_model=OrderOut, responses=render.problems(404))
def get_order(order_id: OrderIdPath, db: DatabaseDep, principal: OrderActor) -> JSONResponse:
    order = db.read(lambda uow: orders.get_order(uow, order_id, principal))
    return JSONResponse(order_dict(order))


@router.get("/orders", response_model=Page[OrderOut], responses=render.problems())
def list_orders(
    db: DatabaseDep,
    principal: OrderActor,
    channel: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    status: OrderStatus | None = None,
    external_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """Orders, newest first."""
    own = visible_channel(principal)
    if own is not None:
        if channel is not None and channel != own:
            check_channel(principal, channel)
        channel = own
    items, nxt = db.read(
        lambda uow: uow.orders.list_page(
            limit, cursor, channel, None if status is None else status.value, external_id
        )
    )
    return JSONResponse({"items": [order_dict(o) for o in items], "next_cursor": nxt})


@router.get(
    "/orders/{order_id}/sourcing",
    response_model=SourcingTraceOut,
    responses=render.problems(404),
    tags=["sourcing"],
    summary="The decision trace: candidates, exclusions, plans compared, plan chosen",
)
def get_sourcing(order_id: OrderIdPath, db: DatabaseDep, principal: OrderActor) -> JSONResponse:
    return JSONResponse(db.read(lambda uow: orders.sourcing_trace(uow, order_id, principal)))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses=render.problems(404, 409),
    summary="Cancel the whole order, or some units with `lines`; reservations are released",
)
def cancel_order(
    order_id: OrderIdPath,
    db: DatabaseDep,
    principal: OrderActor,
    idempotent: Idempotent,
    body: CancelIn | None = None,
) -> JSONResponse:
    lines = None
    if body is not None and body.lines is not None:
        lines = [(ln.sku, ln.quantity) for ln in body.lines]
    reason = None if body is None else body.reason
    return respond(
        db,
        idempotent,
        lambda uow: cancellation.cancel_order(uow, order_id, principal, lines, reason),
        lambda order: (200, order_dict(order)),
    )


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
    summary="Hold an order: it keeps its reservations; its fulfillments wait until release",
)
def hold(
    order_id: OrderIdPath,
    body: HoldIn,
    db: DatabaseDep,
    principal: OrderActor,
    idempotent: Idempotent,
) -> JSONResponse:
    return respond(
        db,
        idempotent,
        lambda uow: holds.hold(uow, _order_for_update(uow, order_id, principal), body.reason),
        lambda order: (200, order_dict(order)),
    )


@router.post(
    "/orders/{order_id}/release",
    response_model=OrderOut,
    responses=ACTION,
    summary="Release a held order; its timers resume and its backordered units are sourced",
)
def release(
    request: Request,
    order_id: OrderIdPath,
    db: DatabaseDep,
    principal: OrderActor,
    idempotent: Idempotent,
) -> JSONResponse:
    policy = _policy(request)
    return respond(
        db,
        idempotent,
        lambda uow: holds.release_hold(uow, _order_for_update(uow, order_id, principal), policy),
        lambda order: (200, order_dict(order)),
    )


@router.post(
    "/orders/{order_id}/returns",
    response_model=ReturnOut,
    status_code=201,
    responses=ACTION,
    summary="Units of a shipped order came back; with `restock` they go back on the shelf",
)
def post_return(
    order_id: OrderIdPath,
    body: ReturnIn,
    db: DatabaseDep,
    principal: ReturnActor,
    idempotent: Idempotent,
) -> JSONResponse:
    lines = [(ln.sku, ln.quantity) for ln in body.lines]
    return respond(
        db,
        idempotent,
        lambda uow: supply.record_return(
            uow, order_id, principal, lines, body.location_id, body.restock, body.reason
        ),
        lambda ret: (201, return_dict(ret)),
    )
