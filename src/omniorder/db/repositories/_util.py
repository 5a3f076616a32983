from __future__ import annotations

import base64
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from omniorder.domain.errors import FieldError, ValidationFailed


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT … ON CONFLICT builder for the connection's dialect."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(dialect)  # pragma: no cover


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc
    if not value or not value.isprintable():
        raise bad_cursor()
    return value


def bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor is not valid", [FieldError("cursor", "not a cursor returned by this API")]
    )


T = TypeVar("T")


def page(rows: list[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Trim a ``limit + 1`` fetch to ``limit`` rows and build the next cursor."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(str(key(rows[-1])))
    return rows, None
