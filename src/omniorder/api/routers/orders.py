"""Order capture, reads, the sourcing trace, cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from omniorder import metrics
from omniorder.api import render
from omniorder.api.deps import (
    DatabaseDep,
    IdempotencyKeyHeader,
    idempotency,
    request_hash,
    require,
)
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    CancelIn,
    IsoDateTime,
    OrderIn,
    OrderOut,
    Page,
    PromiseIn,
    PromiseOut,
    SourcingTraceOut,
)
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.model import Order, Role, ServiceLevel
from omniorder.domain.states import OrderStatus
from omniorder.services import orders, promises, stats
from omniorder.services.access import check_channel, visible_channel
from omniorder.services.geocode import resolve_ship_to

router = APIRouter(tags=["orders"])
OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
OrderActor = Annotated[ApiKey, Depends(require(Role.CHANNEL))]


def order_command(body: OrderIn) -> orders.PlaceOrder:
    """The capture command for a validated order body (ship-to resolved, request fingerprinted)."""
    ship_to = None
    if body.ship_to is not None and body.service_level is not ServiceLevel.PICKUP:
        ship_to = resolve_ship_to(
            body.ship_to.latitude,
            body.ship_to.longitude,
            body.ship_to.postal_code,
            body.ship_to.country,
        )
    elif body.ship_to is not None and body.ship_to.latitude is not None:
        assert body.ship_to.longitude is not None
        ship_to = resolve_ship_to(body.ship_to.latitude, body.ship_to.longitude, None, None)
    return orders.PlaceOrder(
        channel=body.channel,
        external_id=body.external_id,
        lines=tuple((ln.sku, ln.quantity) for ln in body.lines),
        service_level=body.service_level,
        request_hash=request_hash("POST", "/v1/orders", body),
        ship_to=ship_to,
        ship_to_postal_code=None if body.ship_to is None else body.ship_to.postal_code,
        ship_to_country=None if body.ship_to is None else body.ship_to.country,
        pickup_location_id=body.pickup_location_id,
        sourcing_profile=body.sourcing_profile,
        hold_reason=body.hold_reason,
        promise_by=body.promise_by,
        promise_id=body.promise_id,
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
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    check_channel(principal, body.channel)
    cmd = order_command(body)

    def render_result(result: tuple[Order, bool]) -> tuple[int, dict[str, object]]:
        order, created = result
        return (201 if created else 200), orders.order_dict(order)

    status, data = db.execute(
        lambda uow: orders.place_order(uow, cmd, request.app.state.policy),
        render_result,
        idempotency(principal, idempotency_key, "POST", request.url.path, body),
    )
    _count(status, data)
    return JSONResponse(data, status_code=status)


def _count(status: int, order: dict[str, Any]) -> None:
    """Prometheus counters, after the commit (a failed capture counts nothing)."""
    if status != 201:
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
    return JSONResponse(orders.order_dict(order))


@router.get("/orders", response_model=Page[OrderOut], responses=render.problems())
def list_orders(
    db: DatabaseDep,
    principal: OrderActor,
    channel: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] = None,
    status: OrderStatus | None = None,
    external_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
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
    return JSONResponse({"items": [orders.order_dict(o) for o in items], "next_cursor": nxt})


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
    request: Request,
    order_id: OrderIdPath,
    db: DatabaseDep,
    principal: OrderActor,
    body: CancelIn | None = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    lines = None
    if body is not None and body.lines is not None:
        lines = [(ln.sku, ln.quantity) for ln in body.lines]
    reason = None if body is None else body.reason
    status, data = db.execute(
        lambda uow: orders.cancel_order(uow, order_id, principal, lines, reason),
        lambda order: (200, orders.order_dict(order)),
        idempotency(principal, idempotency_key, "POST", request.url.path, body),
    )
    return JSONResponse(data, status_code=status)


@router.post(
    "/promises",
    response_model=PromiseOut,
    responses=render.problems(409),
    tags=["promises"],
    summary="Delivery options before checkout; with hold_seconds, the units are reserved",
)
def post_promise(body: PromiseIn, db: DatabaseDep, principal: OrderActor) -> JSONResponse:
    del principal  # any channel may ask
    ship_to = None
    if body.ship_to is not None:
        ship_to = resolve_ship_to(
            body.ship_to.latitude,
            body.ship_to.longitude,
            body.ship_to.postal_code,
            body.ship_to.country,
        )
    lines = tuple((ln.sku, ln.quantity) for ln in body.lines)
    levels = list(dict.fromkeys(body.service_levels))
    if body.hold_seconds:
        answer = db.write(
            lambda uow: promises.promise(
                uow, lines, ship_to, levels, body.hold_seconds, body.hold_option
            )
        )
    else:
        answer = db.read(lambda uow: promises.promise(uow, lines, ship_to, levels, None, None))
    return JSONResponse(answer)


StatsReader = Annotated[ApiKey, Depends(require(Role.CHANNEL, Role.INTEGRATION))]


@router.get(
    "/stats",
    responses=render.problems(),
    tags=["stats"],
    summary="KPIs over the orders captured in [from, to): splits, fill, distance, cost, on-time",
)
def get_stats(
    db: DatabaseDep,
    principal: StatsReader,
    start: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    end: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    channel: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
) -> JSONResponse:
    own = visible_channel(principal)
    if own is not None:
        check_channel(principal, channel or own)
        channel = own
    return JSONResponse(db.read(lambda uow: stats.kpis(uow, start, end, channel)))
