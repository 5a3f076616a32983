"""The built-in profiles: `default` takes the least total cost, which may be a far warehouse
rather than a near store that charges handling; `fastest` takes the nearest stock that keeps
the promised date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from omniorder.domain.model import LocationType
from omniorder.domain.sourcing import plan
from omniorder.services.catalog import BUILT_IN_PROFILES
from tests.unit.test_sourcing import cand, ship

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DEFAULT, FASTEST = BUILT_IN_PROFILES["default"], BUILT_IN_PROFILES["fastest"]


def near_store_far_warehouse(**store: object) -> list[object]:
    return [
        cand("NEWARK", {"A": 5}, type=LocationType.STORE, handling_cost=3.0, **store),
        cand("CHICAGO", {"A": 5}),
    ]


def chosen(profile: object, candidates: list[object], **request: object) -> list[str]:
    result = plan(ship({"A": 1}, placed_at=MONDAY, **request), candidates, profile)  # type: ignore[arg-type]
    return [a.location_id for a in result.plan.allocations]


def test_default_ships_from_the_far_warehouse_to_save_the_stores_handling() -> None:
    assert chosen(DEFAULT, near_store_far_warehouse()) == ["CHICAGO"]


def test_fastest_ships_from_the_nearest_stock() -> None:
    assert chosen(FASTEST, near_store_far_warehouse()) == ["NEWARK"]


def test_fastest_passes_over_near_stock_that_would_break_the_promise() -> None:
    slow_store = near_store_far_warehouse(handling_days=10)
    promise = MONDAY.date() + timedelta(days=4)
    assert chosen(FASTEST, slow_store, promise_by=promise) == ["CHICAGO"]
    # without a promise date, distance alone decides
    assert chosen(FASTEST, slow_store) == ["NEWARK"]


def test_fastest_still_ships_from_far_away_rather_than_backorder() -> None:
    far_only = [cand("LA", {"A": 5})]
    assert chosen(FASTEST, far_only, promise_by=date(2026, 12, 8)) == ["LA"]
