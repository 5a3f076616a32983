"""Invariant checks shared by integration tests."""

from __future__ import annotations

from sqlalchemy import func, select

from omniorder.db import tables as t
from omniorder.services.database import Database


def assert_books_balance(db: Database) -> None:
    """Stock reservations equal what live fulfillments hold; the ledger explains every
    position; nothing is negative; every order line accounts for all its units."""

    def check(uow: object) -> None:
        from omniorder.db.uow import UnitOfWork

        assert isinstance(uow, UnitOfWork)
        conn = uow.conn
        _, reserved = uow.stock.totals()
        assert reserved == uow.orders.reserved_units()
        lg = t.ledger
        sums = {
            (r.location_id, r.sku): (int(r.oh), int(r.rs))
            for r in conn.execute(
                select(
                    lg.c.location_id,
                    lg.c.sku,
                    func.sum(lg.c.on_hand_delta).label("oh"),
                    func.sum(lg.c.reserved_delta).label("rs"),
                ).group_by(lg.c.location_id, lg.c.sku)
            )
        }
        for pos in conn.execute(select(t.stock)):
            assert pos.reserved >= 0 and pos.on_hand >= 0
            assert sums.get((pos.location_id, pos.sku), (0, 0)) == (pos.on_hand, pos.reserved)
        ol = t.order_lines
        for line in conn.execute(select(ol)):
            assert (
                line.allocated + line.backordered + line.cancelled + line.shipped == line.quantity
            )

    db.read(check)
