"""Locations, products, sourcing profiles and channels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omniorder.db.repositories.catalog import Channel
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import FieldError, NotFound, ValidationFailed
from omniorder.domain.model import Location, Product
from omniorder.domain.sourcing import ALL_LOCATION_TYPES, PROFILE_RULES, SourcingProfile
from omniorder.services.payloads import channel_dict, location_dict, product_dict, profile_dict


def require_known(
    uow: UnitOfWork,
    skus: Sequence[tuple[str, str]] = (),
    locations: Sequence[tuple[str, str]] = (),
) -> None:
    """Raise one 422 naming every unknown SKU and location, each with the field it came from."""
    errors: list[FieldError] = []
    known_skus = uow.products.existing_skus(s for _, s in skus)
    errors += [FieldError(f, f"unknown SKU '{s}'") for f, s in skus if s not in known_skus]
    known_locs = uow.locations.existing_ids(loc for _, loc in locations)
    errors += [
        FieldError(f, f"unknown location '{loc}'") for f, loc in locations if loc not in known_locs
    ]
    if errors:
        raise ValidationFailed("the request names unknown SKUs or locations", errors)


def put_location(uow: UnitOfWork, loc: Location) -> tuple[Location, bool]:
    created = uow.locations.put(loc)
    uow.emit("location.created" if created else "location.updated", loc.id, location_dict(loc))
    return loc, created


def get_location(uow: UnitOfWork, location_id: str) -> Location:
    loc = uow.locations.get(location_id)
    if loc is None:
        raise NotFound(f"location '{location_id}' does not exist")
    return loc


def put_product(uow: UnitOfWork, product: Product) -> tuple[Product, bool]:
    created = uow.products.put(product)
    uow.emit(
        "product.created" if created else "product.updated", product.sku, product_dict(product)
    )
    return product, created


def get_product(uow: UnitOfWork, sku: str) -> Product:
    product = uow.products.get(sku)
    if product is None:
        raise NotFound(f"product '{sku}' does not exist")
    return product


DEFAULT_PROFILE = "default"
#: Profiles that always exist (as version 0, until a version is stored under their name).
#: ``default``: least total cost (parcels, handling, units, distance, backorders), which may
#: ship from a far warehouse rather than a nearby store that charges handling.
#: ``fastest``: lateness and distance weigh heavily, so it ships from the nearest stock that
#: keeps the order's promised date (``promise_by``): a day late costs 40 per parcel, 1,000 km
#: 5 per unit (the default: 0.34), which outweighs a store's handling cost; a unit left
#: unfilled costs 1,000, so it ships late from far away rather than backorder.
BUILT_IN_PROFILES = {
    DEFAULT_PROFILE: SourcingProfile(name=DEFAULT_PROFILE, version=0),
    "fastest": SourcingProfile(
        name="fastest",
        version=0,
        unit_km_cost=0.005,
        backorder_penalty=1000.0,
        late_day_cost=40.0,
    ),
}


def profile_from_rules(name: str, version: int, rules: dict[str, Any]) -> SourcingProfile:
    values = {k: v for k, v in rules.items() if k in PROFILE_RULES}
    if "location_types" in values:
        values["location_types"] = frozenset(values["location_types"])
    return SourcingProfile(name=name, version=version, **values)


def get_profile(uow: UnitOfWork, name: str) -> SourcingProfile:
    stored = uow.profiles.get(name)
    if stored is not None:
        return profile_from_rules(name, stored[0], stored[1])
    if name in BUILT_IN_PROFILES:
        return BUILT_IN_PROFILES[name]
    raise NotFound(f"sourcing profile '{name}' does not exist")


def list_profiles(
    uow: UnitOfWork, limit: int, after: str | None
) -> tuple[list[SourcingProfile], str | None]:
    """Profiles in their current versions, by name after ``after``, built-in ones included;
    and the name to continue after when more follow."""
    stored = uow.profiles.names_after(after, limit + 1)
    names = sorted({*stored, *(n for n in BUILT_IN_PROFILES if after is None or n > after)})
    more = len(names) > limit
    names = names[:limit]
    return [get_profile(uow, n) for n in names], (names[-1] if more else None)


def resolve_profile(uow: UnitOfWork, name: str | None, channel: str) -> SourcingProfile:
    """The profile an order uses: the one it names, else its channel's default, else
    'default'; one query."""
    resolved, version, rules = uow.profiles.for_order(name, channel)
    if rules is not None:
        return profile_from_rules(resolved, version, rules)
    if resolved in BUILT_IN_PROFILES:
        return BUILT_IN_PROFILES[resolved]
    raise NotFound(f"sourcing profile '{resolved}' does not exist")


def profile_version(
    uow: UnitOfWork, name: str, version: int
) -> tuple[SourcingProfile, datetime | None]:
    """One stored version of a profile and when it was stored (version 0 of a built-in
    profile is never stored)."""
    stored = uow.profiles.version(name, version)
    if stored is not None:
        return profile_from_rules(name, version, stored[0]), stored[1]
    if name in BUILT_IN_PROFILES and version == 0:
        return BUILT_IN_PROFILES[name], None
    raise NotFound(f"sourcing profile '{name}' has no version {version}")


def put_channel(uow: UnitOfWork, channel_id: str, sourcing_profile: str) -> tuple[Channel, bool]:
    """Set the profile a channel's orders use when they name none; the profile must exist."""
    try:
        get_profile(uow, sourcing_profile)
    except NotFound as exc:
        raise ValidationFailed(
            "unknown sourcing profile",
            [FieldError("sourcing_profile", f"unknown sourcing profile '{sourcing_profile}'")],
        ) from exc
    channel, created = uow.channels.put(channel_id, sourcing_profile)
    uow.emit("channel.updated", channel_id, channel_dict(channel))
    return channel, created


def get_channel(uow: UnitOfWork, channel_id: str) -> Channel:
    channel = uow.channels.get(channel_id)
    if channel is None:
        raise NotFound(f"channel '{channel_id}' does not exist")
    return channel


def put_profile(uow: UnitOfWork, name: str, rules: dict[str, Any]) -> tuple[SourcingProfile, bool]:
    unknown_types = sorted(set(rules.get("location_types", [])) - ALL_LOCATION_TYPES)
    if unknown_types:
        raise ValidationFailed(
            "unknown location type(s)",
            [FieldError("location_types", f"unknown type '{t}'") for t in unknown_types],
        )
    version, created = uow.profiles.put(name, rules)
    profile = profile_from_rules(name, version, rules)
    uow.emit("sourcing_profile.updated", name, profile_dict(profile))
    return profile, created
