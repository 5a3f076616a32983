from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from omniorder.domain.delivery import add_working_days, estimate_delivery_date, transit_days
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.ids import new_id
from omniorder.domain.model import ServiceLevel


def test_new_york_to_los_angeles_is_about_3940_km() -> None:
    d = haversine_km(GeoPoint(40.7128, -74.0060), GeoPoint(34.0522, -118.2437))
    assert 3930 < d < 3950


def test_working_days_skip_weekends() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday


def test_farther_ground_shipments_take_longer_and_express_is_faster() -> None:
    assert transit_days(100, ServiceLevel.STANDARD) < transit_days(3000, ServiceLevel.STANDARD)
    assert transit_days(3000, ServiceLevel.EXPRESS) < transit_days(3000, ServiceLevel.STANDARD)


def test_delivery_estimate_is_after_the_order_date() -> None:
    placed = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert estimate_delivery_date(placed, 2500.0, ServiceLevel.STANDARD) > placed.date()


def test_ids_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # one id per millisecond, over a span that crosses many of the time part's digits
    clock = iter(range(1_700_000_000_000, 1_700_000_000_000 + 50 * 7_919, 7_919))
    monkeypatch.setattr("omniorder.domain.ids.time.time_ns", lambda: next(clock) * 1_000_000)
    ids = [new_id("ord") for _ in range(50)]
    assert all(len(i) == 30 and i.startswith("ord_") for i in ids)
    assert len(set(ids)) == 50
    assert sorted(ids) == ids


# -- shipping calendars ------------------------------------------------------------------------

from datetime import time  # noqa: E402

from omniorder.domain.delivery import ShippingCalendar, TransitTable  # noqa: E402

NY = ShippingCalendar(timezone="America/New_York", cutoff=time(15, 0))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_orders_before_the_local_cutoff_start_handling_the_same_day() -> None:
    # Tuesday 2026-11-24 14:00 in New York is 19:00 UTC: before the cut-off
    assert NY.ship_date(at("2026-11-24T19:00:00")) == date(2026, 11, 25)
    # 16:00 in New York (21:00 UTC): after the cut-off, handling starts Wednesday
    assert NY.ship_date(at("2026-11-24T21:00:00")) == date(2026, 11, 26)


def test_weekends_closed_dates_and_handling_days() -> None:
    # Friday after the cut-off: handling starts Monday, ships Tuesday
    assert NY.ship_date(at("2026-11-27T22:00:00")) == date(2026, 12, 1)
    closed = ShippingCalendar(closed_dates=frozenset({date(2026, 11, 26)}))
    # Wednesday before the cut-off (UTC): one handling day, but Thursday is closed
    assert closed.ship_date(at("2026-11-25T09:00:00")) == date(2026, 11, 27)
    same_day = ShippingCalendar(handling_days=0)
    assert same_day.ship_date(at("2026-11-25T09:00:00")) == date(2026, 11, 25)
    weekend = ShippingCalendar(working_days=frozenset(range(7)))
    assert weekend.ship_date(at("2026-11-28T09:00:00")) == date(2026, 11, 29)  # Sat -> Sun


def test_transit_is_counted_in_carrier_days_by_band() -> None:
    table = TransitTable(ground=((500.0, 1), (float("inf"), 3)))
    assert table.days(100, ServiceLevel.STANDARD) == 1
    assert table.days(900, ServiceLevel.STANDARD) == 3
    assert table.arrive(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday
    assert table.days(900, ServiceLevel.PICKUP) == 0
