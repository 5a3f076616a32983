"""Orders, their lines, fulfillments and sourcing traces."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_

from omniorder.db import tables as t
from omniorder.db.clock import as_utc, utcnow
from omniorder.db.repositories._util import decode_cursor, page
from omniorder.db.repositories.base import Repository
from omniorder.db.repositories.order_rows import (
    fulfillment_from_row,
    fulfillment_row,
    line_from_row,
    line_rows,
    order_from_row,
    order_row,
    rejected_json,
)
from omniorder.domain.fulfillment import Fulfillment, FulfillmentLine
from omniorder.domain.order import Order, OrderLine
from omniorder.domain.states import HOLDING_STATES, UNPICKED_STATES

# Hot-path statements, built once: each call then only binds values.
_BY_EXTERNAL_ID = select(t.orders.c.id, t.orders.c.request_hash).where(
    t.orders.c.channel == bindparam("b_channel"),
    t.orders.c.external_id == bindparam("b_external_id"),
)


class OrderRepository(Repository):
    """New orders, fulfillments and traces are staged (written together at commit, or before
    any other statement of the transaction: see db/staging.py)."""

    # -- reads -------------------------------------------------------------------------------
    def find_by_external_id(self, channel: str, external_id: str) -> tuple[str, str] | None:
        """(order id, request hash) of the order a channel captured under ``external_id``."""
        row = self.execute(
            _BY_EXTERNAL_ID, {"b_channel": channel, "b_external_id": external_id}
        ).first()
        return None if row is None else (row.id, row.request_hash)

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        q = select(t.orders).where(t.orders.c.id == order_id)
        if for_update and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.execute(q).first()
        if row is None:
            return None
        return self._hydrate([row])[0]

    def list_page(
        self,
        limit: int,
        cursor: str | None,
        channel: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> tuple[list[Order], str | None]:
        o = t.orders
        q = select(o).order_by(o.c.id.desc()).limit(limit + 1)
        before = decode_cursor(cursor, "orders")
        if before is not None:
            q = q.where(o.c.id < before[0])
        if channel is not None:
            q = q.where(o.c.channel == channel)
        if status is not None:
            q = q.where(o.c.status == status)
        if external_id is not None:
            q = q.where(o.c.external_id == external_id)
        rows = list(self.execute(q))
        rows, next_cursor = page(rows, limit, "orders", lambda r: [r.id])
        return self._hydrate(rows), next_cursor

    def _hydrate(self, rows: Sequence[Any]) -> list[Order]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        lines: dict[str, list[OrderLine]] = defaultdict(list)
        ql = select(t.order_lines).where(t.order_lines.c.order_id.in_(ids))
        for ln in self.execute(ql.order_by(t.order_lines.c.order_id, t.order_lines.c.line_no)):
            lines[ln.order_id].append(line_from_row(ln))
        fuls = self.fulfillments_of(ids)
        return [order_from_row(r, lines[r.id], fuls.get(r.id, [])) for r in rows]

    def fulfillments_of(self, order_ids: Sequence[str]) -> dict[str, list[Fulfillment]]:
        f, fl = t.fulfillments, t.fulfillment_lines
        q = select(f).where(f.c.order_id.in_(list(order_ids))).order_by(f.c.order_id, f.c.id)
        frows = list(self.execute(q))
        flines: dict[str, list[FulfillmentLine]] = defaultdict(list)
        if frows:
            qfl = (
                select(fl)
                .where(fl.c.fulfillment_id.in_([r.id for r in frows]))
                .order_by(fl.c.fulfillment_id, fl.c.sku)
            )
            for ln in self.execute(qfl):
                if ln.quantity > 0:
                    flines[ln.fulfillment_id].append(FulfillmentLine(ln.sku, ln.quantity))
        out: dict[str, list[Fulfillment]] = defaultdict(list)
        for r in frows:
            out[r.order_id].append(fulfillment_from_row(r, flines[r.id]))
        return out

    def order_of_fulfillment(self, fulfillment_id: str) -> str | None:
        f = t.fulfillments
        q = select(f.c.order_id).where(f.c.id == fulfillment_id)
        return self.execute(q).scalar_one_or_none()

    def fulfillment(self, fulfillment_id: str) -> Fulfillment | None:
        order_id = self.order_of_fulfillment(fulfillment_id)
        if order_id is None:
            return None
        found = self.fulfillments_of([order_id]).get(order_id, [])
        return next((x for x in found if x.id == fulfillment_id), None)

    def list_fulfillments(
        self,
        limit: int,
        cursor: str | None,
        location_ids: Sequence[str] | None = None,
        state: str | None = None,
        include_held: bool = True,
    ) -> tuple[list[tuple[Order, Fulfillment]], str | None]:
        """Fulfillments oldest first (a location's work queue), each with its order, optionally
        of some locations, in one state, and leaving out those of orders on hold."""
        f, o = t.fulfillments, t.orders
        q = select(f.c.id, f.c.order_id).order_by(f.c.id).limit(limit + 1)
        after = decode_cursor(cursor, "fulfillments")
        if after is not None:
            q = q.where(f.c.id > after[0])
        if location_ids is not None:
            q = q.where(f.c.location_id.in_(list(location_ids)))
        if state is not None:
            q = q.where(f.c.state == state)
        if not include_held:
            q = q.join(o, o.c.id == f.c.order_id).where(o.c.hold_reason.is_(None))
        rows, nxt = page(list(self.execute(q)), limit, "fulfillments", lambda r: [r.id])
        orders = self.get_many(sorted({r.order_id for r in rows}))
        return [(orders[r.order_id], orders[r.order_id].fulfillment(r.id)) for r in rows], nxt

    def get_many(self, order_ids: Sequence[str]) -> dict[str, Order]:
        if not order_ids:
            return {}
        q = select(t.orders).where(t.orders.c.id.in_(list(order_ids)))
        return {o.id: o for o in self._hydrate(list(self.execute(q)))}

    def holding(self, location_id: str, sku: str) -> list[tuple[str, str]]:
        """(order id, fulfillment id) of the fulfillments at a location that hold units of
        ``sku`` and are not picked yet, newest order first: the ones a shortage takes from."""
        f, fl, o = t.fulfillments, t.fulfillment_lines, t.orders
        q = (
            select(o.c.id, f.c.id.label("fulfillment_id"))
            .select_from(f.join(fl, fl.c.fulfillment_id == f.c.id).join(o, o.c.id == f.c.order_id))
            .where(
                f.c.location_id == location_id,
                fl.c.sku == sku,
                fl.c.quantity > 0,
                f.c.state.in_(UNPICKED_STATES),
            )
            .order_by(o.c.created_at.desc(), o.c.id.desc(), f.c.id.desc())
        )
        return [(r.id, r.fulfillment_id) for r in self.execute(q)]

    def backordered_before(self, sku: str, created_at: datetime, order_id: str) -> int:
        """Units of ``sku`` backordered by orders captured before this one (not on hold):
        the ones incoming supply serves first."""
        o, ol = t.orders, t.order_lines
        q = (
            select(func.coalesce(func.sum(ol.c.backordered), 0))
            .select_from(ol.join(o, o.c.id == ol.c.order_id))
            .where(
                ol.c.sku == sku,
                ol.c.backordered > 0,
                o.c.hold_reason.is_(None),
                tuple_(o.c.created_at, o.c.id)
                < tuple_(
                    bindparam("b_at", type_=o.c.created_at.type),
                    bindparam("b_id", type_=o.c.id.type),
                ),
            )
        )
        return int(self.execute(q, {"b_at": created_at, "b_id": order_id}).scalar_one())

    def count_by_status(self) -> dict[str, int]:
        q = select(t.orders.c.status, func.count()).group_by(t.orders.c.status)
        return {str(r[0]): int(r[1]) for r in self.execute(q)}

    def next_trace_round(self, order_id: str) -> int:
        st = t.sourcing_traces
        q = select(func.coalesce(func.max(st.c.round), 0)).where(st.c.order_id == order_id)
        return int(self.execute(q).scalar_one()) + 1

    def backordered(self, skus: Sequence[str], limit: int) -> list[str]:
        """Ids of orders waiting for any of these SKUs, oldest first, not on hold."""
        o, ol = t.orders, t.order_lines
        q = (
            select(o.c.id, o.c.created_at)
            .join(ol, ol.c.order_id == o.c.id)
            .where(ol.c.sku.in_(list(skus)), ol.c.backordered > 0, o.c.hold_reason.is_(None))
            .group_by(o.c.id, o.c.created_at)
            .order_by(o.c.created_at, o.c.id)
            .limit(limit)
        )
        return [r.id for r in self.execute(q)]

    def due_timers(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(fulfillment id, kind) of due timers, earliest first: 'accept' for a pending
        fulfillment past its accept_by, 'pickup' for a pickup past its expires_at."""
        f, o = t.fulfillments, t.orders
        live = f.join(o, o.c.id == f.c.order_id)
        accept = (
            select(f.c.id, f.c.accept_by.label("due"))
            .select_from(live)
            .where(f.c.state == "pending", f.c.accept_by <= now, o.c.hold_reason.is_(None))
            .order_by(f.c.accept_by)
            .limit(limit)
        )
        pickup = (
            select(f.c.id, f.c.expires_at.label("due"))
            .select_from(live)
            .where(
                f.c.state == "ready_for_pickup", f.c.expires_at <= now, o.c.hold_reason.is_(None)
            )
            .order_by(f.c.expires_at)
            .limit(limit)
        )
        due = [(as_utc(r.due), r.id, "accept") for r in self.execute(accept)]
        due += [(as_utc(r.due), r.id, "pickup") for r in self.execute(pickup)]
        return [(fid, kind) for _, fid, kind in sorted(due)[:limit]]

    def try_lock(self, order_id: str) -> bool:
        """Lock the order row unless another transaction holds it (PostgreSQL: SKIP LOCKED;
        SQLite has one writer at a time, so the lock is always had)."""
        if self.conn.dialect.name != "postgresql":
            return True
        q = select(t.orders.c.id).where(t.orders.c.id == order_id).with_for_update(skip_locked=True)
        return self.execute(q).first() is not None

    def traces(self, order_id: str) -> list[dict[str, Any]]:
        st = t.sourcing_traces
        q = select(st).where(st.c.order_id == order_id).order_by(st.c.round)
        return [
            {"round": r.round, "created_at": as_utc(r.created_at), "trace": r.trace}
            for r in self.execute(q)
        ]

    def reserved_units(self) -> int:
        """Units held by live fulfillments and held promises: must equal the sum of
        stock.reserved."""
        f, fl = t.fulfillments, t.fulfillment_lines
        q = (
            select(func.coalesce(func.sum(fl.c.quantity), 0))
            .select_from(fl.join(f, f.c.id == fl.c.fulfillment_id))
            .where(f.c.state.in_([s.value for s in HOLDING_STATES]))
        )
        held = 0
        for plan in self.execute(
            select(t.promises.c.plan).where(t.promises.c.status == "held")
        ).scalars():
            held += sum(ln["quantity"] for f_ in plan for ln in f_["lines"])
        return int(self.execute(q).scalar_one()) + held

    # -- writes ------------------------------------------------------------------------------
    def add(self, order: Order, request_hash: str) -> None:
        self.staged.add(t.orders, [order_row(order, request_hash)])
        self.staged.add(t.order_lines, line_rows(order))

    def save(self, order: Order) -> None:
        """Write back what changed: the order's status, hold and line counts, and the
        fulfillments its methods changed."""
        self.save_lines(order)
        for fulfillment_id in sorted(order.changed):
            self.save_fulfillment(order.fulfillment(fulfillment_id))
        order.changed.clear()

    def save_lines(self, order: Order) -> None:
        """Write the line counts and the status of an order back."""
        now = utcnow()
        order.updated_at = now
        self.execute(
            t.orders.update()
            .where(t.orders.c.id == order.id)
            .values(
                status=order.status,
                hold_reason=order.hold_reason,
                held_at=order.held_at,
                reroutes=order.reroutes,
                promise_by=order.promise_by,
                updated_at=now,
            )
        )
        ol = t.order_lines
        for i, ln in enumerate(order.lines, start=1):
            self.execute(
                ol.update()
                .where(ol.c.order_id == order.id, ol.c.line_no == i)
                .values(
                    allocated=ln.allocated,
                    backordered=ln.backordered,
                    cancelled=ln.cancelled,
                    shipped=ln.shipped,
                    returned=ln.returned,
                )
            )

    def add_fulfillments(self, fulfillments: Sequence[Fulfillment]) -> None:
        self.staged.add(t.fulfillments, [fulfillment_row(f) for f in fulfillments])
        self.staged.add(
            t.fulfillment_lines,
            [
                {"fulfillment_id": f.id, "sku": ln.sku, "quantity": ln.quantity}
                for f in fulfillments
                for ln in f.lines
            ],
        )

    def save_fulfillment(self, f: Fulfillment) -> None:
        now = utcnow()
        f.updated_at = now
        self.execute(
            t.fulfillments.update()
            .where(t.fulfillments.c.id == f.id)
            .values(
                state=f.state,
                carrier=f.carrier,
                tracking_number=f.tracking_number,
                accept_by=f.accept_by,
                expires_at=f.expires_at,
                rejection_reason=f.rejection_reason,
                rejected_lines=rejected_json(f.rejected_lines),
                updated_at=now,
            )
        )
        fl = t.fulfillment_lines
        self.execute(fl.update().where(fl.c.fulfillment_id == f.id).values(quantity=0))
        for ln in f.lines:
            self.execute(
                fl.update()
                .where(fl.c.fulfillment_id == f.id, fl.c.sku == ln.sku)
                .values(quantity=ln.quantity)
            )

    def add_trace(self, order_id: str, round_: int, trace: dict[str, Any]) -> None:
        self.staged.add(
            t.sourcing_traces,
            [{"order_id": order_id, "round": round_, "trace": trace, "created_at": utcnow()}],
        )
