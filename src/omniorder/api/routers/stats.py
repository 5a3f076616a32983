"""KPIs over the orders captured in a period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omniorder.api import render
from omniorder.api.deps import DatabaseDep, require
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import ID_PATTERN, IsoDateTime
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.model import Role
from omniorder.services import stats
from omniorder.services.access import check_channel, visible_channel

router = APIRouter(tags=["stats"])
StatsReader = Annotated[ApiKey, Depends(require(Role.CHANNEL, Role.INTEGRATION))]


@router.get(
    "/stats",
    responses=render.problems(),
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
