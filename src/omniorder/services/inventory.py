"""Inventory: positions, snapshots with stale-feed protection, adjustments, availability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, FieldError, StaleSequence, ValidationFailed
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import MAX_STOCK, StockPosition
from omniorder.services.catalog import require_known
from omniorder.services.payloads import position_event
from omniorder.services.shortages import resolve_shortages


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


def _check_shortages(
    uow: UnitOfWork, changes: list[tuple[StockPosition, int]], reason: str
) -> None:
    """A count below what is reserved at a position is a shortage (an event), and open
    fulfillments there give their units up until the reservations fit again. (Every changed
    position's ``inventory.updated`` event is published at commit.)"""
    short = []
    for pos, delta in changes:
        if pos.on_hand < pos.reserved:
            uow.emit(
                "inventory.shortage",
                f"{pos.location_id}/{pos.sku}",
                position_event(pos, delta, reason),
            )
            short.append((pos.location_id, pos.sku))
    if short:
        resolve_shortages(uow, short)


def grow(
    uow: UnitOfWork,
    location_id: str,
    sku: str,
    units: int,
    reason: str,
    reference: str | None,
    field: str,
) -> StockPosition:
    """Add ``units`` to on_hand (a receipt, a return, a positive adjustment); a 422 naming
    ``field`` when the count would pass the largest one a position holds."""
    pos = uow.stock.adjust(location_id, sku, units, reason, reference)
    if pos is None:
        current = uow.stock.get(location_id, sku)
        raise ValidationFailed(
            "the count would pass the largest a position holds",
            [
                FieldError(
                    field,
                    f"on_hand of {sku} at {location_id} is "
                    f"{0 if current is None else current.on_hand}; adding {units} would pass "
                    f"{MAX_STOCK:,}",
                )
            ],
        )
    return pos


def put_position(
    uow: UnitOfWork, location_id: str, sku: str, on_hand: int, safety_stock: int | None
) -> StockPosition:
    require_known(uow, skus=[("sku", sku)], locations=[("location_id", location_id)])
    changes = uow.stock.set_many([(location_id, sku, on_hand, safety_stock)], "set", None)
    _check_shortages(uow, changes, "set")
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
    _check_shortages(uow, changed, "snapshot")
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
    if delta > 0:
        return grow(uow, location_id, sku, delta, "adjustment", reason, "delta")
    pos = uow.stock.adjust(location_id, sku, delta, "adjustment", reason)
    if pos is None:
        current = uow.stock.get(location_id, sku)
        on_hand = 0 if current is None else current.on_hand
        raise Conflict(
            f"adjustment {delta} would take on_hand of {sku} at {location_id} below zero "
            f"(on hand {on_hand})"
        )
    _check_shortages(uow, [(pos, delta)], f"adjustment:{reason}")
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
    positions, locs = uow.candidates.with_locations(skus)
    by_sku: dict[str, list[LocationAvailability]] = {s: [] for s in skus}
    for p in positions:
        loc = locs.get(p.location_id)
        if loc is None or not loc.active or p.available <= 0:
            continue
        dist = None if point is None else round(haversine_km(point, loc.point), 3)
        by_sku[p.sku].append(LocationAvailability(p.location_id, p.available, dist))
    coming: dict[str, list[IncomingAvailability]] = {s: [] for s in skus}
    for r in uow.incoming.open_for(skus):
        coming[r.sku].append(IncomingAvailability(r.location_id, r.quantity, r.expected_date))
    out = []
    for sku in dict.fromkeys(skus):
        entries = by_sku[sku]
        if point is not None:
            entries.sort(key=lambda e: (e.distance_km or 0.0, e.location_id))
        out.append(SkuAvailability(sku, sum(e.available for e in entries), entries, coming[sku]))
    return out
