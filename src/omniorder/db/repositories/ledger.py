"""The append-only ledger: one row per change to a position's on_hand or reserved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc
from omniorder.db.repositories._util import decode_cursor, page

lg = t.ledger


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    location_id: str
    sku: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    reference: str | None
    created_at: datetime


def ledger_row(
    location_id: str,
    sku: str,
    on_hand_delta: int,
    reserved_delta: int,
    after: Any,
    reason: str,
    reference: str | None,
) -> dict[str, Any]:
    """A ledger row for a change; ``after`` has the position's on_hand and reserved after it."""
    return {
        "location_id": location_id,
        "sku": sku,
        "on_hand_delta": on_hand_delta,
        "reserved_delta": reserved_delta,
        "on_hand_after": after.on_hand,
        "reserved_after": after.reserved,
        "reason": reason,
        "reference": reference,
    }


def read_ledger(
    execute: Callable[[Any], Any], location_id: str, sku: str, limit: int, cursor: str | None
) -> tuple[list[LedgerEntry], str | None]:
    """A position's changes, oldest first."""
    q = (
        select(lg)
        .where(lg.c.location_id == location_id, lg.c.sku == sku)
        .order_by(lg.c.id)
        .limit(limit + 1)
    )
    after = decode_cursor(cursor, "ledger", (int,))
    if after is not None:
        q = q.where(lg.c.id > after[0])
    rows = [
        LedgerEntry(
            r.id,
            r.location_id,
            r.sku,
            r.on_hand_delta,
            r.reserved_delta,
            r.on_hand_after,
            r.reserved_after,
            r.reason,
            r.reference,
            as_utc(r.created_at),
        )
        for r in execute(q)
    ]
    return page(rows, limit, "ledger", lambda e: [e.id])
