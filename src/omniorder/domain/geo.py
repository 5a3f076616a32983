"""Distances on the earth's surface."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean earth radius (IUGG)


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in kilometres between two WGS84 points."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distances_from(origin: GeoPoint) -> Callable[[float, float], float]:
    """``haversine_km(origin, (lat, lon))`` as a function of (lat, lon), with the origin's
    trigonometry done once: for measuring many locations from one ship-to point."""
    lat1 = math.radians(origin.latitude)
    cos1 = math.cos(lat1)
    lon1 = origin.longitude
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt

    def km(latitude: float, longitude: float) -> float:
        lat2 = radians(latitude)
        h = sin((lat2 - lat1) / 2) ** 2 + cos1 * cos(lat2) * sin(radians(longitude - lon1) / 2) ** 2
        return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))

    return km
