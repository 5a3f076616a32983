from __future__ import annotations

from datetime import UTC, date, datetime

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


def test_ids_sort_by_creation_time() -> None:
    ids = [new_id("ord") for _ in range(50)]
    assert all(len(i) == 30 and i.startswith("ord_") for i in ids)
    assert len(set(ids)) == 50
