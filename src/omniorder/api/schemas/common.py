"""Shared pieces of the request and response bodies: identifiers, numbers, times, problems,
pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from omniorder.domain.model import MAX_STOCK

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
Identifier = Annotated[
    str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=64, strict=True)
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]
Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False, strict=True)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
StockCount = Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

T = TypeVar("T")


class Input(BaseModel):
    """Request bodies. Scalars use strict types: "0" is not 0 and 0 is not false."""


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


class FieldProblem(BaseModel):
    field: str
    message: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _iso_text(value: object) -> object:
    """Dates come as ISO text ('2026-12-01'), not numbers (which pydantic would read as a
    Unix time)."""
    if not isinstance(value, str):
        raise ValueError("a date as text, YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]


def _iso_datetime(value: object) -> object:
    """Times come as ISO 8601 text with an offset ('2026-11-23T10:00:00Z'), not numbers."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 time, e.g. 2026-11-23T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError("an ISO 8601 time, e.g. 2026-11-23T10:00:00Z") from exc
    if parsed.tzinfo is None:
        raise ValueError("a time needs an offset, e.g. Z or +02:00")
    return parsed


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


Note = Annotated[str, StringConstraints(max_length=500)]

Problem.model_rebuild()
