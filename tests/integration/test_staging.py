"""Staged inserts: written together at commit, dropped with a rolled-back savepoint or a failed
statement, visible to reads of the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from omniorder.db import tables as t
from omniorder.db.clock import utcnow
from omniorder.db.uow import UnitOfWork
from omniorder.services.database import Database
from omniorder.services.events import feed
from tests.factories import seed_network

ORDER_ROW = {
    "channel": "web",
    "status": "backordered",
    "service_level": "standard",
    "ship_to_latitude": 40.7,
    "ship_to_longitude": -74.0,
    "ship_to_postal_code": None,
    "ship_to_country": "US",
    "pickup_location_id": None,
    "sourcing_profile": "default",
    "request_hash": "0" * 64,
    "hold_reason": None,
    "reroutes": 0,
}


def order_row(order_id: str) -> dict[str, object]:
    now = utcnow()
    return {
        **ORDER_ROW,
        "id": order_id,
        "external_id": order_id,
        "created_at": now,
        "updated_at": now,
    }


def line_row(order_id: str, line_no: int, sku: str = "A") -> dict[str, object]:
    return {
        "order_id": order_id,
        "line_no": line_no,
        "sku": sku,
        "quantity": 2,
        "allocated": 0,
        "backordered": 2,
        "cancelled": 0,
        "shipped": 0,
        "returned": 0,
    }


def count(db: Database, table: str) -> int:
    return db.read(
        lambda uow: int(
            uow.conn.execute(
                select(func.count()).select_from(t.metadata.tables[table])
            ).scalar_one()
        )
    )


def test_parents_and_children_are_written_together_at_commit(db: Database) -> None:
    sent: list[str] = []

    def run(uow: UnitOfWork) -> None:
        event.listen(uow.conn, "before_cursor_execute", lambda *args: sent.append(args[2]))
        # children staged before their parent: the flush orders tables by their foreign keys
        uow.staged.add(t.order_lines, [line_row("ord_1", 1), line_row("ord_1", 2, "B")])
        uow.staged.add(t.orders, [order_row("ord_1")])
        assert sent == []  # nothing travels while it is only staged

    db.write(run)
    assert count(db, "orders") == 1
    assert count(db, "order_lines") == 2
    inserts = [s for s in sent if "INSERT" in s.upper()]
    assert len(inserts) == (1 if db.engine.dialect.name == "postgresql" else 2)


def test_every_repository_statement_sees_what_was_staged_before_it(db: Database) -> None:
    def run(uow: UnitOfWork) -> None:
        uow.staged.add(t.orders, [order_row("ord_1")])
        assert uow.orders.count_by_status() == {"backordered": 1}  # a read of another shape
        uow.staged.add(t.order_lines, [line_row("ord_1", 1), line_row("ord_1", 2, "B")])
        order = uow.orders.get("ord_1")
        assert order is not None and len(order.lines) == 2
        order.lines[0].backordered, order.lines[0].cancelled = 0, 2
        uow.staged.add(
            t.sourcing_traces,
            [{"order_id": "ord_1", "round": 1, "trace": {}, "created_at": utcnow()}],
        )
        uow.orders.save_lines(order)  # an update, after something else was staged
        assert [r["round"] for r in uow.orders.traces("ord_1")] == [1]

    db.write(run)
    assert count(db, "order_lines") == 2 and count(db, "sourcing_traces") == 1


def test_a_rolled_back_savepoint_drops_what_it_staged(db: Database) -> None:
    def run(uow: UnitOfWork) -> None:
        uow.staged.add(t.orders, [order_row("ord_kept")])
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.staged.add(t.orders, [order_row("ord_dropped")])
            uow.emit("test.dropped", "ord_dropped", {})
            raise RuntimeError("roll the savepoint back")
        uow.emit("test.kept", "ord_kept", {})

    db.write(run)
    ids = db.read(lambda uow: list(uow.conn.execute(select(t.orders.c.id)).scalars()))
    assert ids == ["ord_kept"]
    assert [e.type for e in feed(db, 0, 10)] == ["test.kept"]


def test_a_failed_flush_writes_nothing(db: Database) -> None:
    """A line whose order does not exist fails the foreign key: no row of the statement stays."""

    def run(uow: UnitOfWork) -> None:
        uow.staged.add(t.orders, [order_row("ord_1")])
        uow.staged.add(t.order_lines, [line_row("ord_1", 1), line_row("ord_missing", 1)])

    with pytest.raises(IntegrityError), db.uow() as uow:
        run(uow)
        uow.commit()
    assert count(db, "orders") == 0
    assert count(db, "order_lines") == 0


def test_reads_of_the_same_transaction_see_staged_rows(db: Database) -> None:
    def run(uow: UnitOfWork) -> None:
        uow.staged.add(t.orders, [order_row("ord_1")])
        uow.staged.add(t.order_lines, [line_row("ord_1", 1)])
        order = uow.orders.get("ord_1")
        assert order is not None
        assert [(ln.sku, ln.quantity) for ln in order.lines] == [("A", 2)]

    db.write(run)


def test_events_keep_the_order_they_were_emitted_in(db: Database) -> None:
    seed_network(db, {("NYC", "A"): 1})

    def run(uow: UnitOfWork) -> None:
        for i in range(50):
            uow.emit("test.numbered", f"agg_{i}", {"i": i, "at": utcnow().isoformat()})

    db.write(run)
    events = feed(db, 0, 500, ["test.numbered"])
    assert [e.data["i"] for e in events] == list(range(50))
