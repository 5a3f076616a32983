"""Incoming supply (purchase orders, transfers) and customer returns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, tuple_

from omniorder.db import tables as t
from omniorder.db.clock import as_utc
from omniorder.db.repositories._util import bad_cursor, decode_cursor, page
from omniorder.db.repositories.base import Repository
from omniorder.domain.model import Incoming, Return

inc = t.incoming


def _incoming(row: Any) -> Incoming:
    return Incoming(
        row.id,
        row.location_id,
        row.sku,
        row.quantity,
        row.expected_date,
        row.reference,
        row.received_quantity,
        None if row.received_at is None else as_utc(row.received_at),
        as_utc(row.created_at),
    )


class IncomingRepository(Repository):
    def expected(self, sku: str) -> list[tuple[int, date]]:
        """(quantity, expected date) of the SKU's supply not received yet, earliest first."""
        q = (
            select(inc.c.quantity, inc.c.expected_date)
            .where(inc.c.sku == sku, inc.c.received_at.is_(None))
            .order_by(inc.c.expected_date, inc.c.id)
        )
        return [(r.quantity, r.expected_date) for r in self.execute(q)]

    def open_for(self, skus: Sequence[str]) -> list[Incoming]:
        """Supply of these SKUs not received yet, earliest first."""
        q = (
            select(inc)
            .where(inc.c.sku.in_(list(skus)), inc.c.received_at.is_(None))
            .order_by(inc.c.expected_date, inc.c.id)
        )
        return [_incoming(r) for r in self.execute(q)]

    def add(self, found: Incoming) -> None:
        self.execute(
            inc.insert().values(
                id=found.id,
                location_id=found.location_id,
                sku=found.sku,
                quantity=found.quantity,
                expected_date=found.expected_date,
                reference=found.reference,
                created_at=found.created_at,
            )
        )

    def get(self, incoming_id: str, *, for_update: bool = False) -> Incoming | None:
        q = select(inc).where(inc.c.id == incoming_id)
        if for_update and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.execute(q).first()
        return None if row is None else _incoming(row)

    def mark_received(self, incoming_id: str, quantity: int, at: datetime) -> None:
        self.execute(
            inc.update()
            .where(inc.c.id == incoming_id)
            .values(received_quantity=quantity, received_at=at)
        )

    def list_page(
        self,
        limit: int,
        cursor: str | None,
        sku: str | None,
        location_ids: Sequence[str] | None,
        open_only: bool,
    ) -> tuple[list[Incoming], str | None]:
        """Expected supply, earliest first."""
        q = select(inc).order_by(inc.c.expected_date, inc.c.id).limit(limit + 1)
        after = decode_cursor(cursor, "incoming", (str, str))
        if after is not None:
            try:
                day = date.fromisoformat(after[0])
            except ValueError as exc:
                raise bad_cursor() from exc
            q = q.where(tuple_(inc.c.expected_date, inc.c.id) > tuple_(day, after[1]))
        if sku is not None:
            q = q.where(inc.c.sku == sku)
        if location_ids is not None:
            q = q.where(inc.c.location_id.in_(list(location_ids)))
        if open_only:
            q = q.where(inc.c.received_at.is_(None))
        rows = [_incoming(r) for r in self.execute(q)]
        return page(rows, limit, "incoming", lambda x: [x.expected_date.isoformat(), x.id])


class ReturnRepository(Repository):
    def add(self, ret: Return) -> None:
        self.execute(
            t.returns.insert().values(
                id=ret.id,
                order_id=ret.order_id,
                location_id=ret.location_id,
                lines=[{"sku": s, "quantity": q} for s, q in ret.lines],
                restock=ret.restock,
                reason=ret.reason,
                created_at=ret.created_at,
            )
        )
