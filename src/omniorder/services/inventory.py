"""Inventory: positions, snapshots with stale-feed protection, adjustments, availability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, FieldError, StaleSequence, ValidationFailed
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import StockPosition


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    location_id: str
    sku: str
    on_hand: int
    safety_stock: int | None = None


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    applied: int
    changed: int
    zeroed: int
    sequence: int | None


def position_event(pos: StockPosition, delta: int, reason: str) -> dict[str, object]:
    return {
        "location_id": pos.location_id,
        "sku": pos.sku,
        "on_hand": pos.on_hand,
        "reserved": pos.reserved,
        "safety_stock": pos.safety_stock,
        "available": pos.available,
        "on_hand_delta": delta,
        "reason": reason,
    }


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


def _emit_changes(uow: UnitOfWork, changes: list[tuple[StockPosition, int]], reason: str) -> None:
    for pos, delta in changes:
        uow.emit(
            "inventory.updated", f"{pos.location_id}/{pos.sku}", position_event(pos, delta, reason)
        )
        if pos.on_hand < pos.reserved:
            uow.emit(
                "inventory.shortage",
                f"{pos.location_id}/{pos.sku}",
                position_event(pos, delta, reason),
            )


def put_position(
    uow: UnitOfWork, location_id: str, sku: str, on_hand: int, safety_stock: int | None
) -> StockPosition:
    require_known(uow, skus=[("sku", sku)], locations=[("location_id", location_id)])
    changes = uow.stock.set_many([(location_id, sku, on_hand, safety_stock)], "set", None)
    _emit_changes(uow, changes, "set")
    return changes[0][0]


def apply_snapshot(
    uow: UnitOfWork,
    rows: Sequence[SnapshotRow],
    sequence: int | None,
    full_location_id: str | None = None,
) -> SnapshotResult:
    """Apply a snapshot atomically; refuse it whole if it is older than one already applied."""
    seen: dict[tuple[str, str], int] = {}
    errors: list[FieldError] = []
    for i, r in enumerate(rows):
        if (r.location_id, r.sku) in seen:
            errors.append(
                FieldError(
                    f"items[{i}]",
                    f"duplicate of items[{seen[(r.location_id, r.sku)]}] "
                    f"({r.location_id}, {r.sku})",
                )
            )
        seen.setdefault((r.location_id, r.sku), i)
        if full_location_id is not None and r.location_id != full_location_id:
            errors.append(
                FieldError(
                    f"items[{i}].location_id",
                    f"a full snapshot covers location '{full_location_id}' only",
                )
            )
    if errors:
        raise ValidationFailed("the snapshot is not consistent", errors)
    loc_fields = [(f"items[{i}].location_id", r.location_id) for i, r in enumerate(rows)]
    if full_location_id is not None:
        loc_fields.append(("location_id", full_location_id))
    require_known(
        uow,
        skus=[(f"items[{i}].sku", r.sku) for i, r in enumerate(rows)],
        locations=loc_fields,
    )
    location_ids = {r.location_id for r in rows} | (
        {full_location_id} if full_location_id else set()
    )
    if sequence is not None:
        last = uow.locations.lock_sequences(location_ids)
        stale = {loc: seq for loc, seq in last.items() if seq is not None and seq > sequence}
        if stale:
            detail = ", ".join(f"{loc} is at {seq}" for loc, seq in sorted(stale.items()))
            raise StaleSequence(
                f"snapshot sequence {sequence} is older than applied ones: {detail}"
            )
    target = [(r.location_id, r.sku, r.on_hand, r.safety_stock) for r in rows]
    zeroed = 0
    if full_location_id is not None:
        listed = {r.sku for r in rows}
        missing = [s for s in uow.stock.skus_at(full_location_id) if s not in listed]
        target += [(full_location_id, s, 0, None) for s in missing]
        zeroed = len(missing)
    reference = None if sequence is None else f"snapshot:{sequence}"
    changes = uow.stock.set_many(target, "snapshot", reference)
    changed = [(p, d) for p, d in changes if d != 0]
    _emit_changes(uow, changed, "snapshot")
    if sequence is not None:
        for loc in sorted(location_ids):
            uow.locations.set_sequence(loc, sequence)
    result = SnapshotResult(len(rows), len(changed), zeroed, sequence)
    uow.emit(
        "inventory.snapshot_applied",
        None,
        {
            "locations": sorted(location_ids),
            "rows": len(rows),
            "changed": len(changed),
            "zeroed": zeroed,
            "sequence": sequence,
            "mode": "full" if full_location_id else "delta",
        },
    )
    return result


def adjust(uow: UnitOfWork, location_id: str, sku: str, delta: int, reason: str) -> StockPosition:
    require_known(uow, skus=[("sku", sku)], locations=[("location_id", location_id)])
    pos = uow.stock.adjust(location_id, sku, delta, "adjustment", reason)
    if pos is None:
        current = uow.stock.get(location_id, sku)
        on_hand = 0 if current is None else current.on_hand
        raise Conflict(
            f"adjustment {delta} would take on_hand of {sku} at {location_id} below zero "
            f"(on hand {on_hand})"
        )
    _emit_changes(uow, [(pos, delta)], f"adjustment:{reason}")
    return pos


@dataclass(frozen=True, slots=True)
class LocationAvailability:
    location_id: str
    available: int
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class IncomingAvailability:
    location_id: str
    quantity: int
    expected_date: date


@dataclass(frozen=True, slots=True)
class SkuAvailability:
    sku: str
    available: int
    locations: list[LocationAvailability]
    #: Supply on its way and not received yet, earliest first.
    incoming: list[IncomingAvailability] = field(default_factory=list)


def availability(
    uow: UnitOfWork, skus: Sequence[str], point: GeoPoint | None
) -> list[SkuAvailability]:
    require_known(uow, skus=[(f"sku[{i}]", s) for i, s in enumerate(skus)])
    positions, locs = uow.stock.with_locations(skus)
    by_sku: dict[str, list[LocationAvailability]] = {s: [] for s in skus}
    for p in positions:
        loc = locs.get(p.location_id)
        if loc is None or not loc.active or p.available <= 0:
            continue
        dist = None if point is None else round(haversine_km(point, loc.point), 3)
        by_sku[p.sku].append(LocationAvailability(p.location_id, p.available, dist))
    coming: dict[str, list[IncomingAvailability]] = {s: [] for s in skus}
    inc = t.incoming
    q = (
        select(inc.c.sku, inc.c.location_id, inc.c.quantity, inc.c.expected_date)
        .where(inc.c.sku.in_(list(skus)), inc.c.received_at.is_(None))
        .order_by(inc.c.expected_date, inc.c.id)
    )
    for r in uow.conn.execute(q):
        coming[r.sku].append(IncomingAvailability(r.location_id, r.quantity, r.expected_date))
    out = []
    for sku in dict.fromkeys(skus):
        entries = by_sku[sku]
        if point is not None:
            entries.sort(key=lambda e: (e.distance_km or 0.0, e.location_id))
        out.append(SkuAvailability(sku, sum(e.available for e in entries), entries, coming[sku]))
    return out
