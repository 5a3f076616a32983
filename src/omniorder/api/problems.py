"""RFC 9457 problem+json: the one place errors become HTTP responses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from omniorder.api.responses import JSONResponse
from omniorder.domain.errors import FieldError, OmniorderError

log = logging.getLogger("omniorder.api")
PROBLEM_JSON = "application/problem+json"
#: How long a client waits before it tries again when the database is unreachable or busy.
RETRY_AFTER_SECONDS = "1"


def problem(
    status: int, title: str, detail: str, slug: str, errors: Sequence[FieldError] = ()
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_name(loc: Sequence[int | str]) -> str:
    """('body', 'lines', 0, 'sku') -> 'lines[0].sku'; ('query', 'limit') -> 'limit'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        loc = [
            p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))
        ]
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            errors.append(
                FieldError("body", f"invalid JSON: {err.get('ctx', {}).get('error', msg)}")
            )
            continue
        errors.append(FieldError(field_name(loc), msg.removeprefix("Value error, ")))
    return errors


def install(app: FastAPI) -> None:
    @app.exception_handler(OmniorderError)
    async def _domain(_: Request, exc: OmniorderError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.type_slug, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem(422, "Validation failed", detail, "validation", errors)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        # the retries of Database.write handle a busy database: this one is unreachable
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(503, "Service unavailable", "the database is unreachable", "unavailable")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # The framework could not read the body (not JSON, wrong encoding, …): it is
            # the request's content that is wrong, reported like any validation problem.
            errors = [FieldError("body", f"unreadable request body: {exc.detail}")]
            return problem(422, "Validation failed", errors[0].message, "validation", errors)
        titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        title = titles.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, title, str(exc.detail), title.lower().replace(" ", "-"))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "an unexpected error occurred", "internal")
