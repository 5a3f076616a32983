"""Stock positions and the append-only ledger of every change to on_hand and reserved.

Reservations are conditional updates: the database, not Python, decides whether the units are
still there. Callers touch rows in (location_id, sku) order so that two transactions never wait
on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, text, tuple_

from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.db.repositories._util import decode_cursor, insert_for, page
from omniorder.db.repositories.base import Repository
from omniorder.db.repositories.changes import PositionChanges
from omniorder.db.repositories.ledger import LedgerEntry, read_ledger
from omniorder.db.repositories.ledger import ledger_row as _entry
from omniorder.db.staging import StagedInserts
from omniorder.domain.model import MAX_STOCK, StockPosition

s = t.stock

# Hot-path statements, built once: each call then only binds values.
_RESERVE = (
    s.update()
    .where(
        s.c.location_id == bindparam("b_loc"),
        s.c.sku == bindparam("b_sku"),
        s.c.on_hand - s.c.reserved - s.c.safety_stock >= bindparam("b_qty"),
    )
    .values(reserved=s.c.reserved + bindparam("b_qty"), updated_at=bindparam("b_now"))
    .returning(s.c.on_hand, s.c.reserved, s.c.safety_stock)
)
_UNRESERVE = (
    s.update()
    .where(s.c.location_id == bindparam("b_loc"), s.c.sku == bindparam("b_sku"))
    .values(reserved=s.c.reserved - bindparam("b_qty"))
)
_LOWER_PG = text(
    """
    WITH cur AS MATERIALIZED (
        SELECT location_id, sku, on_hand FROM stock
        WHERE location_id = :b_loc AND sku = :b_sku AND on_hand > reserved
        FOR UPDATE
    )
    UPDATE stock SET on_hand = GREATEST(stock.reserved, cur.on_hand - :b_qty), updated_at = now()
    FROM cur
    WHERE stock.location_id = cur.location_id AND stock.sku = cur.sku
    RETURNING stock.on_hand, stock.reserved, stock.safety_stock, cur.on_hand AS was
    """
)


def _position(row: Any) -> StockPosition:
    return StockPosition(row.location_id, row.sku, row.on_hand, row.reserved, row.safety_stock)


class StockRepository(Repository):
    def __init__(
        self, conn: Connection, staged: StagedInserts, changes: PositionChanges | None = None
    ) -> None:
        super().__init__(conn, staged)
        self._pg = conn.dialect.name == "postgresql"
        #: Every position this unit of work changed (its inventory events at commit).
        self.changes = changes if changes is not None else PositionChanges()

    # -- reads -------------------------------------------------------------------------------
    def get(self, location_id: str, sku: str) -> StockPosition | None:
        q = select(s).where(s.c.location_id == location_id, s.c.sku == sku)
        row = self.execute(q).first()
        return None if row is None else _position(row)

    def lock(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StockPosition]:
        """Read positions for update (PostgreSQL row locks, taken in key order)."""
        ordered = sorted(set(keys))
        found: dict[tuple[str, str], StockPosition] = {}
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            q = (
                select(s)
                .where(tuple_(s.c.location_id, s.c.sku).in_(chunk))
                .order_by(s.c.location_id, s.c.sku)
            )
            if self._pg:
                q = q.with_for_update()
            for row in self.execute(q):
                found[(row.location_id, row.sku)] = _position(row)
        return found

    def lock_skus(self, skus: Iterable[str]) -> None:
        """Lock every position of these SKUs (PostgreSQL), in key order; SQLite's writer lock
        already excludes other writers."""
        wanted = sorted(set(skus))
        if self._pg and wanted:
            q = (
                select(s.c.location_id)
                .where(s.c.sku.in_(wanted))
                .order_by(s.c.location_id, s.c.sku)
                .with_for_update()
            )
            self.execute(q).all()

    def list_page(
        self,
        limit: int,
        cursor: str | None,
        sku: str | None = None,
        location_ids: Sequence[str] | None = None,
    ) -> tuple[list[StockPosition], str | None]:
        q = select(s).order_by(s.c.location_id, s.c.sku).limit(limit + 1)
        after = decode_cursor(cursor, "positions", (str, str))
        if after is not None:
            q = q.where(tuple_(s.c.location_id, s.c.sku) > tuple_(*after))
        if sku is not None:
            q = q.where(s.c.sku == sku)
        if location_ids is not None:
            q = q.where(s.c.location_id.in_(sorted(location_ids)))
        rows = [_position(r) for r in self.execute(q)]
        return page(rows, limit, "positions", lambda p: [p.location_id, p.sku])

    def totals(self) -> tuple[int, int]:
        q = select(
            func.coalesce(func.sum(s.c.on_hand), 0), func.coalesce(func.sum(s.c.reserved), 0)
        )
        on_hand, reserved = self.execute(q).one()
        return int(on_hand), int(reserved)

    def ledger(
        self, location_id: str, sku: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        return read_ledger(self.execute, location_id, sku, limit, cursor)

    # -- writes ------------------------------------------------------------------------------
    def _record(self, entries: list[dict[str, Any]], safety: Sequence[int]) -> None:
        """Ledger rows go in with the unit of work's other staged inserts, at commit; each
        change is noted for the position's event (``safety``: each position's safety stock)."""
        if entries:
            now = utcnow()
            self.staged.add(t.ledger, [{**e, "created_at": now} for e in entries])
            for e, safety_stock in zip(entries, safety, strict=True):
                self.changes.note(
                    e["location_id"],
                    e["sku"],
                    (e["on_hand_after"], e["reserved_after"], safety_stock),
                    e["on_hand_delta"],
                    e["reserved_delta"],
                    e["reason"],
                )

    def reserve_all(
        self, reservations: Sequence[tuple[str, str, int]], reference: str
    ) -> tuple[str, str, int] | None:
        """Reserve each (location_id, sku, qty), all or nothing, only if the units are available
        right now. Returns the reservation that lost its race (and none is kept then), or None
        when all succeeded; the ledger rows are written with the unit of work's other staged
        inserts.

        Rows are touched in key order with one conditional update each. When one is refused,
        the ones already made are taken back by this transaction, which holds their rows
        locked: cheaper than a savepoint around every plan (two more round trips) for a race
        that is rarely lost."""
        wanted: dict[tuple[str, str], int] = {}
        for location_id, sku, qty in reservations:
            wanted[(location_id, sku)] = wanted.get((location_id, sku), 0) + qty
        now = utcnow()
        entries: list[dict[str, Any]] = []
        safety: list[int] = []
        for (location_id, sku), qty in sorted(wanted.items()):
            params = {"b_loc": location_id, "b_sku": sku, "b_qty": qty, "b_now": now}
            row = self.execute(_RESERVE, params).first()
            if row is None:
                for made in entries:
                    self.execute(
                        _UNRESERVE,
                        {
                            "b_loc": made["location_id"],
                            "b_sku": made["sku"],
                            "b_qty": made["reserved_delta"],
                        },
                    )
                return location_id, sku, qty
            entries.append(_entry(location_id, sku, 0, qty, row, "reserve", reference))
            safety.append(row.safety_stock)
        self._record(entries, safety)
        return None

    def release(self, location_id: str, sku: str, qty: int, reason: str, reference: str) -> None:
        stmt = (
            s.update()
            .where(s.c.location_id == location_id, s.c.sku == sku)
            .values(reserved=s.c.reserved - qty, updated_at=utcnow())
            .returning(s.c.on_hand, s.c.reserved, s.c.safety_stock)
        )
        row = self.execute(stmt).one()
        self._record(
            [_entry(location_id, sku, 0, -qty, row, reason, reference)], [row.safety_stock]
        )
        self.wake([sku])

    def consume(self, location_id: str, sku: str, qty: int, reason: str, reference: str) -> None:
        """Units leave the building: on_hand and reserved drop together."""
        stmt = (
            s.update()
            .where(s.c.location_id == location_id, s.c.sku == sku)
            .values(on_hand=s.c.on_hand - qty, reserved=s.c.reserved - qty, updated_at=utcnow())
            .returning(s.c.on_hand, s.c.reserved, s.c.safety_stock)
        )
        row = self.execute(stmt).one()
        entry = _entry(location_id, sku, -qty, -qty, row, reason, reference)
        self._record([entry], [row.safety_stock])

    def adjust(
        self, location_id: str, sku: str, delta: int, reason: str, reference: str | None
    ) -> StockPosition | None:
        """Change on_hand by ``delta``; None when the position would go below zero or above
        ``MAX_STOCK``."""
        now = utcnow()
        if delta >= 0:
            if delta > MAX_STOCK:
                return None
            ins = insert_for(self.conn, s).values(
                location_id=location_id,
                sku=sku,
                on_hand=delta,
                reserved=0,
                safety_stock=0,
                updated_at=now,
            )
            stmt = ins.on_conflict_do_update(
                index_elements=["location_id", "sku"],
                set_={"on_hand": s.c.on_hand + delta, "updated_at": now},
                where=s.c.on_hand <= MAX_STOCK - delta,
            )
        else:
            stmt = (
                s.update()
                .where(s.c.location_id == location_id, s.c.sku == sku, s.c.on_hand + delta >= 0)
                .values(on_hand=s.c.on_hand + delta, updated_at=now)
            )
        row = self.execute(
            stmt.returning(s.c.location_id, s.c.sku, s.c.on_hand, s.c.reserved, s.c.safety_stock)
        ).first()
        if row is None:
            return None
        self._record(
            [_entry(location_id, sku, delta, 0, row, reason, reference)], [row.safety_stock]
        )
        if delta > 0:
            self.wake([sku])
        return _position(row)

    def lower_on_hand(
        self, location_id: str, sku: str, qty: int, reason: str, reference: str
    ) -> tuple[StockPosition, int] | None:
        """Lower on_hand by ``qty`` but never below what is reserved there, in one conditional
        statement (a reservation made meanwhile is never undercut); the ledger gets the change
        actually made. Returns the position and that change; None when nothing changed."""
        found: tuple[int, int, int, int] | None = None
        if self._pg:
            # The locking CTE reads the row as it is once this transaction holds it, so the
            # ledger's delta is exactly the change the UPDATE makes.
            row = self.execute(
                _LOWER_PG, {"b_loc": location_id, "b_sku": sku, "b_qty": qty}
            ).first()
            found = None if row is None else (row[0], row[1], row[2], row[3])
        else:
            # SQLite: this transaction is the only writer (BEGIN IMMEDIATE).
            before = self.get(location_id, sku)
            if before is not None and before.on_hand > before.reserved:
                after = max(before.reserved, before.on_hand - qty)
                self.execute(
                    s.update()
                    .where(s.c.location_id == location_id, s.c.sku == sku)
                    .values(on_hand=after, updated_at=utcnow())
                )
                found = (after, before.reserved, before.safety_stock, before.on_hand)
        if found is None:
            return None
        on_hand, reserved, safety, was = found
        if on_hand == was:
            return None
        pos = StockPosition(location_id, sku, on_hand, reserved, safety)
        entry = _entry(location_id, sku, on_hand - was, 0, pos, reason, reference)
        self._record([entry], [safety])
        return pos, on_hand - was

    def set_many(
        self,
        rows: Sequence[tuple[str, str, int, int | None]],
        reason: str,
        reference: str | None,
    ) -> list[tuple[StockPosition, int]]:
        """Set (location_id, sku, on_hand, safety_stock|None) positions.

        Rows are locked and written in key order. Returns each new position with its on_hand
        delta; the ledger gets one entry per position whose on_hand changed.
        """
        ordered = sorted(rows, key=lambda r: (r[0], r[1]))
        current = self.lock([(r[0], r[1]) for r in ordered])
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        results: list[tuple[StockPosition, int]] = []
        entries: list[dict[str, Any]] = []
        entry_safety: list[int] = []
        for loc, sku, on_hand, safety in ordered:
            old = current.get((loc, sku))
            if old is None:
                pos = StockPosition(loc, sku, on_hand, 0, safety or 0)
                inserts.append(
                    {
                        "location_id": loc,
                        "sku": sku,
                        "on_hand": on_hand,
                        "reserved": 0,
                        "safety_stock": pos.safety_stock,
                        "updated_at": now,
                    }
                )
                delta = on_hand
            else:
                pos = StockPosition(
                    loc, sku, on_hand, old.reserved, old.safety_stock if safety is None else safety
                )
                updates.append(
                    {
                        "b_loc": loc,
                        "b_sku": sku,
                        "on_hand": on_hand,
                        "safety_stock": pos.safety_stock,
                        "updated_at": now,
                    }
                )
                delta = on_hand - old.on_hand
            if delta:
                entries.append(
                    {
                        "location_id": loc,
                        "sku": sku,
                        "on_hand_delta": delta,
                        "reserved_delta": 0,
                        "on_hand_after": on_hand,
                        "reserved_after": pos.reserved,
                        "reason": reason,
                        "reference": reference,
                    }
                )
                entry_safety.append(pos.safety_stock)
            elif old is not None and pos.safety_stock != old.safety_stock:
                after = (pos.on_hand, pos.reserved, pos.safety_stock)
                self.changes.note(loc, sku, after, 0, 0, reason)
            results.append((pos, delta))
        grown = [
            sku
            for (loc, sku, _, safety), (pos, delta) in zip(ordered, results, strict=True)
            if delta > 0
            or (
                safety is not None
                and (old := current.get((loc, sku)))
                and safety < old.safety_stock
            )
        ]
        if inserts:
            self.execute(s.insert(), inserts)
        if updates:
            stmt = (
                s.update()
                .where(and_(s.c.location_id == bindparam("b_loc"), s.c.sku == bindparam("b_sku")))
                .values(
                    on_hand=bindparam("on_hand"),
                    safety_stock=bindparam("safety_stock"),
                    updated_at=bindparam("updated_at"),
                )
            )
            self.execute(stmt, updates)
        self._record(entries, entry_safety)
        self.wake(grown)
        return results

    # -- backorder wake-ups ------------------------------------------------------------------
    def wake(self, skus: Iterable[str]) -> None:
        """Note that these SKUs became more available: their backorders are to be sourced
        again (by the backorder worker, which cannot miss a note written by a commit)."""
        wanted = sorted(set(skus))
        if not wanted:
            return
        now = utcnow()
        w = t.backorder_wakeups
        stmt = insert_for(self.conn, w).values(
            [{"sku": sku, "requested_at": now} for sku in wanted]
        )
        self.execute(stmt.on_conflict_do_nothing(index_elements=["sku"]))

    def take_wakeups(self, limit: int) -> list[str]:
        """Claim up to ``limit`` noted SKUs (deleted now, so only if this transaction commits;
        on PostgreSQL rows another worker holds are skipped)."""
        w = t.backorder_wakeups
        q = select(w.c.sku).order_by(w.c.requested_at, w.c.sku).limit(limit)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        skus = list(self.execute(q).scalars())
        if skus:
            self.execute(w.delete().where(w.c.sku.in_(skus)))
        return skus

    def wakeups_waiting(self) -> bool:
        w = t.backorder_wakeups
        return self.execute(select(w.c.sku).limit(1)).first() is not None

    def skus_at(self, location_id: str) -> list[str]:
        q = select(s.c.sku).where(s.c.location_id == location_id).order_by(s.c.sku)
        return list(self.execute(q).scalars())
