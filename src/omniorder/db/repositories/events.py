"""The outbox: events written in the same transaction as the change they describe.

Writers insert events without a feed position, so no writer ever waits for another's commit.
The sequencer (:meth:`EventRepository.sequence`) gives committed, not yet numbered events the
next positions, in insertion order, under a lock held only by sequencers. A transaction still
in flight is invisible to it, so its events are numbered after it commits, above every number
handed out before: a reader that has seen position N never misses an event numbered below N.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text

from omniorder.db import tables as t
from omniorder.db.clock import as_utc
from omniorder.db.repositories.base import Repository

# Any constant works; it only has to be the same for every sequencer.
SEQUENCER_LOCK_KEY = 0x6F6D6E69  # "omni"
o = t.outbox


@dataclass(frozen=True, slots=True)
class StoredEvent:
    #: The outbox row's id: stable across deliveries and retries.
    id: int
    seq: int
    type: str
    aggregate_id: str | None
    data: dict[str, Any]
    occurred_at: datetime


class EventRepository(Repository):
    def append(self, events: list[dict[str, Any]]) -> None:
        """Stage events (unnumbered) to be written with the unit of work's other inserts."""
        self.staged.add(o, [{**e, "seq": None} for e in events])

    def sequence(self) -> int:
        """Number the committed events that have no feed position yet; returns how many."""
        if self.conn.dialect.name == "postgresql":
            self.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK_KEY})
        pending = list(
            self.execute(select(o.c.id).where(o.c.seq.is_(None)).order_by(o.c.id)).scalars()
        )
        if not pending:
            return 0
        top = int(self.execute(select(func.coalesce(func.max(o.c.seq), 0))).scalar_one())
        self.execute(
            o.update().where(o.c.id == bindparam("b_id")).values(seq=bindparam("b_seq")),
            [{"b_id": event_id, "b_seq": top + i} for i, event_id in enumerate(pending, 1)],
        )
        return len(pending)

    def after(self, seq: int, limit: int, types: list[str] | None = None) -> list[StoredEvent]:
        """Numbered events after ``seq`` (run :meth:`sequence` first to include new ones)."""
        q = select(o).where(o.c.seq > seq).order_by(o.c.seq).limit(limit)
        if types:
            q = q.where(o.c.type.in_(types))
        return [_event(r) for r in self.execute(q)]


def _event(r: Any) -> StoredEvent:
    return StoredEvent(r.id, r.seq or 0, r.type, r.aggregate_id, r.data, as_utc(r.occurred_at))
