from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
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


#: What a cursor may carry: identifiers as the API accepts them, dates, and row numbers.
_TEXT = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_MAX_INT = 2**63 - 1
Key = str | int


def encode_cursor(kind: str, key: Sequence[Key]) -> str:
    """An opaque cursor: the list it belongs to and the key of the last row served."""
    raw = json.dumps([kind, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, kind: str, types: tuple[type, ...] = (str,)
) -> tuple[Any, ...] | None:
    """The key a cursor of list ``kind`` carries, checked value by value against ``types``
    before any query sees it; anything else (another list's cursor, a forged one) is a 422."""
    if not cursor:
        return None
    if len(cursor) > 512:
        raise bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.b64decode(padded.encode(), altchars=b"-_", validate=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc
    if (
        not isinstance(value, list)
        or len(value) != len(types) + 1
        or value[0] != kind
        or not all(_valid(v, tp) for v, tp in zip(value[1:], types, strict=True))
    ):
        raise bad_cursor()
    return tuple(value[1:])


def _valid(value: object, tp: type) -> bool:
    if tp is int:
        return type(value) is int and 0 <= value <= _MAX_INT
    return isinstance(value, str) and _TEXT.fullmatch(value) is not None


def bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor is not valid", [FieldError("cursor", "not a cursor returned by this API")]
    )


T = TypeVar("T")


def page(
    rows: list[T], limit: int, kind: str, key: Callable[[T], Sequence[Key]]
) -> tuple[list[T], str | None]:
    """Trim a ``limit + 1`` fetch to ``limit`` rows and build the next cursor."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(kind, key(rows[-1]))
    return rows, None
