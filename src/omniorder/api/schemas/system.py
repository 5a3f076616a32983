"""Events and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from omniorder.api.schemas.common import Identifier, Input
from omniorder.domain.model import Role


# -- events, keys --------------------------------------------------------------------------
class EventOut(BaseModel):
    id: str = Field(description="evt_…: the same on every delivery of the event.")
    seq: int = Field(description="Its place in commit order: gap-free, strictly increasing.")
    type: str = Field(description="One of the event types listed under `webhooks`.")
    occurred_at: datetime
    data: dict[str, Any] = Field(description="The schema of its type (see `webhooks`).")


class EventsOut(BaseModel):
    items: list[EventOut]
    next_after: int


class ApiKeyIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Role
    location_ids: list[Identifier] | None = Field(default=None, max_length=10_000)
    channel: Identifier | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    channel: str | None
    location_ids: list[str] | None
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="Shown once; store it now.")
