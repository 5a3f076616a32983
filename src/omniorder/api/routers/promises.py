"""Promises before checkout: delivery options, and units held for one of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, Idempotent, require, respond
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import PromiseIn, PromiseOut
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.model import Role
from omniorder.services import promises
from omniorder.services.geocode import resolve_ship_to

router = APIRouter(tags=["promises"])


@router.post(
    "/promises",
    response_model=PromiseOut,
    responses=render.problems(409),
    summary="Delivery options before checkout; with hold_seconds, the units are reserved",
)
def post_promise(
    body: PromiseIn,
    db: DatabaseDep,
    principal: Annotated[ApiKey, Depends(require(Role.CHANNEL))],
    idempotent: Idempotent,
) -> JSONResponse:
    """With an `Idempotency-Key` the answer is stored under it: a replay answers the same
    promise and holds nothing more."""
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
    if not body.hold_seconds and idempotent is None:
        answer = db.read(lambda uow: promises.promise(uow, lines, ship_to, levels, None, None))
        return JSONResponse(answer)
    return respond(
        db,
        idempotent,
        lambda uow: promises.promise(
            uow, lines, ship_to, levels, body.hold_seconds, body.hold_option
        ),
        lambda answer: (200, answer),
    )
