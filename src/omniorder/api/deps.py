"""Dependencies: the database, the calling key and its role, idempotency keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from omniorder.api.responses import JSONResponse
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import FieldError, Forbidden, ValidationFailed
from omniorder.domain.model import Role
from omniorder.services.database import Database, Idempotency
from omniorder.services.keys import Authenticator

R = TypeVar("R")
bearer = HTTPBearer(auto_error=False, description="An omniorder API key.")


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, a hop that costs more than the dependency itself on every request.


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DatabaseDep = Annotated[Database, Depends(get_db)]


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not know is refused: `?staus=…` would otherwise
    silently list everything."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _QUERY_NAMES.get(id(route))
    if known is None:
        known = _QUERY_NAMES[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ValidationFailed(
            "unknown query parameter(s)",
            [FieldError(name, "unknown query parameter") for name in unknown],
        )


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The calling key: from the authenticator's cache when it can answer, else looked up in
    the database in the thread pool."""
    auth: Authenticator = request.app.state.authenticator
    secret = None if credentials is None else credentials.credentials
    cached = auth.cached(secret)
    return cached if cached is not None else await run_in_threadpool(auth.authenticate, secret)


def require(*roles: Role) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency admitting admin keys and keys of the given roles."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def dependency(principal: Annotated[ApiKey, Depends(get_principal)]) -> ApiKey:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"role '{principal.role.value}' may not do this (needs {names})")
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Same key and same body replay the first answer (nothing is done twice); "
        "same key with another body is a 409. Keys are scoped to the API key.",
        max_length=255,
    ),
]


def request_hash(method: str, path: str, body: BaseModel | None) -> str:
    payload: Any = None if body is None else body.model_dump(mode="json")
    return _fingerprint(method, path, payload)


def _fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def idempotency(
    request: Request,
    principal: Annotated[ApiKey, Depends(get_principal)],
    key: IdempotencyKeyHeader = None,
) -> Idempotency | None:
    """The ``Idempotency-Key`` of a writing request, with the fingerprint of what it asks
    (method, path and the body's JSON, key order aside): every creating POST takes it."""
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed(
            "invalid Idempotency-Key",
            [FieldError("Idempotency-Key", "1 to 255 printable characters")],
        )
    raw = await request.body()
    try:
        payload: Any = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode("utf-8", "replace")  # the route refuses it anyway
    return Idempotency(principal.id, key, _fingerprint(request.method, request.url.path, payload))


Idempotent = Annotated[Idempotency | None, Depends(idempotency)]


def respond(
    db: Database,
    idempotent: Idempotency | None,
    action: Callable[[UnitOfWork], R],
    render: Callable[[R], tuple[int, Any]],
    committed: Callable[[int, Any, bool], None] | None = None,
) -> JSONResponse:
    """Run a writing action in one transaction, exactly once per idempotency key, and answer
    what ``render`` makes of its result (or the stored answer of the first request);
    ``committed`` hears of the answer, and whether it was replayed, once it is committed."""
    status, body, replayed = db.execute(action, render, idempotent)
    if committed is not None:
        committed(status, body, replayed)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)
