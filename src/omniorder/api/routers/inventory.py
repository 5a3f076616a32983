"""Inventory positions, snapshots, adjustments, the ledger and availability."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, Idempotent, require, respond
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    AdjustmentIn,
    AvailabilityOut,
    IncomingIn,
    IncomingOut,
    LedgerEntryOut,
    Page,
    PositionIn,
    PositionOut,
    ReceiveIn,
    SnapshotIn,
    SnapshotOut,
)
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import FieldError, NotFound, ValidationFailed
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Role
from omniorder.services import inventory, payloads, supply
from omniorder.services.access import check_location, visible_locations
from omniorder.services.payloads import incoming_dict

router = APIRouter(tags=["inventory"])
IdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
StockWriter = Annotated[ApiKey, Depends(require(Role.INTEGRATION, Role.LOCATION))]
StockReader = Annotated[ApiKey, Depends(require(Role.INTEGRATION, Role.LOCATION))]


@router.put(
    "/inventory/{location_id}/{sku}",
    response_model=PositionOut,
    responses=render.problems(),
    summary="Set the on-hand count (and safety stock) of one position",
)
def put_position(
    location_id: IdPath, sku: IdPath, body: PositionIn, db: DatabaseDep, principal: StockWriter
) -> JSONResponse:
    check_location(principal, [location_id])
    pos = db.write(
        lambda uow: inventory.put_position(uow, location_id, sku, body.on_hand, body.safety_stock)
    )
    return JSONResponse(payloads.position_dict(pos))


@router.get(
    "/inventory/{location_id}/{sku}",
    response_model=PositionOut,
    responses=render.problems(404),
)
def get_position(
    location_id: IdPath, sku: IdPath, db: DatabaseDep, principal: StockReader
) -> JSONResponse:
    check_location(principal, [location_id])
    pos = db.read(lambda uow: uow.stock.get(location_id, sku))
    if pos is None:
        raise NotFound(f"no stock position for '{sku}' at '{location_id}'")
    return JSONResponse(payloads.position_dict(pos))


@router.get(
    "/inventory/{location_id}/{sku}/ledger",
    response_model=Page[LedgerEntryOut],
    responses=render.problems(),
    summary="Every change to on_hand and reserved of one position, oldest first",
)
def get_ledger(
    location_id: IdPath,
    sku: IdPath,
    db: DatabaseDep,
    principal: StockReader,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    check_location(principal, [location_id])
    items, nxt = db.read(lambda uow: uow.stock.ledger(location_id, sku, limit, cursor))
    return JSONResponse(
        {"items": [payloads.ledger_entry_dict(e) for e in items], "next_cursor": nxt}
    )


@router.get("/inventory", response_model=Page[PositionOut], responses=render.problems())
def list_positions(
    db: DatabaseDep,
    principal: StockReader,
    sku: IdQuery = None,
    location_id: IdQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    scope = visible_locations(principal)
    if location_id is not None:
        check_location(principal, [location_id])
        scope = (location_id,)
    items, nxt = db.read(lambda uow: uow.stock.list_page(limit, cursor, sku, scope))
    return JSONResponse({"items": [payloads.position_dict(p) for p in items], "next_cursor": nxt})


@router.post(
    "/inventory/snapshots",
    response_model=SnapshotOut,
    responses=render.problems(409),
    summary="Apply up to 10,000 positions atomically; stale sequences are refused (409)",
)
def post_snapshot(
    body: SnapshotIn,
    db: DatabaseDep,
    principal: StockWriter,
    idempotent: Idempotent,
) -> JSONResponse:
    locs = {i.location_id for i in body.items} | ({body.location_id} if body.location_id else set())
    check_location(principal, locs)
    rows = [
        inventory.SnapshotRow(i.location_id, i.sku, i.on_hand, i.safety_stock) for i in body.items
    ]

    def action(uow: UnitOfWork) -> inventory.SnapshotResult:
        full = body.location_id if body.mode == "full" else None
        return inventory.apply_snapshot(uow, rows, body.sequence, full)

    return respond(
        db,
        idempotent,
        action,
        lambda r: (200, payloads.snapshot_dict(r)),
    )


@router.post(
    "/inventory/adjustments",
    response_model=PositionOut,
    responses=render.problems(409),
    summary="Change on_hand by a delta (receipt, damage, count correction)",
)
def post_adjustment(
    body: AdjustmentIn,
    db: DatabaseDep,
    principal: StockWriter,
    idempotent: Idempotent,
) -> JSONResponse:
    check_location(principal, [body.location_id])
    return respond(
        db,
        idempotent,
        lambda uow: inventory.adjust(uow, body.location_id, body.sku, body.delta, body.reason),
        lambda pos: (200, payloads.position_dict(pos)),
    )


@router.get(
    "/availability",
    response_model=AvailabilityOut,
    responses=render.problems(),
    dependencies=[Depends(require(Role.CHANNEL, Role.INTEGRATION))],
    summary="Available units per SKU and location, nearest first when a point is given",
)
def get_availability(
    db: DatabaseDep,
    sku: Annotated[list[str], Query(min_length=1, max_length=100)],
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> JSONResponse:
    bad = [
        FieldError(f"sku[{i}]", "not a valid SKU")
        for i, s in enumerate(sku)
        if not re.fullmatch(ID_PATTERN, s)
    ]
    if (latitude is None) != (longitude is None):
        bad.append(FieldError("latitude", "give both latitude and longitude"))
    if bad:
        raise ValidationFailed("invalid availability query", bad)
    point = None if latitude is None or longitude is None else GeoPoint(latitude, longitude)
    result = db.read(lambda uow: inventory.availability(uow, sku, point))
    return JSONResponse({"items": [payloads.availability_dict(a) for a in result]})


@router.post(
    "/inventory/incoming",
    response_model=IncomingOut,
    status_code=201,
    responses=render.problems(409),
    summary="Supply on its way (purchase order, transfer); received with .../receive",
)
def post_incoming(
    body: IncomingIn, db: DatabaseDep, principal: StockWriter, idempotent: Idempotent
) -> JSONResponse:
    return respond(
        db,
        idempotent,
        lambda uow: supply.expect(
            uow,
            principal,
            body.location_id,
            body.sku,
            body.quantity,
            body.expected_date,
            body.reference,
        ),
        lambda found: (201, incoming_dict(found)),
    )


@router.post(
    "/inventory/incoming/{incoming_id}/receive",
    response_model=IncomingOut,
    responses=render.problems(404, 409),
    summary="The supply arrived: on_hand grows and waiting backorders are sourced",
)
def receive_incoming(
    incoming_id: IdPath,
    db: DatabaseDep,
    principal: StockWriter,
    idempotent: Idempotent,
    body: ReceiveIn | None = None,
) -> JSONResponse:
    quantity = None if body is None else body.quantity
    return respond(
        db,
        idempotent,
        lambda uow: supply.receive(uow, principal, incoming_id, quantity),
        lambda found: (200, incoming_dict(found)),
    )


@router.get("/inventory/incoming", response_model=Page[IncomingOut], responses=render.problems())
def list_incoming(
    db: DatabaseDep,
    principal: StockReader,
    sku: IdQuery = None,
    location_id: IdQuery = None,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """Expected supply, earliest first (`open=false` includes what was received)."""
    items, nxt = db.read(
        lambda uow: supply.list_incoming(uow, principal, sku, location_id, open_only, limit, cursor)
    )
    return JSONResponse({"items": [incoming_dict(x) for x in items], "next_cursor": nxt})
