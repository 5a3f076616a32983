"""Who may touch what: the resource-level half of authorisation (routes check roles)."""

from __future__ import annotations

from collections.abc import Iterable

from omniorder.db.repositories.keys import ApiKey
from omniorder.domain.errors import Forbidden
from omniorder.domain.model import Role


def check_location(principal: ApiKey, location_ids: Iterable[str]) -> None:
    """A ``location`` key acts only on its own locations."""
    if principal.role is not Role.LOCATION:
        return
    own = set(principal.location_ids or ())
    foreign = sorted(set(location_ids) - own)
    if foreign:
        raise Forbidden(f"this key may not act on location(s) {', '.join(foreign)}")


def check_channel(principal: ApiKey, channel: str) -> None:
    """A ``channel`` key bound to a channel acts only on that channel's orders."""
    if principal.role is Role.CHANNEL and principal.channel and principal.channel != channel:
        raise Forbidden(f"this key belongs to channel '{principal.channel}', not '{channel}'")


def visible_channel(principal: ApiKey) -> str | None:
    """The channel a listing is limited to for this key (None: all)."""
    if principal.role is Role.CHANNEL:
        return principal.channel
    return None


def visible_locations(principal: ApiKey) -> tuple[str, ...] | None:
    if principal.role is Role.LOCATION:
        return principal.location_ids or ()
    return None
