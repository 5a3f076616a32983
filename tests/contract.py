"""Checks of answers and events against the schemas the application declares: every response
a test receives is validated against its route's declared model for that status, and every
event's data against its type's schema; a key the schema does not declare fails too."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omniorder.api.schemas import Problem
from omniorder.api.schemas.events import EVENT_TYPES

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]


def undeclared(data: Any, dumped: Any, where: str = "") -> list[str]:
    """Keys of ``data`` that the validated-and-dumped copy does not have (not in the schema)."""
    if isinstance(data, dict) and isinstance(dumped, dict):
        out = [f"{where}.{k}".lstrip(".") for k in data if k not in dumped]
        for k, v in data.items():
            if k in dumped:
                out += undeclared(v, dumped[k], f"{where}.{k}")
        return out
    if isinstance(data, list) and isinstance(dumped, list):
        pairs = enumerate(zip(data, dumped, strict=False))
        return [x for i, (a, b) in pairs for x in undeclared(a, b, f"{where}[{i}]")]
    return []


def conforms(model: Any, data: Any, what: str) -> None:
    adapter = _adapter(model)
    value = adapter.validate_python(data)
    extra = undeclared(data, adapter.dump_python(value, mode="json", by_alias=True))
    assert not extra, f"{what}: keys not in {getattr(model, '__name__', model)}: {extra}"


class RouteRecorder:
    """Test-only ASGI middleware: remembers which route answered each request the client
    tagged, so the client can check the answer against that route's declarations."""

    HEADER = "x-contract-check"

    def __init__(self, app: ASGIApp, routes: dict[str, Any]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tag = dict(scope.get("headers", [])).get(self.HEADER.encode())

        async def recording(message: Message) -> None:
            # before the answer leaves: the client may look for the route at once
            if tag is not None and message["type"] == "http.response.start":
                self.routes[tag.decode()] = scope.get("route")
            await send(message)

        await self.app(scope, receive, recording)


def record_routes(app: FastAPI) -> dict[str, Any]:
    """Before ``app`` starts: have it remember the route that answers each tagged request."""
    routes: dict[str, Any] = {}
    app.add_middleware(RouteRecorder, routes=routes)
    return routes


def check_answers(client: httpx.Client, routes: dict[str, Any]) -> None:
    """Check every answer ``client`` gets against what its route declares."""
    tags = itertools.count()

    def tag(request: httpx.Request) -> None:
        request.headers[RouteRecorder.HEADER] = str(next(tags))

    def check(response: httpx.Response) -> None:
        route = routes.pop(response.request.headers[RouteRecorder.HEADER], None)
        if isinstance(route, APIRoute):
            check_response(route, response)

    client.event_hooks = {"request": [tag], "response": [check]}


def check_response(route: APIRoute, response: httpx.Response) -> None:
    """The answer matches what its route declares for its status (problems included)."""
    request = response.request
    status = response.status_code
    what = f"{request.method} {request.url.path} -> {status}"
    documented = set(route.responses) | {route.status_code or 200}
    assert status in documented or str(status) in documented, f"{what}: status not documented"
    response.read()
    ctype = response.headers.get("content-type", "")
    if ctype.startswith("application/problem+json"):
        conforms(Problem, response.json(), what)
        return
    declared = route.responses.get(status, {}).get("model")
    model = declared or (route.response_model if status == (route.status_code or 200) else None)
    if model is not None and ctype.startswith("application/json"):
        conforms(model, response.json(), what)


def check_event(event: dict[str, Any]) -> None:
    model: type[BaseModel] | None = EVENT_TYPES.get(event["type"])
    assert model is not None, f"event type {event['type']} is not declared"
    conforms(model, event["data"], f"event {event['seq']} {event['type']}")
