"""Events feed, API keys, health, readiness and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import StringConstraints

from omniorder import metrics
from omniorder.api import render
from omniorder.api.deps import DatabaseDep, Idempotent, require, respond
from omniorder.api.problems import RETRY_AFTER_SECONDS
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, EventsOut, Page
from omniorder.db.admin import ping
from omniorder.db.migrate import is_up_to_date
from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.model import Role
from omniorder.services import keys, payloads
from omniorder.services.events import feed as event_feed

router = APIRouter()
ops = APIRouter(tags=["operations"])
RETRY = {"Retry-After": RETRY_AFTER_SECONDS}


@router.get(
    "/events",
    response_model=EventsOut,
    responses=render.problems(),
    dependencies=[Depends(require(Role.INTEGRATION))],
    tags=["events"],
    summary="Events after a sequence number, oldest first; poll with next_after",
)
def list_events(
    db: DatabaseDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    type: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_.]{0,59}$")]] | None,
        Query(max_length=50, description="Only events of these types, e.g. order.created."),
    ] = None,
) -> JSONResponse:
    events = event_feed(db, after, limit, type)
    return JSONResponse(
        {
            "items": [payloads.event_dict(e) for e in events],
            "next_after": events[-1].seq if events else after,
        }
    )


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=201,
    responses=render.problems(409),
    tags=["keys"],
    summary="Create an API key; the secret is shown once",
)
def create_key(
    body: ApiKeyIn,
    db: DatabaseDep,
    principal: Annotated[ApiKey, Depends(require())],
    idempotent: Idempotent,
) -> JSONResponse:
    del principal  # admins only

    def render_key(new: keys.NewKey) -> tuple[int, dict[str, object]]:
        return 201, {**payloads.api_key_dict(new.key), "secret": new.secret}

    return respond(
        db,
        idempotent,
        lambda uow: keys.create_key(uow, body.name, body.role, body.channel, body.location_ids),
        render_key,
    )


@router.get(
    "/api-keys",
    response_model=Page[ApiKeyOut],
    responses=render.problems(),
    dependencies=[Depends(require())],
    tags=["keys"],
    summary="API keys, by id (never their secrets)",
)
def list_keys(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JSONResponse:
    items, nxt = db.read(lambda uow: uow.keys.list_page(limit, cursor))
    return JSONResponse({"items": [payloads.api_key_dict(k) for k in items], "next_cursor": nxt})


@ops.get("/healthz", summary="The process is up (answered on the event loop, never queued)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@ops.get("/readyz", summary="The database is reachable and migrated", responses={503: {}})
def readyz(db: DatabaseDep) -> JSONResponse:
    try:
        ping(db.engine)
        migrated = is_up_to_date(db.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "detail": type(exc).__name__}, 503, headers=RETRY
        )
    if not migrated:
        return JSONResponse(
            {"status": "unavailable", "detail": "database not migrated"}, 503, headers=RETRY
        )
    return JSONResponse({"status": "ok"})


@ops.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def prometheus() -> Response:
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
