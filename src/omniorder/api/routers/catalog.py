"""Locations, products, sourcing profiles and channels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, require
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import (
    ID_PATTERN,
    ChannelIn,
    ChannelOut,
    LocationIn,
    LocationOut,
    Page,
    ProductIn,
    ProductOut,
    ProfileIn,
    ProfileOut,
    ProfileVersionOut,
)
from omniorder.db.repositories._util import decode_cursor, encode_cursor
from omniorder.db.uow import UnitOfWork
from omniorder.domain.delivery import WEEKDAYS
from omniorder.domain.model import Location, LocationType, Product, Role
from omniorder.services import catalog, payloads

router = APIRouter(tags=["catalog"])
IdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
ANY_ROLE = (Role.CHANNEL, Role.LOCATION, Role.INTEGRATION)
CATALOG_WRITERS = Depends(require(Role.INTEGRATION))
CATALOG_READERS = Depends(require(*ANY_ROLE))


@router.put(
    "/locations/{location_id}",
    response_model=LocationOut,
    responses={201: {"model": LocationOut}, **render.problems()},
    dependencies=[CATALOG_WRITERS],
    summary="Create (201) or replace (200) a location",
)
def put_location(location_id: IdPath, body: LocationIn, db: DatabaseDep) -> JSONResponse:
    data = body.model_dump()
    data["working_days"] = ",".join(sorted(set(body.working_days), key=WEEKDAYS.index))
    data["closed_dates"] = tuple(sorted(set(body.closed_dates)))
    loc = Location(id=location_id, **data)
    _, created = db.write(lambda uow: catalog.put_location(uow, loc))
    return JSONResponse(payloads.location_dict(loc), status_code=201 if created else 200)


@router.get(
    "/locations/{location_id}",
    response_model=LocationOut,
    responses=render.problems(404),
    dependencies=[CATALOG_READERS],
)
def get_location(location_id: IdPath, db: DatabaseDep) -> JSONResponse:
    loc = db.read(lambda uow: catalog.get_location(uow, location_id))
    return JSONResponse(payloads.location_dict(loc))


@router.get(
    "/locations",
    response_model=Page[LocationOut],
    responses=render.problems(),
    dependencies=[CATALOG_READERS],
)
def list_locations(
    db: DatabaseDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    type: LocationType | None = None,
    active: bool | None = None,
) -> JSONResponse:
    items, nxt = db.read(lambda uow: uow.locations.list_page(limit, cursor, type, active))
    return JSONResponse({"items": [payloads.location_dict(x) for x in items], "next_cursor": nxt})


@router.put(
    "/products/{sku}",
    response_model=ProductOut,
    responses={201: {"model": ProductOut}, **render.problems()},
    dependencies=[CATALOG_WRITERS],
    summary="Create (201) or replace (200) a product",
)
def put_product(sku: IdPath, body: ProductIn, db: DatabaseDep) -> JSONResponse:
    product = Product(sku=sku, name=body.name, weight_kg=body.weight_kg)
    _, created = db.write(lambda uow: catalog.put_product(uow, product))
    return JSONResponse(payloads.product_dict(product), status_code=201 if created else 200)


@router.get(
    "/products/{sku}",
    response_model=ProductOut,
    responses=render.problems(404),
    dependencies=[CATALOG_READERS],
)
def get_product(sku: IdPath, db: DatabaseDep) -> JSONResponse:
    return JSONResponse(payloads.product_dict(db.read(lambda uow: catalog.get_product(uow, sku))))


@router.get(
    "/products",
    response_model=Page[ProductOut],
    responses=render.problems(),
    dependencies=[CATALOG_READERS],
)
def list_products(db: DatabaseDep, limit: Limit = 50, cursor: Cursor = None) -> JSONResponse:
    items, nxt = db.read(lambda uow: uow.products.list_page(limit, cursor))
    return JSONResponse({"items": [payloads.product_dict(x) for x in items], "next_cursor": nxt})


@router.put(
    "/sourcing-profiles/{name}",
    response_model=ProfileOut,
    responses={201: {"model": ProfileOut}, **render.problems()},
    dependencies=[Depends(require())],
    tags=["sourcing"],
    summary="Store a new version of a sourcing profile",
)
def put_profile(name: IdPath, body: ProfileIn, db: DatabaseDep) -> JSONResponse:
    rules = body.model_dump(mode="json")

    def run(uow: UnitOfWork) -> tuple[dict[str, object], bool]:
        existed = uow.profiles.get(name) is not None or name in catalog.BUILT_IN_PROFILES
        profile, _ = catalog.put_profile(uow, name, rules)
        return payloads.profile_dict(profile), not existed

    data, created = db.write(run)
    return JSONResponse(data, status_code=201 if created else 200)


@router.get(
    "/sourcing-profiles/{name}",
    response_model=ProfileOut,
    responses=render.problems(404),
    dependencies=[CATALOG_READERS],
    tags=["sourcing"],
)
def get_profile(name: IdPath, db: DatabaseDep) -> JSONResponse:
    return JSONResponse(payloads.profile_dict(db.read(lambda uow: catalog.get_profile(uow, name))))


@router.get(
    "/sourcing-profiles",
    response_model=Page[ProfileOut],
    responses=render.problems(),
    dependencies=[CATALOG_READERS],
    tags=["sourcing"],
    summary="List the sourcing profiles in their current versions",
)
def list_profiles(db: DatabaseDep, limit: Limit = 50, cursor: Cursor = None) -> JSONResponse:
    """By name; the built-in `default` and `fastest` are always there."""
    after = decode_cursor(cursor, "sourcing-profiles")
    start = None if after is None else str(after[0])
    items, last = db.read(lambda uow: catalog.list_profiles(uow, limit, start))
    nxt = None if last is None else encode_cursor("sourcing-profiles", [last])
    return JSONResponse({"items": [payloads.profile_dict(p) for p in items], "next_cursor": nxt})


@router.get(
    "/sourcing-profiles/{name}/versions/{version}",
    response_model=ProfileVersionOut,
    responses=render.problems(404),
    dependencies=[CATALOG_READERS],
    tags=["sourcing"],
    summary="One version of a sourcing profile, as a sourcing trace names it",
)
def get_profile_version(
    name: IdPath, version: Annotated[int, Path(ge=0, le=2**31 - 1)], db: DatabaseDep
) -> JSONResponse:
    profile, created_at = db.read(lambda uow: catalog.profile_version(uow, name, version))
    data = {**payloads.profile_dict(profile), "created_at": created_at and created_at.isoformat()}
    return JSONResponse(data)


@router.put(
    "/channels/{channel}",
    response_model=ChannelOut,
    responses={201: {"model": ChannelOut}, **render.problems()},
    dependencies=[Depends(require())],
    tags=["sourcing"],
    summary="Create (201) or update (200) a channel: the sourcing profile of its orders",
)
def put_channel(channel: IdPath, body: ChannelIn, db: DatabaseDep) -> JSONResponse:
    found, created = db.write(lambda uow: catalog.put_channel(uow, channel, body.sourcing_profile))
    return JSONResponse(payloads.channel_dict(found), status_code=201 if created else 200)


@router.get(
    "/channels/{channel}",
    response_model=ChannelOut,
    responses=render.problems(404),
    dependencies=[CATALOG_READERS],
    tags=["sourcing"],
)
def get_channel(channel: IdPath, db: DatabaseDep) -> JSONResponse:
    return JSONResponse(
        payloads.channel_dict(db.read(lambda uow: catalog.get_channel(uow, channel)))
    )


@router.get(
    "/channels",
    response_model=Page[ChannelOut],
    responses=render.problems(),
    dependencies=[CATALOG_READERS],
    tags=["sourcing"],
)
def list_channels(db: DatabaseDep, limit: Limit = 50, cursor: Cursor = None) -> JSONResponse:
    items, nxt = db.read(lambda uow: uow.channels.list_page(limit, cursor))
    return JSONResponse({"items": [payloads.channel_dict(c) for c in items], "next_cursor": nxt})
