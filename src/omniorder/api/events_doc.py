"""Every event type in the OpenAPI document, under ``webhooks``: what a subscriber receives
(``{type, timestamp, data}``, ``data`` of the type's schema). The feed's items carry the same
``type`` and ``data``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Body, FastAPI
from pydantic import BaseModel, Field, create_model

from omniorder.api.schemas.events import EVENT_TYPES


def envelope(type_: str, data: type[BaseModel]) -> type[BaseModel]:
    name = "".join(part.capitalize() for part in type_.replace(".", "_").split("_")) + "Event"
    model: type[BaseModel] = create_model(
        name,
        type=(Literal[type_], ...),  # type: ignore[arg-type]
        timestamp=(datetime, Field(description="When it happened (the event's occurred_at).")),
        data=(data, ...),
    )
    return model


def install(app: FastAPI) -> None:
    for type_, data in EVENT_TYPES.items():
        body_model = envelope(type_, data)

        def receive(body: Any = Body(...)) -> None:  # documentation only: never served
            del body

        receive.__annotations__["body"] = body_model
        app.webhooks.post(
            type_,
            summary=type_,
            description=f"`{type_}`: `data` is a `{data.__name__}`.",
            tags=["events"],
        )(receive)
