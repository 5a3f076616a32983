"""Delivery dates: when a location ships, and when the parcel arrives.

A location works on its own calendar (``ShippingCalendar``): its time zone, the daily cut-off
time, its working days of the week, dates it is closed, and its handling days. An order
placed before the cut-off on a working day starts handling that day, otherwise on the next
working day; it ships ``handling_days`` working days after that start (0: the same day).
Transit is counted in carrier working days (Monday to Friday) from the ship date, by service
level and great-circle distance (``TransitTable``; the defaults are documented in
docs/architecture.md). A pickup is ready at the store on the ship date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omniorder.domain.model import ServiceLevel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: (upper bound of the distance band in km, transit working days) for ground shipping.
GROUND_TRANSIT_DAYS: tuple[tuple[float, int], ...] = (
    (150.0, 1),
    (800.0, 2),
    (1600.0, 3),
    (2800.0, 4),
    (float("inf"), 5),
)
#: The same for express: next day within 1,000 km, two days beyond.
EXPRESS_TRANSIT_DAYS: tuple[tuple[float, int], ...] = ((1000.0, 1), (float("inf"), 2))
HANDLING_DAYS = 1
CARRIER_DAYS = frozenset(range(5))  # carriers deliver Monday to Friday


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}'") from exc


@dataclass(frozen=True, slots=True)
class ShippingCalendar:
    timezone: str = "UTC"
    cutoff: time = time(15, 0)
    working_days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    closed_dates: frozenset[date] = frozenset()
    handling_days: int = HANDLING_DAYS

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.closed_dates

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day`` (a calendar without any gives up after a
        year and answers a year later)."""
        for n in range(1, 367):
            candidate = day + timedelta(days=n)
            if self.works_on(candidate):
                return candidate
        return day + timedelta(days=366)

    def ship_date(self, placed_at: datetime) -> date:
        """The date an order placed at ``placed_at`` (naive: UTC) leaves the location."""
        if placed_at.tzinfo is None:
            placed_at = placed_at.replace(tzinfo=UTC)
        local = placed_at.astimezone(zone(self.timezone))
        start = local.date()
        if not self.works_on(start) or local.time() > self.cutoff:
            start = self.next_working_day(start)
        day = start
        for _ in range(self.handling_days):
            day = self.next_working_day(day)
        return day


DEFAULT_CALENDAR = ShippingCalendar()


@dataclass(frozen=True, slots=True)
class TransitTable:
    ground: tuple[tuple[float, int], ...] = GROUND_TRANSIT_DAYS
    express: tuple[tuple[float, int], ...] = EXPRESS_TRANSIT_DAYS
    carrier_days: frozenset[int] = field(default_factory=lambda: CARRIER_DAYS)

    def days(self, distance_km: float | None, service_level: ServiceLevel) -> int:
        if service_level is ServiceLevel.PICKUP or distance_km is None:
            return 0
        bands = self.express if service_level is ServiceLevel.EXPRESS else self.ground
        for bound, days in bands:
            if distance_km <= bound:
                return days
        return bands[-1][1]

    def arrive(self, shipped: date, days: int) -> date:
        day = shipped
        while days > 0:
            day += timedelta(days=1)
            if day.weekday() in self.carrier_days:
                days -= 1
        return day


DEFAULT_TRANSIT = TransitTable()


def add_working_days(start: date, days: int) -> date:
    """``days`` carrier working days (Monday to Friday) after ``start``."""
    return DEFAULT_TRANSIT.arrive(start, days)


def transit_days(distance_km: float | None, service_level: ServiceLevel) -> int:
    return DEFAULT_TRANSIT.days(distance_km, service_level)


def estimate_delivery_date(
    placed_at: datetime,
    distance_km: float | None,
    service_level: ServiceLevel,
    calendar: ShippingCalendar = DEFAULT_CALENDAR,
    transit: TransitTable = DEFAULT_TRANSIT,
) -> date:
    """The date a parcel from a location with ``calendar`` arrives (a pickup: is ready)."""
    shipped = calendar.ship_date(placed_at)
    return transit.arrive(shipped, transit.days(distance_km, service_level))


def parse_weekdays(names: list[str] | tuple[str, ...]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(n) for n in names)


def weekday_names(days: frozenset[int]) -> list[str]:
    return [WEEKDAYS[d] for d in sorted(days)]
