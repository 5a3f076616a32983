"""Locations, products and sourcing profiles."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc, utcnow
from omniorder.db.repositories._util import decode_cursor, insert_for, page
from omniorder.db.repositories.base import Repository
from omniorder.db.staging import StagedInserts
from omniorder.domain.model import Location, LocationType, Product

LOCATION_FIELDS = (
    "name",
    "type",
    "latitude",
    "longitude",
    "country",
    "postal_code",
    "can_ship",
    "can_pickup",
    "daily_capacity",
    "handling_cost",
    "priority",
    "active",
    "timezone",
    "cutoff",
    "working_days",
    "closed_dates",
    "handling_days",
)


def _dates(values: Any) -> tuple[date, ...]:
    return tuple(date.fromisoformat(v) for v in values or ())


def location_from_values(location_id: str, values: Sequence[Any]) -> Location:
    """A location from the values of LOCATION_FIELDS, in that order."""
    data = dict(zip(LOCATION_FIELDS, values, strict=True))
    data["type"] = LocationType(data["type"])
    data["closed_dates"] = _dates(data["closed_dates"])
    return Location(id=location_id, **data)


def location_from_row(row: Any) -> Location:
    return location_from_values(row.id, [getattr(row, f) for f in LOCATION_FIELDS])


class LocationRepository(Repository):
    def get(self, location_id: str) -> Location | None:
        row = self.execute(select(t.locations).where(t.locations.c.id == location_id)).first()
        return None if row is None else location_from_row(row)

    def get_many(self, ids: Iterable[str]) -> dict[str, Location]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.execute(select(t.locations).where(t.locations.c.id.in_(wanted)))
        return {r.id: location_from_row(r) for r in rows}

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        q = select(t.locations.c.id).where(t.locations.c.id.in_(wanted))
        return set(self.execute(q).scalars())

    def put(self, loc: Location) -> bool:
        """Create or replace; returns True when created."""
        now = utcnow()
        values = {f: getattr(loc, f) for f in LOCATION_FIELDS}
        values["type"] = loc.type.value
        values["closed_dates"] = [d.isoformat() for d in loc.closed_dates]
        stmt = insert_for(self.conn, t.locations).values(
            id=loc.id, created_at=now, updated_at=now, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={**values, "updated_at": now}
        ).returning(t.locations.c.created_at == t.locations.c.updated_at)
        created = self.execute(stmt).scalar_one()
        return bool(created)

    def list_page(
        self, limit: int, cursor: str | None, type_: str | None = None, active: bool | None = None
    ) -> tuple[list[Location], str | None]:
        q = select(t.locations).order_by(t.locations.c.id).limit(limit + 1)
        after = decode_cursor(cursor, "locations")
        if after is not None:
            q = q.where(t.locations.c.id > after[0])
        if type_ is not None:
            q = q.where(t.locations.c.type == type_)
        if active is not None:
            q = q.where(t.locations.c.active == active)
        rows = [location_from_row(r) for r in self.execute(q)]
        return page(rows, limit, "locations", lambda loc: [loc.id])

    def last_sequence(self, location_id: str) -> int | None:
        q = select(t.locations.c.inventory_sequence).where(t.locations.c.id == location_id)
        return self.execute(q).scalar_one_or_none()

    def lock_sequences(self, location_ids: Iterable[str]) -> dict[str, int | None]:
        """Read and lock the feed sequence of each location (ordered, so no deadlocks)."""
        ids = sorted(set(location_ids))
        q = (
            select(t.locations.c.id, t.locations.c.inventory_sequence)
            .where(t.locations.c.id.in_(ids))
            .order_by(t.locations.c.id)
        )
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return {r.id: r.inventory_sequence for r in self.execute(q)}

    def set_sequence(self, location_id: str, sequence: int) -> None:
        self.execute(
            t.locations.update()
            .where(t.locations.c.id == location_id)
            .values(inventory_sequence=sequence)
        )

    def fulfillments_today(self, location_ids: Iterable[str]) -> dict[str, int]:
        ids = sorted(set(location_ids))
        if not ids:
            return {}
        start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        f = t.fulfillments
        q = (
            select(f.c.location_id, func.count())
            .where(f.c.location_id.in_(ids), f.c.created_at >= start)
            .group_by(f.c.location_id)
        )
        return {str(row[0]): int(row[1]) for row in self.execute(q)}


def _product(row: Any) -> Product:
    return Product(sku=row.sku, name=row.name, weight_kg=row.weight_kg)


_KNOWN_SKUS: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()
_SKUS_IN = select(t.products.c.sku).where(t.products.c.sku.in_(bindparam("b_skus", expanding=True)))
_PROFILE = select(t.sourcing_profiles).where(t.sourcing_profiles.c.name == bindparam("b_name"))
# The channel's default profile (or 'default') with its current version, in one statement.
_CHANNEL_PROFILE = func.coalesce(
    select(t.channels.c.sourcing_profile)
    .where(t.channels.c.id == bindparam("b_channel"))
    .scalar_subquery(),
    "default",
)
_PROFILE_FOR_CHANNEL = select(
    _CHANNEL_PROFILE.label("name"),
    select(t.sourcing_profiles.c.version)
    .where(t.sourcing_profiles.c.name == _CHANNEL_PROFILE)
    .scalar_subquery()
    .label("version"),
    select(t.sourcing_profiles.c.rules)
    .where(t.sourcing_profiles.c.name == _CHANNEL_PROFILE)
    .scalar_subquery()
    .label("rules"),
)


class ProductRepository(Repository):
    def __init__(self, conn: Connection, staged: StagedInserts) -> None:
        super().__init__(conn, staged)
        self._seen: set[str] = set()

    def get(self, sku: str) -> Product | None:
        row = self.execute(select(t.products).where(t.products.c.sku == sku)).first()
        return None if row is None else _product(row)

    def existing_skus(self, skus: Iterable[str]) -> set[str]:
        # No route deletes a product, so a SKU once found stays found: remember it per engine
        # and ask the database only about SKUs not seen yet.
        known = _KNOWN_SKUS.setdefault(self.conn.engine, set())
        asked = set(skus)
        found = asked & known
        wanted = sorted(asked - found)
        for i in range(0, len(wanted), 900):
            chunk = set(self.execute(_SKUS_IN, {"b_skus": wanted[i : i + 900]}).scalars())
            self._seen |= chunk
            found |= chunk
        return found

    def committed(self) -> None:
        """The transaction committed: what it saw exists for good."""
        _KNOWN_SKUS.setdefault(self.conn.engine, set()).update(self._seen)
        self._seen = set()

    def put(self, product: Product) -> bool:
        now = utcnow()
        values = {"name": product.name, "weight_kg": product.weight_kg}
        stmt = insert_for(self.conn, t.products).values(
            sku=product.sku, created_at=now, updated_at=now, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["sku"], set_={**values, "updated_at": now}
        ).returning(t.products.c.created_at == t.products.c.updated_at)
        return bool(self.execute(stmt).scalar_one())

    def list_page(self, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
        q = select(t.products).order_by(t.products.c.sku).limit(limit + 1)
        after = decode_cursor(cursor, "products")
        if after is not None:
            q = q.where(t.products.c.sku > after[0])
        rows = [_product(r) for r in self.execute(q)]
        return page(rows, limit, "products", lambda p: [p.sku])


class ProfileRepository(Repository):
    def get(self, name: str) -> tuple[int, dict[str, Any]] | None:
        row = self.execute(_PROFILE, {"b_name": name}).first()
        return None if row is None else (row.version, dict(row.rules))

    def put(self, name: str, rules: dict[str, Any]) -> tuple[int, bool]:
        """Store a new version of the profile (and keep it in the history); returns
        (version, created)."""
        now = utcnow()
        stmt = insert_for(self.conn, t.sourcing_profiles).values(
            name=name, version=1, rules=rules, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "version": t.sourcing_profiles.c.version + 1,
                "rules": rules,
                "updated_at": now,
            },
        ).returning(t.sourcing_profiles.c.version)
        version = int(self.execute(stmt).scalar_one())
        self.execute(
            t.sourcing_profile_versions.insert().values(
                name=name, version=version, rules=rules, created_at=now
            )
        )
        return version, version == 1

    def version(self, name: str, version: int) -> tuple[dict[str, Any], datetime] | None:
        """The rules of one stored version and when it was stored."""
        v = t.sourcing_profile_versions
        row = self.execute(
            select(v.c.rules, v.c.created_at).where(v.c.name == name, v.c.version == version)
        ).first()
        return None if row is None else (dict(row.rules), as_utc(row.created_at))

    def for_order(self, name: str | None, channel: str) -> tuple[str, int, dict[str, Any] | None]:
        """The profile an order uses, in one query: ``name``, or when None the channel's
        default, or 'default'. Returns (name, version, rules); rules None when no version of
        that name is stored (version 0)."""
        if name is not None:
            stored = self.get(name)
            return (name, 0, None) if stored is None else (name, stored[0], stored[1])
        row = self.execute(_PROFILE_FOR_CHANNEL, {"b_channel": channel}).first()
        if row is None or row.name is None:
            return "default", 0, None
        if row.version is None:
            return row.name, 0, None
        return row.name, row.version, dict(row.rules)

    def names_after(self, after: str | None, limit: int) -> list[str]:
        """Names of stored profiles, in order, after ``after``."""
        sp = t.sourcing_profiles
        q = select(sp.c.name).order_by(sp.c.name).limit(limit)
        if after is not None:
            q = q.where(sp.c.name > after)
        return list(self.execute(q).scalars())


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    sourcing_profile: str
    created_at: datetime
    updated_at: datetime


class ChannelRepository(Repository):
    def get(self, channel_id: str) -> Channel | None:
        row = self.execute(select(t.channels).where(t.channels.c.id == channel_id)).first()
        return None if row is None else _channel(row)

    def put(self, channel_id: str, sourcing_profile: str) -> tuple[Channel, bool]:
        """Create or update; returns (channel, created)."""
        existing = self.get(channel_id)
        now = utcnow()
        if existing is None:
            self.execute(
                t.channels.insert().values(
                    id=channel_id, sourcing_profile=sourcing_profile, created_at=now, updated_at=now
                )
            )
            return Channel(channel_id, sourcing_profile, now, now), True
        self.execute(
            t.channels.update()
            .where(t.channels.c.id == channel_id)
            .values(sourcing_profile=sourcing_profile, updated_at=now)
        )
        return Channel(channel_id, sourcing_profile, existing.created_at, now), False

    def list_page(self, limit: int, cursor: str | None) -> tuple[list[Channel], str | None]:
        q = select(t.channels).order_by(t.channels.c.id).limit(limit + 1)
        after = decode_cursor(cursor, "channels")
        if after is not None:
            q = q.where(t.channels.c.id > after[0])
        rows = [_channel(r) for r in self.execute(q)]
        return page(rows, limit, "channels", lambda c: [c.id])


def _channel(row: Any) -> Channel:
    return Channel(row.id, row.sourcing_profile, as_utc(row.created_at), as_utc(row.updated_at))
