"""Ship-to points from coordinates or US ZIP codes (offline, the `zipcodes` package)."""

from __future__ import annotations

import functools

import zipcodes

from omniorder.domain.errors import FieldError, ValidationFailed
from omniorder.domain.geo import GeoPoint


@functools.lru_cache(maxsize=4096)
def _zip_point(zip5: str) -> GeoPoint | None:
    try:
        found = zipcodes.matching(zip5)  # type: ignore[no-untyped-call]
    except (TypeError, ValueError):
        return None
    for entry in found:
        lat, lon = entry.get("lat"), entry.get("long")
        if lat and lon:
            return GeoPoint(float(lat), float(lon))
    return None


def resolve_ship_to(
    latitude: float | None,
    longitude: float | None,
    postal_code: str | None,
    country: str | None,
) -> GeoPoint:
    if latitude is not None and longitude is not None:
        return GeoPoint(latitude, longitude)
    if postal_code is None:
        raise ValidationFailed(
            "ship_to needs coordinates or a postal code",
            [FieldError("ship_to", "give latitude and longitude, or postal_code and country")],
        )
    if (country or "US").upper() != "US":
        where = (country or "").upper()
        raise ValidationFailed(
            f"an address in {where} needs ship_to.latitude and ship_to.longitude: postal codes "
            "are looked up for US ZIP codes only",
            [
                FieldError(
                    "ship_to.latitude",
                    f"required for an address in {where} (postal codes are looked up for US "
                    "ZIP codes only)",
                )
            ],
        )
    zip5 = postal_code.strip()[:5]
    point = _zip_point(zip5) if zip5.isdigit() and len(zip5) == 5 else None
    if point is None:
        raise ValidationFailed(
            f"unknown US ZIP code '{postal_code}'",
            [FieldError("ship_to.postal_code", f"unknown US ZIP code '{postal_code}'")],
        )
    return point
