"""The outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from omniorder.db import tables as t
from omniorder.db.clock import as_utc

# Any constant works; it only has to be the same for every writer of the outbox.
OUTBOX_LOCK_KEY = 0x6F6D6E69  # "omni"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    type: str
    aggregate_id: str | None
    data: dict[str, Any]
    occurred_at: datetime


class EventRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, events: list[dict[str, Any]]) -> None:
        """Insert events. On PostgreSQL a transaction-scoped advisory lock serialises writers
        from here to commit, so sequence order is commit order and a reader of ``after=N``
        never skips an event that commits later with a smaller number. SQLite writers are
        serialised by the database lock already."""
        if not events:
            return
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK_KEY})
        self.conn.execute(t.outbox.insert(), events)

    def after(self, seq: int, limit: int, types: list[str] | None = None) -> list[StoredEvent]:
        o = t.outbox
        q = select(o).where(o.c.seq > seq).order_by(o.c.seq).limit(limit)
        if types:
            q = q.where(o.c.type.in_(types))
        return [
            StoredEvent(r.seq, r.type, r.aggregate_id, r.data, as_utc(r.occurred_at))
            for r in self.conn.execute(q)
        ]

    def for_aggregate(self, aggregate_id: str) -> list[StoredEvent]:
        o = t.outbox
        q = select(o).where(o.c.aggregate_id == aggregate_id).order_by(o.c.seq)
        return [
            StoredEvent(r.seq, r.type, r.aggregate_id, r.data, as_utc(r.occurred_at))
            for r in self.conn.execute(q)
        ]

    def last_seq(self) -> int:
        return int(
            self.conn.execute(select(func.coalesce(func.max(t.outbox.c.seq), 0))).scalar_one()
        )
