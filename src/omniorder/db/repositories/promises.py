"""Promises made before checkout; a held one reserves its units until it expires or an order
takes it (status held -> consumed | expired)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc
from omniorder.db.repositories.base import Repository

pr = t.promises


@dataclass(frozen=True, slots=True)
class StoredPromise:
    id: str
    status: str
    service_level: str
    lines: list[dict[str, Any]]
    #: the held option's fulfillments: [{location_id, lines: [{sku, quantity}]}]
    plan: list[dict[str, Any]]
    expires_at: datetime | None
    promised_date: date | None


class PromiseRepository(Repository):
    def add(self, promise: StoredPromise, created_at: datetime) -> None:
        self.execute(
            pr.insert().values(
                id=promise.id,
                status=promise.status,
                service_level=promise.service_level,
                lines=promise.lines,
                plan=promise.plan,
                expires_at=promise.expires_at,
                promised_date=promise.promised_date,
                created_at=created_at,
            )
        )

    def get_for_update(self, promise_id: str) -> StoredPromise | None:
        q = select(pr).where(pr.c.id == promise_id)
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.execute(q).first()
        if row is None:
            return None
        return StoredPromise(
            row.id,
            row.status,
            row.service_level,
            list(row.lines),
            list(row.plan),
            None if row.expires_at is None else as_utc(row.expires_at),
            row.promised_date,
        )

    def consume(self, promise_id: str, order_id: str) -> None:
        self.execute(
            pr.update().where(pr.c.id == promise_id).values(status="consumed", order_id=order_id)
        )

    def any_due(self, now: datetime) -> bool:
        q = select(pr.c.id).where(pr.c.status == "held", pr.c.expires_at <= now).limit(1)
        return self.execute(q).first() is not None

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, list[dict[str, Any]]]]:
        """(id, plan) of held promises past their expiry, marked expired now (on PostgreSQL,
        rows another worker holds are skipped)."""
        q = (
            select(pr.c.id, pr.c.plan)
            .where(pr.c.status == "held", pr.c.expires_at <= now)
            .order_by(pr.c.expires_at)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = [(r.id, list(r.plan)) for r in self.execute(q)]
        if rows:
            ids = [promise_id for promise_id, _ in rows]
            self.execute(pr.update().where(pr.c.id.in_(ids)).values(status="expired"))
        return rows

    def held_units(self) -> int:
        """Units reserved by held promises."""
        plans = self.execute(select(pr.c.plan).where(pr.c.status == "held")).scalars()
        return sum(int(ln["quantity"]) for plan in plans for f in plan for ln in f["lines"])
