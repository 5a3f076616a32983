"""KPIs over real orders, computed by hand on a small network."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from omniorder.db.clock import utcnow
from omniorder.services import fulfillments as svc
from omniorder.services import orders, stats
from omniorder.services.database import Database
from tests.factories import seed_network
from tests.integration.test_orders import cmd


def test_kpis_over_orders(db: Database) -> None:
    seed_network(
        db,
        {("NEWARK", "A"): 5, ("NYC", "B"): 1, ("DALLAS", "C"): 1},
        stores=("NYC",),
    )
    db.write(lambda uow: orders.place_order(uow, cmd("W1", {"A": 2})))
    split, _ = db.write(lambda uow: orders.place_order(uow, cmd("W2", {"A": 1, "B": 1})))
    short, _ = db.write(
        lambda uow: orders.place_order(
            uow, cmd("W3", {"C": 3}, promise_by=date.today() + timedelta(days=30))
        )
    )
    assert len(split.fulfillments) == 2 and short.status == "partially_allocated"
    rejected = next(f for f in split.fulfillments if f.location_id == "NYC")
    db.write(lambda uow: svc.reject(uow, rejected.id, None, "damaged"))  # B nowhere else

    got = db.read(lambda uow: stats.kpis(uow, None, None, None))
    assert got["orders"] == 3
    # W2 now ships A from NEWARK only (its B was rejected and is backordered)
    assert got["split_rate"] == 0
    assert got["fulfillments_per_order"] == pytest.approx(3 / 3)
    # units ordered 2 + 2 + 3 = 7; allocated 2 + 1 + 1 = 4
    assert got["fill_rate"] == pytest.approx(4 / 7, abs=1e-6)
    assert got["short_ship_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert got["store_share"] == 0
    assert got["orders_with_promise"] == 1 and got["on_time_rate"] == 1.0
    assert got["cost"]["total"] > 0
    assert got["cost"]["total"] == pytest.approx(
        sum(v for k, v in got["cost"].items() if k != "total"), abs=1e-4
    )
    # a window that holds nothing
    later = db.read(lambda uow: stats.kpis(uow, utcnow() + timedelta(days=1), None, None))
    assert later["orders"] == 0 and later["split_rate"] is None
    assert db.read(lambda uow: stats.kpis(uow, None, None, "app"))["orders"] == 0
