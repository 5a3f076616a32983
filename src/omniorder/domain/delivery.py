"""Estimated delivery dates: handling days at the location plus transit days by distance band.

A first model (documented in docs/architecture.md): one handling day, orders ship on working
days (Monday to Friday), transit by great-circle distance for ground, one or two days express.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from omniorder.domain.model import ServiceLevel

#: (upper bound of the distance band in km, transit working days) for ground shipping.
GROUND_TRANSIT_DAYS: tuple[tuple[float, int], ...] = (
    (150.0, 1),
    (800.0, 2),
    (1600.0, 3),
    (2800.0, 4),
    (float("inf"), 5),
)
HANDLING_DAYS = 1


def add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def transit_days(distance_km: float | None, service_level: ServiceLevel) -> int:
    if service_level is ServiceLevel.PICKUP or distance_km is None:
        return 0
    if service_level is ServiceLevel.EXPRESS:
        return 1 if distance_km <= 1000 else 2
    for bound, days in GROUND_TRANSIT_DAYS:
        if distance_km <= bound:
            return days
    return GROUND_TRANSIT_DAYS[-1][1]


def estimate_delivery_date(
    placed_at: datetime, distance_km: float | None, service_level: ServiceLevel
) -> date:
    days = HANDLING_DAYS + transit_days(distance_km, service_level)
    if service_level is ServiceLevel.PICKUP:
        days = HANDLING_DAYS
    return add_working_days(placed_at.date(), days)
